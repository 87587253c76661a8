"""Static and voyage AIS messages (types 5, 19, 24) decoded with pyais.

They are a few percent of the traffic (every 6 min per ship against every 2-10 s for
positions), so the scalar reference decoder is fast enough here.

Type 24 parts are emitted as partial rows, not merged: part A gives a row with only `name`,
part B a row with `callsign`, `ship_type`, `length_m`, `beam_m`. Merging inside one batch would
be inconsistent for the live engine, which sees A and B in different batches more often than
not; consumers coalesce static rows per MMSI (latest non-null value per column).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import pyais
from pyais.exceptions import AISBaseException

from feeds.ais.rules import ITEM, eta_after, finish_static
from feeds.schema import AIS_STATIC

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class StaticInput:
    """One static message: its NMEA fragments (`!AIVDM...*hh`), time and accounting item."""

    item: int
    sentences: tuple[str, ...]
    ts_us: int


def _dims(msg: Any) -> tuple[int | None, int | None]:
    bow, stern = getattr(msg, "to_bow", None), getattr(msg, "to_stern", None)
    port, starboard = getattr(msg, "to_port", None), getattr(msg, "to_starboard", None)
    length = None if bow is None or stern is None else int(bow) + int(stern)
    beam = None if port is None or starboard is None else int(port) + int(starboard)
    return length, beam


def decode_static(
    messages: Sequence[StaticInput],
) -> tuple[pl.DataFrame, list[tuple[int, str, str]]]:
    """Decode static messages; returns `(rows in AIS_STATIC plus _item, errors)`.

    Errors are `(item, rule, detail)` with rule `ais.decode` for payloads pyais cannot read.
    """
    rows: list[dict[str, Any]] = []
    errors: list[tuple[int, str, str]] = []
    for message in messages:
        try:
            msg = pyais.decode(*message.sentences)
        except (AISBaseException, ValueError, IndexError, TypeError, KeyError) as exc:
            errors.append((message.item, "ais.decode", f"payload not decodable: {exc!r}"))
            continue
        ts = EPOCH + timedelta(microseconds=message.ts_us)
        length, beam = _dims(msg)
        row: dict[str, Any] = {
            ITEM: message.item,
            "ts_utc": ts,
            "mmsi": int(msg.mmsi),
            "imo": getattr(msg, "imo", None),
            "name": getattr(msg, "shipname", None),
            "callsign": getattr(msg, "callsign", None),
            "ship_type": _int_or_none(getattr(msg, "ship_type", None)),
            "length_m": length,
            "beam_m": beam,
            "draught_m": getattr(msg, "draught", None),
            "destination": getattr(msg, "destination", None),
            "eta_utc": None,
        }
        if msg.msg_type == 5:
            row["eta_utc"] = eta_after(msg.month, msg.day, msg.hour, msg.minute, ts)
        rows.append(row)
    schema: dict[str, pl.DataType] = {ITEM: pl.Int64(), **AIS_STATIC}
    schema["ship_type"] = pl.Int64()
    schema["imo"] = pl.Int64()
    schema["length_m"] = pl.Float64()
    schema["beam_m"] = pl.Float64()
    schema["draught_m"] = pl.Float64()
    raw = pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)
    return finish_static(raw), errors


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)
