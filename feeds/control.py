"""Operator messages the live twin accepts beside the feeds, in the same journalled ingest path.

An acknowledgement changes state, so it goes where feed data goes: through `/ingest` with the bearer
token, into the journal before it is applied (so a restart replays it), then to the engine. Only the
engine's alert engine (`twin.alerts.AlertingEngine`) acts on it.
"""

from __future__ import annotations

import polars as pl

from feeds.schema import UTC_US

ALERT_ACK: dict[str, pl.DataType] = {
    "ts_utc": UTC_US,        # when the operator acknowledged (the twin's clock)
    "alert_id": pl.String(),
    "by": pl.String(),       # who: operator name or id, required
    "note": pl.String(),
}

CONTROL_SCHEMAS: dict[str, dict[str, pl.DataType]] = {"alert_ack": ALERT_ACK}
