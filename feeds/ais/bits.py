"""Vectorised AIS payload work with numpy: checksums, de-armouring and position bit fields.

Strings come in as polars String series; their Arrow buffers (one byte array plus offsets)
are read without copying, so a million payloads cost a handful of numpy passes instead of a
million Python calls. Bit layouts follow gpsd's AIVDM.adoc (see feeds.md §1.2).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa

U8 = npt.NDArray[np.uint8]
I64 = npt.NDArray[np.int64]

# 6-bit de-armouring: '0'..'W' → 0..39, '`'..'w' → 40..63; 255 marks a character that is
# not valid in an armoured payload.
ARMOUR = np.full(256, 255, dtype=np.uint8)
ARMOUR[48:88] = np.arange(0, 40, dtype=np.uint8)
ARMOUR[96:120] = np.arange(40, 64, dtype=np.uint8)

# Message type of each armour character (the first payload character is the type).
ARMOUR_CODES = {chr(c): int(ARMOUR[c]) for c in range(256) if ARMOUR[c] != 255}

# Position reports need 168 bits = 28 armoured characters.
POSITION_CHARS = 28
# Fields the twin reads must lie inside the payload actually sent: up to the true heading.
MIN_BITS = {1: 137, 2: 137, 3: 137, 18: 133}


def string_buffers(series: pl.Series) -> tuple[U8, I64]:
    """The UTF-8 bytes of all strings of `series` and the n+1 offsets delimiting each one.

    Nulls read as empty strings. No copy is made when polars hands over a contiguous array.
    """
    arr = series.cast(pl.String).rechunk().to_arrow()
    if not pa.types.is_large_string(arr.type):
        arr = arr.cast(pa.large_string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    _, offsets_buf, data_buf = arr.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=np.int64)[arr.offset : arr.offset + len(arr) + 1]
    data = (
        np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None
        else np.zeros(0, dtype=np.uint8)
    )
    return data, offsets


def xor_checksum(series: pl.Series) -> npt.NDArray[np.int16]:
    """NMEA checksum (XOR of all bytes) of each string of `series`; -1 for an empty string."""
    data, offsets = string_buffers(series)
    starts, ends = offsets[:-1], offsets[1:]
    out = np.full(len(starts), -1, dtype=np.int16)
    nonempty = ends > starts
    if data.size and nonempty.any():
        # reduceat over [start_i, start_{i+1}) gives exactly each string's bytes when the
        # empty strings are left out of the index list.
        idx = starts[nonempty]
        xor = np.bitwise_xor.reduceat(data, idx)
        # The last segment runs to the end of `data`; trim by recomputing it when the
        # buffer holds bytes past the last string (sliced arrays).
        last = np.flatnonzero(nonempty)[-1]
        if ends[last] != data.size:
            xor[-1] = np.bitwise_xor.reduce(data[starts[last] : ends[last]])
        out[nonempty] = xor
    return out


def xor_between(series: pl.Series, begin: npt.NDArray[np.integer],
                end: npt.NDArray[np.integer]) -> npt.NDArray[np.int16]:
    """XOR of bytes [begin, end) of each string of `series` (byte offsets within the string).

    One `reduceat` over interleaved (start, stop) pairs: the even results are the wanted
    segments, the odd ones (gaps between strings) are discarded. Empty segments give -1.
    """
    data, offsets = string_buffers(series)
    starts = offsets[:-1] + np.asarray(begin, dtype=np.int64)
    stops = offsets[:-1] + np.asarray(end, dtype=np.int64)
    out = np.full(starts.size, -1, dtype=np.int16)
    valid = (stops > starts) & (stops <= offsets[1:])
    if not valid.any():
        return out
    # reduceat needs indices < len(data); a trailing zero byte makes `stop == len` legal.
    padded = np.concatenate([data, np.zeros(1, dtype=np.uint8)])
    pairs = np.empty(2 * int(valid.sum()), dtype=np.int64)
    pairs[0::2], pairs[1::2] = starts[valid], stops[valid]
    out[valid] = np.bitwise_xor.reduceat(padded, pairs)[0::2]
    return out


def bad_armour(series: pl.Series) -> pl.Series:
    """Whether each string holds a character outside the 6-bit armour alphabet."""
    return series.str.contains(r"[^0-W`-w]")


def sixbit_matrix(series: pl.Series, width: int) -> U8:
    """De-armoured first `width` characters of each payload, zero-padded: shape (n, width).

    polars cuts or pads every payload to exactly `width` characters ('0' armours 0), so the
    bytes form an (n, width) block that numpy reshapes without per-row indexing. Characters
    outside the armour alphabet (rejected before this is called) read as 0.
    """
    n = series.len()
    if n == 0:
        return np.zeros((0, width), dtype=np.uint8)
    fixed = series.str.slice(0, width).str.pad_end(width, "0")
    data, offsets = string_buffers(fixed)
    if data.size != n * width or offsets[0] != 0:
        # A multi-byte character slipped in: fall back to per-row indexing.
        starts, lengths = offsets[:-1], np.diff(offsets)
        cols = np.arange(width, dtype=np.int64)
        inside = cols[None, :] < lengths[:, None]
        block = np.where(inside, data[np.where(inside, starts[:, None] + cols[None, :], 0)], 48)
    else:
        block = data[: n * width].reshape(n, width)
    six = ARMOUR[block]
    return np.where(six == 255, 0, six).astype(np.uint8)


def bit_field(six: U8, start: int, width: int, signed: bool = False) -> I64:
    """Bits [start, start+width) of every row of a six-bit matrix, MSB first, as int64.

    Works on whole 6-bit characters: the characters covering the field are shifted into one
    int64 (at most 36 bits for width <= 30), then the field is cut out.
    """
    first, last = start // 6, (start + width - 1) // 6
    acc = np.zeros(six.shape[0], dtype=np.int64)
    for k in range(first, last + 1):
        acc = (acc << 6) | six[:, k].astype(np.int64)
    span = 6 * (last - first + 1)
    value = (acc >> (span - (start - 6 * first) - width)) & ((1 << width) - 1)
    if signed:
        value = np.where(value >= 1 << (width - 1), value - (1 << width), value)
    return value


def position_fields(payloads: pl.Series, fill_bits: npt.NDArray[np.integer]) -> pl.DataFrame:
    """Decode AIS position reports (types 1, 2, 3, 18) from armoured payloads, all at once.

    Returns one row per payload with `msg_type`, `n_bits`, `mmsi`, `nav_status` (null for
    type 18), `sog_kn` (tenths → knots), `lon`, `lat` (1/600000 min → degrees), `cog_deg`
    (tenths → degrees), `heading_deg`. Sentinels are left in place; `finish_positions` nulls
    them. Rows whose `n_bits` is below `MIN_BITS[msg_type]` must be rejected by the caller.
    """
    six = sixbit_matrix(payloads, POSITION_CHARS)
    lengths = payloads.str.len_bytes().to_numpy().astype(np.int64)
    n_bits = 6 * lengths - np.asarray(fill_bits, dtype=np.int64)
    msg_type = six[:, 0].astype(np.int64) if six.shape[0] else np.zeros(0, dtype=np.int64)
    class_b = msg_type == 18
    # Class A fields; type 18 has the same encodings 4 bits earlier from SOG on and no status.
    mmsi = bit_field(six, 8, 30)
    status = bit_field(six, 38, 4)
    sog = np.where(class_b, bit_field(six, 46, 10), bit_field(six, 50, 10))
    lon = np.where(class_b, bit_field(six, 57, 28, True), bit_field(six, 61, 28, True))
    lat = np.where(class_b, bit_field(six, 85, 27, True), bit_field(six, 89, 27, True))
    cog = np.where(class_b, bit_field(six, 112, 12), bit_field(six, 116, 12))
    heading = np.where(class_b, bit_field(six, 124, 9), bit_field(six, 128, 9))
    frame = pl.DataFrame(
        {
            "msg_type": msg_type,
            "n_bits": n_bits,
            "mmsi": mmsi,
            "nav_status": status,
            "sog_kn": sog / 10.0,
            "lon": lon / 600000.0,
            "lat": lat / 600000.0,
            "cog_deg": cog / 10.0,
            "heading_deg": heading,
        }
    )
    return frame.with_columns(
        pl.when(pl.col("msg_type") == 18).then(None).otherwise(pl.col("nav_status"))
        .alias("nav_status")
    )
