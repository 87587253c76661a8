"""Alert rules as configuration: the rules file, its schema and its loader.

A rules file is TOML (the default is `twin/rules/zhanjiang_alerts.toml`, shipped as package data)::

    [defaults]
    escalate_after_min = 10.0          # an unacknowledged warning becomes an alarm after this

    [rules.speed_channel]
    kind = "channel_speed"             # one of KINDS, decides which check runs and its keys
    priority = "warning"               # IMO MSC.302(87): emergency_alarm | alarm | warning | caution
    limit_kn = 12.0
    limit_kn_by_segment = { CH-IN-2 = 10.0 }

Every rule has `kind`, `priority`, optional `enabled` (default true) and `escalate` (default true:
a warning escalates after `escalate_after_min`, the rule's own value or the default). The other
keys depend on the kind (`KINDS`); a key missing there takes the default written in `KINDS`.

Errors are loud: `RulesFileError` names the file, the line and the key, for TOML syntax errors
(from tomllib's line and column), unknown keys, wrong types and bad values alike. The loader keeps
the line of each key so that checks which need the port model (unknown area ids) can name it too.
Reading a rules file is the only I/O here, and only when `load_rules` is called.
"""

from __future__ import annotations

import itertools
import math
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from twin.engine import ship_class_of
from twin.state import HOUR_US, US, VesselState
from twin.ukc_live import UkcSettings, by_class, live_ukc_of, observed_surge_m

if TYPE_CHECKING:
    import xarray as xr

    from twin.engine import Engine
    from twin.port import Port

PRIORITIES: tuple[str, ...] = ("emergency_alarm", "alarm", "warning", "caution")  # most urgent first
PRIORITY_RANK: dict[str, int] = {p: len(PRIORITIES) - i for i, p in enumerate(PRIORITIES)}

# Type tags of the schema: "float" takes ints too; "table:float" is a table of floats keyed by any
# name; "list:str" a list of strings; "pairs" a list of [x, y] number pairs.
Schema = dict[str, tuple[str, Any]]

COMMON: Schema = {
    "kind": ("str", None),
    "priority": ("str", None),
    "enabled": ("bool", True),
    "escalate": ("bool", True),
    "escalate_after_min": ("float", None),
}

KINDS: dict[str, Schema] = {
    "ukc": {
        "no_go_priority": ("str", "emergency_alarm"),  # when the keel would touch (net UKC < 0)
        "outer_pct": ("float", 15.0),  # required net UKC, % of draught, outer channel
        "inner_pct": ("float", 10.0),
        "minimum_m": ("float", 0.0),
        "clear_margin_m": ("float", 0.2),  # hysteresis: clears at required + this
        "squat_method": ("str", "barrass-confined"),
        "cb_by_class": ("table:float", {"default": 0.80}),
        "length_beam_ratio_by_class": ("table:float", {"default": 6.5}),
        "use_observed_tide": ("bool", True),
    },
    "restricted_zone": {
        "areas": ("list:str", []),  # ids of anchorages, zones, channel segments or berths
        "except_classes": ("list:str", []),
        "only_classes": ("list:str", []),
        "min_dwell_s": ("float", 60.0),
        "clear_after_s": ("float", 60.0),
    },
    "anchor_wait": {
        "hours_by_class": ("table:float", {"default": 36.0}),
    },
    "channel_speed": {
        "limit_kn": ("float", 12.0),
        "limit_kn_by_segment": ("table:float", {}),
        "clear_margin_kn": ("float", 0.5),
        "min_duration_s": ("float", 30.0),
    },
    "one_way": {
        "dwt_by_length": (
            "pairs",
            [
                [190.0, 50_000.0],
                [245.0, 100_000.0],
                [275.0, 150_000.0],
                [300.0, 200_000.0],
                [330.0, 300_000.0],
                [360.0, 400_000.0],
            ],
        ),
    },
    "dark": {
        "ignore_ship_types": ("list:int", [31, 32, 50, 51, 52, 53, 54, 55, 58]),
        "ignore_phases": ("list:str", []),
    },
    "gate_queue": {
        "queue_max": ("float", 20.0),
        "queue_max_by_gate": ("table:float", {}),
        "clear_margin": ("float", 3.0),
    },
    "truck_turn_time": {
        "turn_time_max_min": ("float", 90.0),
        "window_min": ("float", 60.0),
        "min_turns": ("int", 3),
        "clear_margin_min": ("float", 5.0),
    },
    "customs_clearance": {
        "target_h_by_channel": ("table:float", {"default": 24.0}),
    },
    "feed_stale": {
        "feeds": ("list:str", ["ais", "gate", "customs", "tide"]),
        "startup_grace_s": ("float", 1200.0),
    },
}

