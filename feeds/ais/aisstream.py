"""aisstream.io JSON messages (one JSON object per line) → canonical frames.

Envelope `{"MessageType": ..., "MetaData": {..., "time_utc": "2026-04-25 09:47:25.26746452
+0000 UTC"}, "Message": {"<MessageType>": {...}}}` (feeds.md §1.6). `PositionReport` and
`StandardClassBPositionReport` become positions, `ShipStaticData` static rows; any other
message type is skipped as `aisstream <MessageType>`. Sentinels arrive raw (heading 511 ...)
and are nulled by the shared rules. Rules: `json.malformed` (not a JSON object),
`json.missing_field` (no UserID / Message body), `time.missing`, `time.unparseable`.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from typing import Any

import polars as pl

from feeds.ais.rules import ITEM, eta_after, finish_positions, finish_static, rejected_rows
from feeds.schema import AIS_POSITION, AIS_STATIC, AdapterResult

POSITION_KINDS = ("PositionReport", "StandardClassBPositionReport")
STATIC_KINDS = ("ShipStaticData",)
GO_TIME = "%Y-%m-%d %H:%M:%S%.f %z"


def parse_aisstream_lines(
    lines: Iterable[str], source: str = "<stream>", first_line_no: int = 1
) -> AdapterResult:
    """Decode aisstream.io JSON lines; blank lines are not items. Never raises on bad lines."""
    items: list[tuple[int, int, str]] = []  # _item, line, raw
    rejects: list[tuple[int, str, str]] = []
    skipped: Counter[str] = Counter()
    positions: list[dict[str, Any]] = []
    statics: list[dict[str, Any]] = []
    times: list[str | None] = []
    for offset, line in enumerate(lines):
        raw = line.rstrip("\r\n")
        if not raw.strip():
            continue
        item = len(items)
        items.append((item, first_line_no + offset, raw))
        try:
            doc = json.loads(raw)
        except ValueError as exc:
            rejects.append((item, "json.malformed", f"not JSON: {exc}"))
            continue
        if not isinstance(doc, dict):
            rejects.append((item, "json.malformed", "line is JSON but not an object"))
            continue
        kind = doc.get("MessageType")
        body = (doc.get("Message") or {}).get(kind) if isinstance(doc.get("Message"), dict) \
            else None
        if kind not in POSITION_KINDS + STATIC_KINDS:
            skipped[f"aisstream {kind}"] += 1
            continue
        meta: dict[str, Any] = doc["MetaData"] if isinstance(doc.get("MetaData"), dict) else {}
        if not isinstance(body, dict) or "UserID" not in body:
            rejects.append((item, "json.missing_field", f"Message.{kind}.UserID is missing"))
            continue
        stamp = meta.get("time_utc")
        if stamp is None:
            rejects.append((item, "time.missing", "MetaData.time_utc is missing"))
            continue
        row = {ITEM: item, "_time": str(stamp), "mmsi": body.get("UserID")}
        if kind in POSITION_KINDS:
            row.update(
                lat=body.get("Latitude"), lon=body.get("Longitude"), sog_kn=body.get("Sog"),
                cog_deg=body.get("Cog"), heading_deg=body.get("TrueHeading"),
                nav_status=body.get("NavigationalStatus") if kind == "PositionReport" else None,
            )
            positions.append(row)
        else:
            dim: dict[str, Any] = body["Dimension"] if isinstance(body.get("Dimension"), dict) \
                else {}
            eta: dict[str, Any] = body["Eta"] if isinstance(body.get("Eta"), dict) else {}
            row.update(
                imo=body.get("ImoNumber"), name=body.get("Name"), callsign=body.get("CallSign"),
                ship_type=body.get("Type"),
                length_m=_sum(dim.get("A"), dim.get("B")), beam_m=_sum(dim.get("C"), dim.get("D")),
                draught_m=body.get("MaximumStaticDraught"), destination=body.get("Destination"),
                _eta=(eta.get("Month"), eta.get("Day"), eta.get("Hour"), eta.get("Minute")),
            )
            statics.append(row)
        times.append(str(stamp))
    item_frame = pl.DataFrame(
        items, schema={ITEM: pl.Int64(), "line": pl.Int64(), "raw": pl.String()}, orient="row"
    )
    reasons: list[pl.DataFrame] = []
    pos_frame, bad, time_bad = _positions(positions, source)
    reasons += [bad, time_bad]
    static_frame, static_time_bad = _statics(statics)
    reasons.append(static_time_bad)
    if rejects:
        reasons.append(pl.DataFrame(rejects, schema=[ITEM, "rule", "detail"], orient="row"))
    return AdapterResult(
        frames={"ais_position": pos_frame.drop(ITEM), "ais_static": static_frame.drop(ITEM)},
        rejected=rejected_rows(item_frame, reasons, source),
        skipped=dict(sorted(skipped.items())),
        items_read=len(items),
        items_accepted=pos_frame.height + static_frame.height,
    )


def _sum(a: Any, b: Any) -> float | None:
    if isinstance(a, int | float) and isinstance(b, int | float):
        return float(a) + float(b)
    return None


def _parse_time(frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Parse the Go time strings; returns (rows with ts_utc, rejected time rows)."""
    text = pl.col("_time").str.strip_suffix(" UTC").str.strip_chars()
    frame = frame.with_columns(
        text.str.to_datetime(GO_TIME, time_unit="us", strict=False).dt.convert_time_zone("UTC")
        .alias("ts_utc")
    )
    bad = frame.filter(pl.col("ts_utc").is_null()).select(
        ITEM, rule=pl.lit("time.unparseable"),
        detail=pl.concat_str(pl.lit("MetaData.time_utc='"), "_time", pl.lit("' is not a time")),
    )
    return frame.filter(pl.col("ts_utc").is_not_null()), bad


