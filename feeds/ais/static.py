"""Static and voyage AIS messages (types 5, 19, 24) decoded vectorised, like positions.

Bit layouts from gpsd's AIVDM.adoc (feeds.md §1.2); pyais is the oracle in the tests. Text is
6-bit ASCII (codes 0-31 → '@'..'_', 32-63 → ' '..'?'); trailing '@' padding and surrounding
blanks are removed as pyais does. Bits missing at the end of a short payload (type 5 often
arrives with 420 or 422 of its 424 bits) read as zeros.

Type 24 parts are emitted as partial rows, not merged: part A gives a row with only `name`,
part B a row with `callsign`, `ship_type`, `length_m`, `beam_m` (no dimensions when the MMSI
is an auxiliary craft's, 98XXXYYYY, whose part B carries the mothership MMSI instead). Merging
inside one batch would be inconsistent for the live engine, which sees A and B in different
batches more often than not; consumers coalesce static rows per MMSI (latest non-null value
per column). Part numbers 2 and 3 do not exist and are rejected as `ais.bad_part`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pyarrow as pa

from feeds.ais.bits import I64, U8, bit_field, sixbit_matrix
from feeds.ais.rules import ITEM, eta_after, finish_static
from feeds.schema import AIS_STATIC

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Longest static payload read: type 5, 424 bits = 71 armoured characters (the last 2 bits
# are spare).
STATIC_CHARS = 71
# The MMSI (bits 8-37) must be complete; type 24 needs its part number too (bits 38-39).
MIN_BITS = {5: 38, 19: 38, 24: 40}


def text_field(six: U8, start: int, n_chars: int) -> pl.Series:
    """6-bit ASCII text of `n_chars` characters from bit `start` of every row."""
    codes = np.stack([bit_field(six, start + 6 * k, 6) for k in range(n_chars)], axis=1)
    ascii_ = np.where(codes < 32, codes + 64, codes).astype(np.uint8)
    n = ascii_.shape[0]
    offsets = np.arange(0, (n + 1) * n_chars, n_chars, dtype=np.int64)
    array = pa.LargeStringArray.from_buffers(
        n, pa.py_buffer(offsets.tobytes()), pa.py_buffer(ascii_.tobytes())
    )
    text = pl.Series(pl.from_arrow(array))
    return text.str.strip_chars_end("@").str.strip_chars()


def _dims(six: U8, start: int) -> tuple[I64, I64]:
    """(length = bow + stern, beam = port + starboard) from the 30-bit dimension block."""
    bow, stern = bit_field(six, start, 9), bit_field(six, start + 9, 9)
    port, starboard = bit_field(six, start + 18, 6), bit_field(six, start + 24, 6)
    return bow + stern, port + starboard


def static_fields(msgs: pl.DataFrame) -> pl.DataFrame:
    """Decode static messages; `msgs` has `_item`, `payload`, `msg_type` (5, 19 or 24).

    Returns one row per message with `_item`, `mmsi`, `partno` (type 24, else null), `imo`,
    `name`, `callsign`, `ship_type`, `length_m`, `beam_m`, `draught_m`, `destination` and
    the ETA parts `eta_month`, `eta_day`, `eta_hour`, `eta_minute`, all raw (sentinels kept),
    with null where the message type has no such field.
    """
    six = sixbit_matrix(msgs["payload"], STATIC_CHARS)
    kind = msgs["msg_type"].to_numpy()
    t5, t19, t24 = kind == 5, kind == 19, kind == 24
    mmsi = bit_field(six, 8, 30)
    partno = bit_field(six, 38, 2)
    part_a, part_b = t24 & (partno == 0), t24 & (partno == 1)
    mothership = part_b & (mmsi // 10_000_000 == 98)

    len5, beam5 = _dims(six, 240)
    len19, beam19 = _dims(six, 271)
    len24, beam24 = _dims(six, 132)
    parts = pl.DataFrame(
        {
            ITEM: msgs[ITEM], "msg_type": kind, "mmsi": mmsi, "partno": partno,
            "_t5": t5, "_t19": t19, "_a": part_a, "_b": part_b, "_bd": part_b & ~mothership,
            "imo5": bit_field(six, 40, 30),
            "name5": text_field(six, 112, 20), "name19": text_field(six, 143, 20),
            "name24": text_field(six, 40, 20),
            "call5": text_field(six, 70, 7), "call24": text_field(six, 90, 7),
            "type5": bit_field(six, 232, 8), "type19": bit_field(six, 263, 8),
            "type24": bit_field(six, 40, 8),
            "len5": len5, "len19": len19, "len24": len24,
            "beam5": beam5, "beam19": beam19, "beam24": beam24,
            "draught5": bit_field(six, 294, 8) / 10.0,
            "dest5": text_field(six, 302, 20),
            "month5": bit_field(six, 274, 4), "day5": bit_field(six, 278, 5),
            "hour5": bit_field(six, 283, 5), "minute5": bit_field(six, 288, 6),
        }
    )
    t5c, t19c, a, b, bd = (pl.col(c) for c in ("_t5", "_t19", "_a", "_b", "_bd"))
    return parts.select(
        ITEM, "msg_type", "mmsi",
        pl.when(pl.col("msg_type") == 24).then("partno").alias("partno"),
        pl.when(t5c).then("imo5").alias("imo"),
        pl.when(t5c).then("name5").when(t19c).then("name19").when(a).then("name24")
        .alias("name"),
        pl.when(t5c).then("call5").when(b).then("call24").alias("callsign"),
        pl.when(t5c).then("type5").when(t19c).then("type19").when(b).then("type24")
        .alias("ship_type"),
        pl.when(t5c).then("len5").when(t19c).then("len19").when(bd).then("len24")
        .alias("length_m"),
        pl.when(t5c).then("beam5").when(t19c).then("beam19").when(bd).then("beam24")
        .alias("beam_m"),
        pl.when(t5c).then("draught5").alias("draught_m"),
        pl.when(t5c).then("dest5").alias("destination"),
        pl.when(t5c).then("month5").alias("eta_month"),
        pl.when(t5c).then("day5").alias("eta_day"),
        pl.when(t5c).then("hour5").alias("eta_hour"),
        pl.when(t5c).then("minute5").alias("eta_minute"),
    )


def decode_static(msgs: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Static messages → `(rows in AIS_STATIC plus _item, rejected _item/rule/detail)`.

    `msgs` has `_item`, `payload`, `fill`, `ts_us` (UTC microseconds), `msg_type`.
    """
    n_bits = msgs["payload"].str.len_bytes().cast(pl.Int64) * 6 - msgs["fill"]
    need = msgs["msg_type"].replace_strict(MIN_BITS, return_dtype=pl.Int64)
    short = msgs.filter(n_bits < need).select(
        ITEM, rule=pl.lit("ais.short_payload"),
        detail=pl.concat_str(pl.lit("type "), pl.col("msg_type").cast(pl.String),
                             pl.lit(" payload too short for its MMSI / part number")),
    )
    msgs = msgs.filter(n_bits >= need)
    fields = static_fields(msgs).with_columns(ts_us=msgs["ts_us"])
    bad_part = fields.filter((pl.col("msg_type") == 24) & (pl.col("partno") > 1)).select(
        ITEM, rule=pl.lit("ais.bad_part"),
        detail=pl.concat_str(pl.lit("type 24 part number "), pl.col("partno").cast(pl.String),
                             pl.lit(" (only 0 = A and 1 = B exist)")),
    )
    fields = fields.filter((pl.col("msg_type") != 24) | (pl.col("partno") <= 1))
    etas = [
        eta_after(m, d, h, mi, EPOCH + timedelta(microseconds=ts))
        for m, d, h, mi, ts in fields.select(
            "eta_month", "eta_day", "eta_hour", "eta_minute", "ts_us"
        ).iter_rows()
    ]
    raw = fields.with_columns(
        pl.col("ts_us").cast(pl.Datetime("us")).dt.replace_time_zone("UTC").alias("ts_utc"),
        pl.Series("eta_utc", etas, dtype=AIS_STATIC["eta_utc"]),
    )
    return finish_static(raw.select(ITEM, *AIS_STATIC)), pl.concat([short, bad_part])