DEFAULTS_SCHEMA: Schema = {"escalate_after_min": ("float", None)}
FEED_NAMES = ("ais", "gate", "customs", "tide")


class RulesFileError(ValueError):
    """A rules file that cannot be used; the message names the file, the line and the key."""

    def __init__(self, path: str, line: int | None, key: str | None, problem: str) -> None:
        self.path, self.line, self.key, self.problem = path, line, key, problem
        where = path if line is None else f"{path}, line {line}"
        what = "" if key is None else f" key {key!r}:"
        super().__init__(f"{where}:{what} {problem}")


@dataclass(frozen=True)
class RuleSpec:
    """One configured rule: its id, kind, priority, escalation and the kind's parameters.

    `escalate_after_s` is None when the rule never escalates. `lines` maps each key (also
    `[rules.<id>]` as "") to its line in the file, for later error messages.
    """

    id: str
    kind: str
    priority: str
    enabled: bool
    escalate_after_s: float | None
    params: dict[str, Any]
    source: str = "<rules>"
    lines: dict[str, int] = field(default_factory=dict)

    def error(self, key: str, problem: str) -> RulesFileError:
        """A `RulesFileError` about `key` of this rule, at its line in the file."""
        return RulesFileError(
            self.source, self.lines.get(key, self.lines.get("")), f"rules.{self.id}.{key}", problem
        )


@dataclass(frozen=True)
class RuleSet:
    """The rules of one file, in file order."""

    rules: tuple[RuleSpec, ...]
    source: str = "<rules>"

    def by_id(self, rule_id: str) -> RuleSpec:
        """The rule with this id; KeyError naming the known ids."""
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(f"no rule {rule_id!r}; rules are {[r.id for r in self.rules]}")


_HEADER = re.compile(r"^\s*\[\s*([A-Za-z_\"'][A-Za-z0-9_.\-\"' ]*?)\s*\]\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-\"'. ]+?)\s*=")


def _key_lines(text: str) -> dict[tuple[str, ...], int]:
    """Line (1-based) of each table header and key, keyed by its dotted path.

    A scan of the text, not a TOML parse: enough to point at a line for a key tomllib accepted.
    """
    lines: dict[tuple[str, ...], int] = {}
    table: tuple[str, ...] = ()
    for n, raw in enumerate(text.splitlines(), start=1):
        if raw.lstrip().startswith("#"):
            continue
        if m := _HEADER.match(raw):
            table = tuple(p.strip().strip("\"'") for p in m.group(1).split("."))
            lines.setdefault(table, n)
        elif m := _KEY.match(raw):
            key = tuple(p.strip().strip("\"'") for p in m.group(1).split("."))
            lines.setdefault((*table, *key), n)
    return lines


def _check_type(value: Any, tag: str) -> bool:
    def num(x: Any) -> bool:
        return isinstance(x, int | float) and not isinstance(x, bool)

    if tag == "str":
        return isinstance(value, str)
    if tag == "bool":
        return isinstance(value, bool)
    if tag == "float":
        return num(value)
    if tag == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if tag == "table:float":
        return isinstance(value, dict) and all(num(v) for v in value.values())
    if tag == "list:str":
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if tag == "list:int":
        return isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    if tag == "pairs":
        return isinstance(value, list) and all(
            isinstance(p, list) and len(p) == 2 and all(num(x) for x in p) for p in value
        )
    raise AssertionError(f"unknown schema tag {tag}")


_TYPE_WORDS = {
    "str": "a string",
    "bool": "true or false",
    "float": "a number",
    "int": "an integer",
    "table:float": "a table of numbers",
    "list:str": "a list of strings",
    "list:int": "a list of integers",
    "pairs": "a list of [number, number] pairs",
}


