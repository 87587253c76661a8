"""The live state the engine keeps, as plain data that serialises to JSON and back exactly.

Times inside the state are integers: microseconds since the Unix epoch, UTC (`*_us`). That keeps
arithmetic cheap in the per-message loop and makes a snapshot → restore round trip exact.
Conversions to `datetime` / ISO text happen only at the edges (`iso`, `us_of`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

US = 1_000_000
MINUTE_US = 60 * US
HOUR_US = 3600 * US
DAY_US = 24 * HOUR_US
LOCAL_OFFSET_US = 8 * HOUR_US  # Asia/Shanghai, UTC+8, no DST: "today" on a tile is the local day


def us_of(t: datetime) -> int:
    """Microseconds since the epoch of a tz-aware datetime; ValueError for a naive one."""
    if t.tzinfo is None:
        raise ValueError(f"time {t!r} is naive; the engine needs tz-aware UTC times")
    delta = t - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86400 + delta.seconds) * US + delta.microseconds


def dt_of(us: int) -> datetime:
    """The tz-aware UTC datetime of epoch microseconds."""
    return datetime.fromtimestamp(us // US, tz=UTC).replace(microsecond=us % US)


def iso(us: int | None) -> str | None:
    """ISO 8601 UTC text with a `Z` (seconds; fractions only when present), or None."""
    if us is None:
        return None
    t = dt_of(us)
    text = t.strftime("%Y-%m-%dT%H:%M:%S")
    if t.microsecond:
        text += f".{t.microsecond:06d}".rstrip("0")
    return text + "Z"


def local_day_start_us(now_us: int) -> int:
    """Start (UTC µs) of the Asia/Shanghai calendar day holding `now_us`."""
    return (now_us + LOCAL_OFFSET_US) // DAY_US * DAY_US - LOCAL_OFFSET_US


@dataclass
class VesselState:
    """One vessel: latest static data and accepted position, location, phase and call tracking.

    The tracking fields (`*_cand_*`, `*_leave_*`) hold a condition that has started but is not yet
    confirmed (dwell or hysteresis pending); events take the time a condition *started*.
    """

    mmsi: int
    # static data (AIS type 5/24), null until heard
    name: str | None = None
    imo: int | None = None
    callsign: str | None = None
    ship_type: int | None = None
    length_m: float | None = None
    beam_m: float | None = None
    draught_m: float | None = None
    destination: str | None = None
    # latest accepted position
    ts_us: int | None = None
    lon: float | None = None
    lat: float | None = None
    sog_kn: float | None = None
    cog_deg: float | None = None
    heading_deg: float | None = None
    nav_status: int | None = None
    first_seen_us: int | None = None
    h3: int | None = None
    zone_id: str | None = None
    zone_since_us: int | None = None  # time of the first report in the current zone (or none)
    berth_here: str | None = None  # pocket the position lies in (not necessarily moored)
    anchorage_here: str | None = None
    segment_id: str | None = None
    chainage_km: float | None = None
    direction: str | None = None  # inbound | outbound, from the change of chainage
    ref_chainage_km: float | None = None
    phase: str = "outside"
    dark: bool = False
    outliers: int = 0
    pending_ts_us: int | None = None  # a rejected jump, kept to accept a real one on agreement
    pending_lon: float | None = None
    pending_lat: float | None = None
    # port call
    call_id: str | None = None
    limit_inside: bool | None = None
    limit_cand_us: int | None = None
    limit_cand_n: int = 0
    pob_done: bool = False
    pilot_enter_us: int | None = None
    pilot_enter_km: float | None = None
    pilot_slow_us: int | None = None
    pilot_slow_n: int = 0
    anchor_id: str | None = None
    anchor_since_us: int | None = None
    anchor_cand_id: str | None = None
    anchor_cand_us: int | None = None
    anchor_leave_us: int | None = None
    anchor_leave_n: int = 0
    berth_id: str | None = None
    berth_since_us: int | None = None
    berth_cand_id: str | None = None
    berth_cand_us: int | None = None
    berth_leave_us: int | None = None
    berth_leave_n: int = 0
    berthed_this_call: bool = False
    departed_berth: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VesselState:
        """Inverse of `to_dict`; unknown keys raise TypeError (a snapshot of another version)."""
        return cls(**data)


@dataclass
class CallRecord:
    """One port call as the engine saw it (for KPIs; the events themselves are in the event log)."""

    call_id: str
    mmsi: int
    opened_us: int
    closed_us: int | None = None
    berth_ids: list[str] = field(default_factory=list)
    all_fast_us: int | None = None
    departed_us: int | None = None


@dataclass
class FeedState:
    """Freshness of one feed: newest message time and message counts per second (last 5 min)."""

    last_us: int | None = None
    per_second: dict[str, int] = field(default_factory=dict)  # str(epoch s) → rows, JSON keys are text


@dataclass
class Declaration:
    """A customs declaration: its latest WCO TRS stage and the time of each stage reached."""

    declaration_id: str
    mode: str | None = None
    call_id: str | None = None
    stage: str | None = None
    channel: str | None = None
    stage_us: dict[str, int] = field(default_factory=dict)


def dataclass_from(cls: type, data: dict[str, Any]) -> Any:
    """Rebuild a flat dataclass from `asdict` output, refusing unknown keys."""
    names = {f.name for f in fields(cls)}
    extra = set(data) - names
    if extra:
        raise TypeError(f"{cls.__name__}: unknown fields {sorted(extra)} in snapshot")
    return cls(**data)