def _positions(
    rows: list[dict[str, Any]], source: str
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    schema = {ITEM: pl.Int64(), "_time": pl.String(), "mmsi": pl.Float64(), "lat": pl.Float64(),
              "lon": pl.Float64(), "sog_kn": pl.Float64(), "cog_deg": pl.Float64(),
              "heading_deg": pl.Float64(), "nav_status": pl.Float64()}
    frame = pl.from_dicts(_numeric(rows, schema), schema=schema)
    frame, time_bad = _parse_time(frame)
    good, bad = finish_positions(frame.drop("_time"), source)
    return good.select(ITEM, *AIS_POSITION), bad, time_bad


def _numeric(rows: list[dict[str, Any]], schema: dict[str, pl.DataType]) -> list[dict[str, Any]]:
    """Keep numbers, drop anything else (a string where a number belongs reads as null)."""
    out = []
    for row in rows:
        clean = {}
        for key, dtype in schema.items():
            value = row.get(key)
            if dtype == pl.Float64() and not isinstance(value, int | float):
                value = None
            clean[key] = value
        out.append(clean)
    return out


def _statics(rows: list[dict[str, Any]]) -> tuple[pl.DataFrame, pl.DataFrame]:
    schema = {ITEM: pl.Int64(), "_time": pl.String(), "mmsi": pl.Float64(), "imo": pl.Float64(),
              "name": pl.String(), "callsign": pl.String(), "ship_type": pl.Float64(),
              "length_m": pl.Float64(), "beam_m": pl.Float64(), "draught_m": pl.Float64(),
              "destination": pl.String()}
    texts = [{k: (v if isinstance(v, str) else None) for k, v in r.items()
              if k in ("name", "callsign", "destination")} for r in rows]
    numeric = _numeric(rows, {k: v for k, v in schema.items() if v != pl.String()})
    merged = [{**n, **t, "_time": r["_time"]} for n, t, r in zip(numeric, texts, rows, strict=True)]
    frame = pl.from_dicts(merged, schema=schema)
    frame, time_bad = _parse_time(frame)
    eta_by_item = {r[ITEM]: r["_eta"] for r in rows}
    etas = [
        eta_after(*_ints(eta_by_item[item]), ts)
        for item, ts in zip(frame[ITEM].to_list(), frame["ts_utc"].to_list(), strict=True)
    ]
    frame = frame.with_columns(pl.Series("eta_utc", etas, dtype=AIS_STATIC["eta_utc"]))
    mmsi_ok = pl.col("mmsi").is_between(1, 999_999_999)
    bad_mmsi = frame.filter(~mmsi_ok.fill_null(False)).select(
        ITEM, rule=pl.lit("position.mmsi"),
        detail=pl.concat_str(pl.lit("UserID="), pl.col("mmsi").cast(pl.String).fill_null("null"),
                             pl.lit(" is not 1..999999999")),
    )
    frame = frame.filter(mmsi_ok.fill_null(False))
    return finish_static(frame.drop("_time")), pl.concat([time_bad, bad_mmsi])


def _ints(values: tuple[Any, ...]) -> tuple[int | None, int | None, int | None, int | None]:
    """(month, day, hour, minute) as ints, None for anything not a number."""
    month, day, hour, minute = (int(v) if isinstance(v, int | float) else None for v in values)
    return month, day, hour, minute