def parse_rules(text: str, source: str = "<rules>") -> RuleSet:
    """Parse and validate the text of a rules file; `source` names it in errors.

    Raises RulesFileError (naming `source`, the line and the key) for a TOML syntax error, an
    unknown top-level table, rule key or kind, a value of the wrong type, an unknown priority,
    feed or squat method, a negative threshold, or a file without rules.
    """
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise RulesFileError(source, int(m.group(1)) if m else None, None, f"not valid TOML: {exc}") from exc
    lines = _key_lines(text)

    def err(path: tuple[str, ...], problem: str) -> RulesFileError:
        line = None
        for k in range(len(path), 0, -1):  # the key's own line, else its nearest table
            if path[:k] in lines:
                line = lines[path[:k]]
                break
        return RulesFileError(source, line, ".".join(path), problem)

    for top in doc:
        if top not in ("defaults", "rules"):
            raise err((top,), "unknown table; a rules file has [defaults] and [rules.<id>] tables")
    defaults = doc.get("defaults", {})
    _validate(defaults, DEFAULTS_SCHEMA, ("defaults",), err)
    default_escalate = defaults.get("escalate_after_min")
    rules_doc = doc.get("rules", {})
    if not isinstance(rules_doc, dict) or not rules_doc:
        raise err(("rules",), "no rules: add at least one [rules.<id>] table")
    specs = []
    for rid, body in rules_doc.items():
        path = ("rules", rid)
        if not isinstance(body, dict):
            raise err(path, "a rule must be a table [rules.<id>]")
        kind = body.get("kind")
        if kind is None:
            raise err(path, f"missing 'kind' (one of {sorted(KINDS)})")
        if kind not in KINDS:
            raise err((*path, "kind"), f"unknown kind {kind!r}; known kinds: {sorted(KINDS)}")
        if "priority" not in body:
            raise err(path, f"missing 'priority' (one of {list(PRIORITIES)})")
        schema = {**COMMON, **KINDS[kind]}
        _validate(body, schema, path, err)
        values = {k: body.get(k, default) for k, (_t, default) in schema.items()}
        for key in ("priority", "no_go_priority"):
            if key in values and values[key] not in PRIORITIES:
                raise err((*path, key), f"unknown priority {values[key]!r}; use one of {list(PRIORITIES)}")
        _check_values(kind, values, path, err)
        minutes = values["escalate_after_min"]
        if minutes is None:
            minutes = default_escalate
        escalate_s = None if (not values["escalate"] or minutes is None) else 60.0 * float(minutes)
        params = {k: v for k, v in values.items() if k not in COMMON}
        key_lines = {k[-1]: n for k, n in lines.items() if len(k) == 3 and k[:2] == path}
        key_lines[""] = lines.get(path, 0)
        specs.append(
            RuleSpec(
                id=rid,
                kind=kind,
                priority=str(values["priority"]),
                enabled=bool(values["enabled"]),
                escalate_after_s=escalate_s,
                params=params,
                source=source,
                lines=key_lines,
            )
        )
    return RuleSet(tuple(specs), source)


def _validate(body: dict[str, Any], schema: Schema, path: tuple[str, ...], err: Any) -> None:
    for key, value in body.items():
        if key not in schema:
            raise err((*path, key), f"unknown key; this table takes {sorted(schema)}")
        tag = schema[key][0]
        if not _check_type(value, tag):
            raise err((*path, key), f"must be {_TYPE_WORDS[tag]}, not {value!r}")


def _check_values(kind: str, values: dict[str, Any], path: tuple[str, ...], err: Any) -> None:
    """Range checks beyond types: thresholds ≥ 0, known feeds and squat methods."""
    for key, value in values.items():
        if isinstance(value, int | float) and not isinstance(value, bool) and value < 0:
            raise err((*path, key), f"must not be negative ({value})")
        if isinstance(value, dict):
            for sub, x in value.items():
                if x < 0:
                    raise err((*path, key), f"entry {sub!r} must not be negative ({x})")
    if kind == "feed_stale":
        bad = sorted(set(values["feeds"]) - set(FEED_NAMES))
        if bad:
            raise err((*path, "feeds"), f"unknown feeds {bad}; feeds are {list(FEED_NAMES)}")
    if kind == "ukc":
        from twin.squat import METHODS  # only a ukc rule needs the list of squat methods

        if values["squat_method"] not in METHODS:
            raise err(
                (*path, "squat_method"),
                f"unknown squat method {values['squat_method']!r}; known: {sorted(METHODS)}",
            )
    if kind == "one_way":
        xs = [p[0] for p in values["dwt_by_length"]]
        if not xs or any(b <= a for a, b in itertools.pairwise(xs)):
            raise err((*path, "dwt_by_length"), "needs [length_m, dwt] pairs with lengths rising")


def load_rules(path: str | Path | None = None) -> RuleSet:
    """Read and validate a rules file; None reads the bundled Zhanjiang rules.

    Raises RulesFileError (see `parse_rules`) and FileNotFoundError for a missing file.
    """
    if path is None:
        ref = resources.files("twin.rules") / "zhanjiang_alerts.toml"
        return parse_rules(ref.read_text(encoding="utf-8"), "twin/rules/zhanjiang_alerts.toml")
    p = Path(path)
    return parse_rules(p.read_text(encoding="utf-8"), str(p))


# -- what each kind checks ------------------------------------------------------------------------
# A check looks at the engine state at `ctx.now_us` and returns one Finding per subject whose
# condition holds now. `open_` holds the subjects with an open alert of that rule: for them the
# check applies its clearing threshold (hysteresis), so an alert does not flicker at the limit.
# A subject missing from the answer is cleared by the alert engine.


@dataclass(frozen=True)
class Finding:
    """One situation a rule sees now. `value` (in `unit`) is rounded to the step at which a change
    is worth an update; `subject` is stable for the situation (MMSI, gate id, declaration id …)."""

    subject: str
    priority: str
    value: float | None
    unit: str
    text_zh: str
    text_en: str
    mmsi: int | None = None
    lon: float | None = None
    lat: float | None = None
    zone_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Context:
    """What the checks read: the engine, the time, the port and state the engine does not keep.

    `memory` is scratch state per rule id (dwell timers); `gate_queue` the latest queue per gate
    from the engine's deltas; `turns` completed truck visits (gate-out µs, terminal, turn s);
    `tide_at(us)` the tide model (m above CD); `depth` the bathymetry grid (m below CD).
    """

    engine: Engine
    now_us: int
    memory: dict[str, dict[str, Any]]
    gate_queue: dict[str, int]
    turns: list[tuple[int, str, float]]
    tide_at: Callable[[int], float]
    depth: Callable[[], xr.DataArray]
    areas: dict[str, Any]

    @property
    def port(self) -> Port:
        return self.engine.port


def vessel_class(v: VesselState) -> str:
    """The engine's AIS class of a vessel (cargo, tanker, …), "unknown" without a ship type."""
    return ship_class_of(v.ship_type) or "unknown"


def vessel_row(v: VesselState) -> dict[str, Any]:
    """The vessel's row as the engine's vessel table has it, the columns `twin.ukc_live` reads."""
    return {"mmsi": v.mmsi, "ship_class": vessel_class(v), "lon": v.lon, "lat": v.lat, "sog_kn": v.sog_kn,
            "length_m": v.length_m, "beam_m": v.beam_m, "draught_m": v.draught_m}


def _label(v: VesselState) -> str:
    return f"{v.name.strip()} ({v.mmsi})" if v.name and v.name.strip() else f"MMSI {v.mmsi}"


def _step(x: float, step: float) -> float:
    """`x` rounded down to a multiple of `step` (values move in steps: no update per report)."""
    return round(math.floor(x / step + 1e-9) * step, 3)


def check_ukc(rule: RuleSpec, ctx: Context, open_: set[str]) -> list[Finding]:
    """Net UKC < required (+ clear margin once open) for ships in the channel with a draught, as
    `twin.ukc_live.live_ukc_of` computes it (the same figure the ops desk shows)."""
    p = rule.params
    segs = {s.id: s for s in ctx.port.channel.segments}
    out: list[Finding] = []
    ships = [
        v
        for v in ctx.engine.vessels.values()
        if v.phase == "in_channel"
        and v.segment_id in segs
        and v.draught_m is not None
        and v.lon is not None
        and v.lat is not None
    ]
    if not ships:
        return out
    eng = ctx.engine
    settings = UkcSettings.from_params(p)
    last_tide = eng.feeds["tide"].last_us
    stale = eng.feed_stale("tide", ctx.now_us)
    surge_m = observed_surge_m(settings, eng.tide_level_m, last_tide, stale, ctx.tide_at)
    depth = ctx.depth()
    for v in sorted(ships, key=lambda x: x.mmsi):
        assert v.segment_id is not None
        seg = segs[v.segment_id]
        found = live_ukc_of(
            vessel_row(v),
            ctx.now_us,
            depth,
            ctx.tide_at,
            settings=settings,
            part=seg.part,
            channel_width_m=seg.width_m,
            surge_m=surge_m,
        )
        if found is None:
            continue
        res = found.ukc
        if math.isnan(res.net_ukc_m):
            continue  # no depth under the ship: no claim either way
        subject = str(v.mmsi)
        limit = res.required_ukc_m + (p["clear_margin_m"] if subject in open_ else 0.0)
        if res.net_ukc_m >= limit:
            continue
        prio = p["no_go_priority"] if res.net_ukc_m < 0.0 else rule.priority
        net = round(res.net_ukc_m, 1)
        out.append(
            Finding(
                subject,
                prio,
                net,
                "m",
                f"{_label(v)} 富余水深 {net:.1f} 米，低于要求 {res.required_ukc_m:.1f} 米（{seg.name_zh}）",
                f"{_label(v)} net UKC {net:.1f} m below the required {res.required_ukc_m:.1f} m "
                f"({seg.name_en})",
                v.mmsi,
                v.lon,
                v.lat,
                v.zone_id,
                {"required_ukc_m": round(res.required_ukc_m, 2), "segment_id": seg.id},
            )
        )
    return out


def check_restricted_zone(rule: RuleSpec, ctx: Context, open_: set[str]) -> list[Finding]:
    """A ship (not of `except_classes`; of `only_classes` if given) inside one of `areas` for at
    least `min_dwell_s`; cleared once outside for `clear_after_s`."""
    p = rule.params
    mem = ctx.memory.setdefault(rule.id, {"in": {}, "out": {}, "area": {}})
    out: list[Finding] = []
    now = ctx.now_us
    for v in sorted(ctx.engine.vessels.values(), key=lambda x: x.mmsi):
        if v.lon is None or v.lat is None:
            continue
        cls = vessel_class(v)
        if cls in p["except_classes"] or (p["only_classes"] and cls not in p["only_classes"]):
            continue
        subject = str(v.mmsi)
        hit = next((aid for aid in p["areas"] if shapely.contains_xy(ctx.areas[aid], v.lon, v.lat)), None)
        if hit is not None:
            mem["area"][v.mmsi] = hit
            mem["out"].pop(v.mmsi, None)
            since = mem["in"].setdefault(v.mmsi, now)
            holds = subject in open_ or now - since >= p["min_dwell_s"] * US
        else:
            mem["in"].pop(v.mmsi, None)
            if subject not in open_:
                continue
            left = mem["out"].setdefault(v.mmsi, now)
            holds = now - left < p["clear_after_s"] * US
        if holds:
            aid = mem["area"][v.mmsi]
            feat = ctx.port.find(aid)
            zh, en = getattr(feat, "name_zh", aid), getattr(feat, "name_en", aid)
            out.append(
                Finding(
                    subject,
                    rule.priority,
                    None,
                    "",
                    f"{_label(v)}（{cls}）进入限制区域 {zh}",
                    f"{_label(v)} ({cls}) in restricted area {en}",
                    v.mmsi,
                    v.lon,
                    v.lat,
                    v.zone_id,
                    {"area_id": aid, "ship_class": cls},
                )
            )
    for key in ("in", "out", "area"):  # forget ships the engine dropped
        for mmsi in [m for m in mem[key] if m not in ctx.engine.vessels]:
            del mem[key][mmsi]
    return out


def check_anchor_wait(rule: RuleSpec, ctx: Context, open_: set[str]) -> list[Finding]:
    """A ship at anchor longer than its class's `hours_by_class` (since anchorage_arrival)."""
    out: list[Finding] = []
    for v in sorted(ctx.engine.vessels.values(), key=lambda x: x.mmsi):
        if v.anchor_id is None or v.anchor_since_us is None:
            continue
        limit_h = by_class(rule.params["hours_by_class"], vessel_class(v))
        wait_h = (ctx.now_us - v.anchor_since_us) / HOUR_US
        if limit_h is None or wait_h <= limit_h:
            continue
        anc = ctx.port.anchorages.get(v.anchor_id)
        zh, en = (anc.name_zh, anc.name_en) if anc else (v.anchor_id, v.anchor_id)
        h = _step(wait_h, 0.5)
        out.append(
            Finding(
                str(v.mmsi),
                rule.priority,
                h,
                "h",
                f"{_label(v)} 在{zh}等待 {h:.1f} 小时，超过 {limit_h:g} 小时",
                f"{_label(v)} waiting {h:.1f} h at {en}, over {limit_h:g} h",
                v.mmsi,
                v.lon,
                v.lat,
                v.zone_id,
                {"anchorage_id": v.anchor_id},
            )
        )
    return out


def check_channel_speed(rule: RuleSpec, ctx: Context, open_: set[str]) -> list[Finding]:
    """Speed over ground above the segment's limit in the channel for `min_duration_s` of reports;
    cleared below limit − `clear_margin_kn`."""
    p = rule.params
    mem = ctx.memory.setdefault(rule.id, {"over": {}})
    out: list[Finding] = []
    for v in sorted(ctx.engine.vessels.values(), key=lambda x: x.mmsi):
        if v.phase != "in_channel" or v.segment_id is None or v.sog_kn is None or v.ts_us is None:
            mem["over"].pop(v.mmsi, None)
            continue
        limit = float(p["limit_kn_by_segment"].get(v.segment_id, p["limit_kn"]))
        subject = str(v.mmsi)
        if subject in open_:
            holds = v.sog_kn > limit - p["clear_margin_kn"]
        elif v.sog_kn > limit:
            since = mem["over"].setdefault(v.mmsi, v.ts_us)
            holds = v.ts_us - since >= p["min_duration_s"] * US
        else:
            mem["over"].pop(v.mmsi, None)
            holds = False
        if holds:
            sog = round(round(v.sog_kn * 2.0) / 2.0, 1)  # half-knot steps: no update per report
            out.append(
                Finding(
                    subject,
                    rule.priority,
                    sog,
                    "kn",
                    f"{_label(v)} 航速约 {sog:.1f} 节，超过航道限速 {limit:g} 节",
                    f"{_label(v)} at about {sog:.1f} kn, over the channel limit of {limit:g} kn",
                    v.mmsi,
                    v.lon,
                    v.lat,
                    v.zone_id,
                    {"limit_kn": limit, "segment_id": v.segment_id},
                )
            )
    for mmsi in [m for m in mem["over"] if m not in ctx.engine.vessels]:
        del mem["over"][mmsi]
    return out


def one_way_stretches(port: Port) -> list[tuple[float, float, int]]:
    """(from_km, to_km, min_dwt) of each run of consecutive one-way segments (min_dwt the largest
    threshold of the run's segments, 0 when none is given)."""
    runs: list[list[float]] = []
    for seg in sorted(port.channel.segments, key=lambda s: s.chainage_from_km):
        if not seg.one_way:
            continue
        dwt = float(seg.one_way_min_dwt or 0)
        if runs and abs(runs[-1][1] - seg.chainage_from_km) < 1e-6:
            runs[-1][1] = seg.chainage_to_km
            runs[-1][2] = max(runs[-1][2], dwt)
        else:
            runs.append([seg.chainage_from_km, seg.chainage_to_km, dwt])
    return [(a, b, int(d)) for a, b, d in runs]


def dwt_from_length(length_m: float, table: list[list[float]]) -> float:
    """DWT (t) interpolated in a [length_m, dwt] table, clamped at its ends."""
    return float(np.interp(length_m, [r[0] for r in table], [r[1] for r in table]))


def _course_direction(port: Port, v: VesselState) -> str | None:
    """inbound/outbound from the engine (change of chainage), else from the course over ground."""
    if v.direction is not None:
        return v.direction
    if v.cog_deg is None or v.chainage_km is None or v.sog_kn is None or v.sog_kn < 1.0:
        return None
    km = min(max(v.chainage_km, port.channel.axis_chainage_km[0]), port.channel.axis_chainage_km[-1] - 0.2)
    (x0, y0), (x1, y1) = port.channel.position_at(km), port.channel.position_at(km + 0.2)
    inbound_deg = math.degrees(math.atan2((x1 - x0) * math.cos(math.radians(y0)), y1 - y0)) % 360.0
    diff = abs((v.cog_deg - inbound_deg + 180.0) % 360.0 - 180.0)
    return "inbound" if diff < 60.0 else "outbound" if diff > 120.0 else None


def check_one_way(rule: RuleSpec, ctx: Context, open_: set[str]) -> list[Finding]:
    """Two ships that need the one-way rule (DWT from length ≥ the stretch's min DWT) in the same
    one-way stretch, one inbound and one outbound, not yet past each other (the inbound ship's
    chainage below the outbound one's; once open, held until they are 0.5 km past)."""
    stretches = one_way_stretches(ctx.port)
    cands: list[tuple[int, VesselState, str, float]] = []
    for v in sorted(ctx.engine.vessels.values(), key=lambda x: x.mmsi):
        if v.phase != "in_channel" or v.chainage_km is None or v.length_m is None:
            continue
        dwt = dwt_from_length(v.length_m, rule.params["dwt_by_length"])
        k = next((i for i, (a, b, _d) in enumerate(stretches) if a <= v.chainage_km <= b), None)
        direction = _course_direction(ctx.port, v)
        if k is None or direction is None or dwt < stretches[k][2]:
            continue
        cands.append((k, v, direction, dwt))
    out: list[Finding] = []
    for k, a, da, dwt_a in cands:
        for k2, b, db, dwt_b in cands:
            if k2 != k or da != "inbound" or db != "outbound":
                continue
            assert a.chainage_km is not None and b.chainage_km is not None
            subject = f"{min(a.mmsi, b.mmsi)}-{max(a.mmsi, b.mmsi)}"
            if a.chainage_km > b.chainage_km + (0.5 if subject in open_ else 0.0):
                continue
            gap = _step(b.chainage_km - a.chainage_km, 0.5) if b.chainage_km >= a.chainage_km else 0.0
            lon = None if a.lon is None or b.lon is None else 0.5 * (a.lon + b.lon)
            lat = None if a.lat is None or b.lat is None else 0.5 * (a.lat + b.lat)
            lo, hi = stretches[k][0], stretches[k][1]
            out.append(
                Finding(
                    subject,
                    rule.priority,
                    gap,
                    "km",
                    f"单向航道 K{lo:g}–K{hi:g} 对向会遇：进港 {_label(a)}、出港 {_label(b)}，"
                    f"相距 {gap:.1f} 公里",
                    f"One-way stretch K{lo:g}–K{hi:g}: inbound {_label(a)} and outbound {_label(b)} on "
                    f"conflicting courses, {gap:.1f} km apart",
                    a.mmsi,
                    lon,
                    lat,
                    a.zone_id,
                    {"mmsis": [a.mmsi, b.mmsi], "dwt_est_t": [round(dwt_a, -3), round(dwt_b, -3)]},
                )
            )
    return out


def check_dark(rule: RuleSpec, ctx: Context, open_: set[str]) -> list[Finding]:
    """A ship inside the port limits that the engine marks dark (silent past its threshold)."""
    p = rule.params
    out: list[Finding] = []
    for v in sorted(ctx.engine.vessels.values(), key=lambda x: x.mmsi):
        if not (v.dark and v.limit_inside) or v.ts_us is None:
            continue
        if v.ship_type in p["ignore_ship_types"] or v.phase in p["ignore_phases"]:
            continue
        silent = _step((ctx.now_us - v.ts_us) / (60 * US), 5.0)
        out.append(
            Finding(
                str(v.mmsi),
                rule.priority,
                silent,
                "min",
                f"{_label(v)} 在港界内已 {silent:g} 分钟无 AIS 信号",
                f"{_label(v)} silent (AIS dark) inside port limits for {silent:g} min",
                v.mmsi,
                v.lon,
                v.lat,
                v.zone_id,
                {"phase": v.phase},
            )
        )
    return out


def _gate_zone(port: Port, gate_id: str) -> str | None:
    return next(
        (z.id for z in port.zones.values() if z.kind == "gate_complex" and gate_id in z.members), None
    )


def _gate_place(port: Port, gate_id: str | None) -> tuple[float | None, float | None, str | None]:
    """Lon, lat (degrees) and gate-complex zone id of gate `gate_id`; None each where unknown."""
    gate = port.gates.get(gate_id) if gate_id is not None else None
    loc = gate.location if gate else None
    return (
        None if loc is None else loc.x,
        None if loc is None else loc.y,
        None if gate_id is None else _gate_zone(port, gate_id),
    )


def check_gate_queue(rule: RuleSpec, ctx: Context, open_: set[str]) -> list[Finding]:
    """A gate's estimated queue (trucks) above `queue_max` (per gate if given); cleared at or
    below the limit − `clear_margin`."""
    p = rule.params
    out: list[Finding] = []
    for gid, queue in sorted(ctx.gate_queue.items()):
        limit = float(p["queue_max_by_gate"].get(gid, p["queue_max"]))
        if not (queue > limit or (gid in open_ and queue > limit - p["clear_margin"])):
            continue
        gate = ctx.port.gates.get(gid)
        zh, en = (gate.name_zh, gate.name_en) if gate else (gid, gid)
        out.append(
            Finding(
                gid,
                rule.priority,
                float(queue),
                "trucks",
                f"{zh} 排队约 {queue} 辆，超过 {limit:g} 辆",
                f"{en}: about {queue} trucks queueing, over {limit:g}",
                None,
                *_gate_place(ctx.port, gid),
                {"gate_id": gid},
            )
        )
    return out


def check_truck_turn_time(rule: RuleSpec, ctx: Context, open_: set[str]) -> list[Finding]:
    """A terminal's mean truck turn time (gate in → gate out of a visit) over the visits that
    ended in the last `window_min` above `turn_time_max_min`, with at least `min_turns` visits."""
    p = rule.params
    since = ctx.now_us - int(p["window_min"] * 60 * US)
    per: dict[str, list[float]] = {}
    for ts, terminal, turn_s in ctx.turns:
        if since < ts <= ctx.now_us:
            per.setdefault(terminal, []).append(turn_s / 60.0)
    out: list[Finding] = []
    for terminal, turns in sorted(per.items()):
        if len(turns) < p["min_turns"]:
            continue
        mean = sum(turns) / len(turns)
        limit = p["turn_time_max_min"] - (p["clear_margin_min"] if terminal in open_ else 0.0)
        if mean <= limit:
            continue
        gates = [g for g in ctx.port.gates.values() if g.terminal == terminal]
        m = _step(mean, 5.0)
        out.append(
            Finding(
                terminal,
                rule.priority,
                m,
                "min",
                f"{terminal} 码头集卡平均周转 {m:g} 分钟，超过 {p['turn_time_max_min']:g} 分钟",
                f"{terminal}: mean truck turn time {m:g} min, over {p['turn_time_max_min']:g} min",
                None,
                *_gate_place(ctx.port, gates[0].id if gates else None),
                {"terminal": terminal, "visits": len(turns)},
            )
        )
    return out


def check_customs_clearance(rule: RuleSpec, ctx: Context, open_: set[str]) -> list[Finding]:
    """A declaration not released (nor exited) longer than its channel's target (hours since the
    WCO TRS `arrival` stage, else `lodged`; `default` while no channel is assigned)."""
    table = rule.params["target_h_by_channel"]
    eng = ctx.engine
    out: list[Finding] = []
    for did in sorted(eng.declarations):
        d = eng.declarations[did]
        if "released" in d.stage_us or "exit" in d.stage_us:
            continue
        start = d.stage_us.get("arrival", d.stage_us.get("lodged"))
        target = table.get(d.channel or "default", table.get("default"))
        if start is None or target is None:
            continue
        age_h = (ctx.now_us - start) / HOUR_US
        if age_h <= target:
            continue
        call = eng.calls.get(d.call_id) if d.call_id else None
        v = eng.vessels.get(call.mmsi) if call else None
        h = _step(age_h, 0.5)
        ch = d.channel or "—"
        out.append(
            Finding(
                did,
                rule.priority,
                h,
                "h",
                f"报关单 {did}（{ch}通道）已 {h:.1f} 小时未放行，目标 {target:g} 小时",
                f"Declaration {did} ({ch} channel) not released after {h:.1f} h, target {target:g} h",
                None if call is None else call.mmsi,
                None if v is None else v.lon,
                None if v is None else v.lat,
                None if v is None else v.zone_id,
                {"declaration_id": did, "channel": d.channel, "call_id": d.call_id},
            )
        )
    return out


FEED_NAMES_ZH = {"ais": "AIS", "gate": "闸口", "customs": "海关", "tide": "潮位"}


def check_feed_stale(rule: RuleSpec, ctx: Context, open_: set[str]) -> list[Finding]:
    """A feed whose newest message is older than the engine's age for it (or that never came),
    after `startup_grace_s` of engine time since the first evaluation."""
    mem = ctx.memory.setdefault(rule.id, {})
    first = mem.setdefault("first_us", ctx.now_us)
    if ctx.now_us - first < rule.params["startup_grace_s"] * US:
        return []
    out: list[Finding] = []
    for feed in rule.params["feeds"]:
        if not ctx.engine.feed_stale(feed, ctx.now_us):
            continue
        last = ctx.engine.feeds[feed].last_us
        age = None if last is None else _step((ctx.now_us - last) / (60 * US), 5.0)
        zh = FEED_NAMES_ZH.get(feed, feed)
        out.append(
            Finding(
                feed,
                rule.priority,
                age,
                "min",
                f"{zh} 数据源中断" + ("" if age is None else f" {age:g} 分钟"),
                f"{feed} feed stale" + (" (never received)" if age is None else f" for {age:g} min"),
                extra={"feed": feed},
            )
        )
    return out


Check = Callable[[RuleSpec, Context, set[str]], list[Finding]]

CHECKS: dict[str, Check] = {
    "ukc": check_ukc,
    "restricted_zone": check_restricted_zone,
    "anchor_wait": check_anchor_wait,
    "channel_speed": check_channel_speed,
    "one_way": check_one_way,
    "dark": check_dark,
    "gate_queue": check_gate_queue,
    "truck_turn_time": check_truck_turn_time,
    "customs_clearance": check_customs_clearance,
    "feed_stale": check_feed_stale,
}
