"""NMEA 0183 AIS (`!xxVDM` / `!xxVDO`) lines → canonical position and static frames.

Accepted envelopes (feeds.md §1.1):
- NMEA 4 tag block before the sentence, `\\c:1241544035,s:r003669945*4A\\!AIVDM,...`:
  `c` is UNIX time in seconds (or milliseconds when > 1e11), `s` the receiving station,
  `g:k-n-id` groups the fragments of one message. A tag block checksum, when given, is checked.
- Gatehouse `$PGHP,1,yyyy,m,d,H,M,S,ms,...*hh` on the line before a sentence: its time is used
  and the wrapper line is accounted together with the sentence it wraps.
- USCG trailing fields after the checksum, `...*5D,s28089,d-103,T39.44,x147521,r08TPHI1,1242958962`:
  the last field, when an integer, is the UNIX time in seconds; `r...` names the station.
  Other text after the checksum (e.g. a literal `\\x0d\\x0a`) is ignored: the checksum vouches
  for the sentence.
Time of a message: tag block `c`, else USCG time, else `$PGHP` time, of its first fragment that
has one; else the caller's `default_ts_utc`; else the message is rejected (`time.missing`).

Fragments are reassembled per key: the tag-block group id when present, otherwise
(station, talker, channel, sequence id, fragment count), so interleaved messages from different
stations or channels do not mix. A fragment k > 1 must follow fragment k-1 of its key within
200 lines and, when both carry a time, 10 s; a later one is not spliced onto the old message
(sequence ids 0-9 are reused within seconds).

Accounting, per input line (blank and `#` lines are not items): every item ends accepted,
rejected (one `REJECTED` row naming the rule) or skipped (counted by reason, e.g. `type 4`).
The lines of one message (its fragments and their `$PGHP` wrappers) share the message's fate.

Rules: `nmea.malformed`, `nmea.checksum`, `nmea.tag_checksum`, `nmea.fragment_number`,
`nmea.empty_payload`, `nmea.bad_payload`, `nmea.fill_bits`, `nmea.orphan_fragment`,
`nmea.incomplete_fragment`, `nmea.orphan_wrapper`, `time.unparseable`, `time.missing`,
`ais.unknown_type`, `ais.short_payload`, `ais.bad_part`, and the position rules of
`feeds.ais.rules`. Skip reasons: `type N` for AIS types the twin does not use, and
`sentence XXXXX` for other well-formed NMEA sentences (e.g. `$GPRMC`). A sentence must be
printable ASCII up to its checksum; anything else there makes the line `nmea.malformed`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from feeds.ais.bits import (
    ARMOUR_CODES,
    MIN_BITS,
    bad_armour,
    position_fields,
    xor_between,
    xor_checksum,
)
from feeds.ais.rules import ITEM, finish_positions, rejected_rows
from feeds.ais.static import decode_static
from feeds.schema import AIS_POSITION, AIS_STATIC, UTC_US, AdapterResult, empty

# One AIS sentence after its optional tag block; printable ASCII only. Used without capture
# groups (a fast DFA match) to validate, the fields are then cut with splitn.
FIELD = r"[\x20-\x7E&&[^,*!\\]]*"
SENTENCE_BODY = (
    rf"^![A-Z0-9-]{{2}}VD[MO],[0-9],[0-9],[0-9]?,{FIELD},{FIELD},[0-9]\*[0-9A-Fa-f]{{2}}"
)
WRAPPER = (
    r"^\$(?P<body>PGHP,1,(?P<y>[0-9]{4}),(?P<mo>[0-9]{1,2}),(?P<d>[0-9]{1,2}),"
    r"(?P<h>[0-9]{1,2}),(?P<mi>[0-9]{1,2}),(?P<s>[0-9]{1,2}),(?P<ms>[0-9]{1,3}),"
    r"[^,*]*,[^,*]*,(?P<site>[^,*]*)(?:,[^*]*)?)\*(?P<cs>[0-9A-Fa-f]{2})$"
)
OTHER = r"^[!$](?P<body>(?P<name>[A-Z0-9]{3,8})(?:,[^*]*)?)\*(?P<cs>[0-9A-Fa-f]{2})$"
TAG = r"^(?P<content>[^*]*)(?:\*(?P<tcs>[0-9A-Fa-f]{2}))?$"

# A line holding only these characters is blank (not an item); a line whose first other
# character is '#' is a comment. Explicit, so that the count does not depend on which Unicode
# characters a library calls whitespace.
BLANK = " \t\r\n\x0b\x0c"
POSITION_TYPES = (1, 2, 3, 18)
STATIC_TYPES = (5, 19, 24)
# Fragments still waiting for their next part are carried into the next batch only when they
# arrived within this many items of the batch end; older ones are incomplete.
CARRY_WINDOW = 200
# The next fragment of a message must come within this many items and seconds (when both
# fragments carry a time) of the previous one.
FRAGMENT_GAP_ITEMS = CARRY_WINDOW
FRAGMENT_GAP_S = 10
# `c:` values above this are milliseconds (1e11 s is the year 5138, 1e11 ms is 1973).
MS_THRESHOLD = 100_000_000_000

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
HEX = {value: f"{value:02X}" for value in range(256)}
ACCEPTED, REJECTED_, SKIPPED, CARRIED = 1, 2, 3, 4


def _to_us(ts: datetime | None) -> int | None:
    if ts is None:
        return None
    if ts.tzinfo is None:
        raise ValueError(f"default_ts_utc must be timezone-aware (UTC), got naive {ts!r}")
    return (ts - EPOCH) // timedelta(microseconds=1)


@dataclass
class _Outcome:
    """Decisions taken on owner items during one batch."""

    n: int
    state: npt.NDArray[np.int8] = field(init=False)
    owner: npt.NDArray[np.int64] = field(init=False)
    reasons: list[pl.DataFrame] = field(default_factory=list)
    skips: list[pl.DataFrame] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.state = np.zeros(self.n, dtype=np.int8)
        self.owner = np.arange(self.n, dtype=np.int64)

    def reject(self, frame: pl.DataFrame) -> None:
        """`frame` has `_item`, `rule`, `detail`; the items are owners."""
        if frame.height:
            self.state[frame[ITEM].to_numpy()] = REJECTED_
            self.reasons.append(frame.select(pl.col(ITEM).cast(pl.Int64), "rule", "detail"))

    def reject_list(self, rows: list[tuple[int, str, str]]) -> None:
        if rows:
            items, rules, details = zip(*rows, strict=True)
            self.reject(pl.DataFrame({ITEM: list(items), "rule": rules, "detail": details}))

    def skip(self, items: npt.ArrayLike, reasons: pl.Series | str) -> None:
        idx = np.asarray(items, dtype=np.int64)
        if idx.size:
            self.state[idx] = SKIPPED
            self.skips.append(pl.DataFrame({ITEM: idx, "reason": reasons}))

    def accept(self, items: npt.ArrayLike) -> None:
        self.state[np.asarray(items, dtype=np.int64)] = ACCEPTED


class NmeaDecoder:
    """Stateful NMEA AIS decoder for a stream cut into batches of lines.

    `feed(lines)` decodes a batch; fragments and `$PGHP` wrappers whose message has not ended
    by the batch end are carried to the next `feed` (and accounted there); `flush()` rejects
    whatever is still waiting. Each returned `AdapterResult` satisfies the accounting invariant
    for the items it resolves (`items_read` counts those, carried items excluded).
    """

    def __init__(self, source: str = "<stream>", default_ts_utc: datetime | None = None) -> None:
        self.source = source
        self.default_us = _to_us(default_ts_utc)
        self._carry = pl.DataFrame(schema={"line": pl.Int64(), "raw": pl.String()})
        self._pos_frames: list[pl.DataFrame] = []
        self._static_frames: list[pl.DataFrame] = []

    @property
    def pending_lines(self) -> int:
        """Lines held back for the next batch (unfinished multi-sentence messages)."""
        return self._carry.height

    def feed(self, lines: Iterable[str] | pl.Series, first_line_no: int = 1) -> AdapterResult:
        """Decode one batch; `first_line_no` is the 1-based source line of `lines[0]`.

        `lines` are strings (line terminators allowed), or a polars String series of them.
        """
        if isinstance(lines, pl.Series):
            raw = lines.cast(pl.String).rename("raw")
        else:
            raw = pl.Series("raw", list(lines), dtype=pl.String)
        frame = pl.DataFrame({"raw": raw}).with_columns(
            (pl.int_range(pl.len(), dtype=pl.Int64) + first_line_no).alias("line"),
            pl.col("raw").str.strip_chars_end("\r\n"),
        )
        text = pl.col("raw").str.strip_chars(BLANK)
        items = frame.filter((text.str.len_bytes() > 0) & ~text.str.starts_with("#"))
        items = pl.concat([self._carry, items.select("line", "raw")])
        return self._decode(items, final=False)

    def flush(self) -> AdapterResult:
        """Resolve everything still carried (as incomplete fragments or orphan wrappers)."""
        items, self._carry = self._carry, self._carry.clear()
        return self._decode(items, final=True)

    # -- one batch -------------------------------------------------------------------------

    def _decode(self, items: pl.DataFrame, final: bool) -> AdapterResult:
        items = items.with_row_index(ITEM).with_columns(pl.col(ITEM).cast(pl.Int64))
        n = items.height
        out = _Outcome(n)
        is_sentence, sentences = _parse_sentences(items)
        others = items.filter(~pl.Series(is_sentence))
        wrappers = self._wrappers(others, out)
        self._others(others.filter(~pl.col("raw").str.starts_with("$PGHP")), out)
        sentences = self._check_sentences(sentences, out)
        sentences = self._pair_wrappers(sentences, wrappers, is_sentence, n, final, out)
        singles, multis = self._assemble(sentences, n, final, out)
        self._messages(singles, multis, out)
        return self._result(items, out)

    def _wrappers(self, others: pl.DataFrame, out: _Outcome) -> pl.DataFrame:
        """Parse `$PGHP` lines; reject the broken ones; return the valid ones with their time."""
        cand = others.filter(pl.col("raw").str.starts_with("$PGHP"))
        parsed = cand.select(
            ITEM, "raw", pl.col("raw").str.strip_chars_end(" \t").str.extract_groups(WRAPPER)
            .alias("m")
        ).unnest("m")
        schema = {ITEM: pl.Int64(), "w_us": pl.Int64(), "w_site": pl.String()}
        if parsed.height == 0:
            return pl.DataFrame(schema=schema)
        matched = parsed.filter(pl.col("body").is_not_null())
        out.reject(
            parsed.filter(pl.col("body").is_null()).select(
                ITEM, rule=pl.lit("nmea.malformed"),
                detail=pl.lit("$PGHP line does not have the Gatehouse layout"),
            )
        )
        calc = xor_checksum(matched["body"])
        given = matched["cs"].str.to_integer(base=16).to_numpy()
        matched = matched.with_columns(_calc=pl.Series(calc.astype(np.int64)))
        bad = matched.filter(pl.Series(calc != given))
        out.reject(bad.select(ITEM, rule=pl.lit("nmea.checksum"), detail=_cs_detail()))
        good = matched.filter(pl.Series(calc == given))
        stamp = pl.concat_str(
            "y", pl.lit("-"), pl.col("mo").str.zfill(2), pl.lit("-"), pl.col("d").str.zfill(2),
            pl.lit(" "), pl.col("h").str.zfill(2), pl.lit(":"), pl.col("mi").str.zfill(2),
            pl.lit(":"), pl.col("s").str.zfill(2), pl.lit("."), pl.col("ms").str.zfill(3),
        )
        good = good.with_columns(
            stamp.str.to_datetime("%Y-%m-%d %H:%M:%S%.3f", time_unit="us", strict=False)
            .cast(pl.Int64).alias("w_us"), stamp.alias("_stamp"),
        )
        out.reject(
            good.filter(pl.col("w_us").is_null()).select(
                ITEM, rule=pl.lit("time.unparseable"),
                detail=pl.concat_str(pl.lit("$PGHP time "), "_stamp", pl.lit(" is not a date")),
            )
        )
        return good.filter(pl.col("w_us").is_not_null()).select(
            ITEM, "w_us", pl.col("site").alias("w_site")
        )

    def _others(self, others: pl.DataFrame, out: _Outcome) -> None:
        """Lines that are not AIS sentences nor wrappers: other NMEA sentences or garbage."""
        if others.height == 0:
            return
        parsed = others.select(
            ITEM, pl.col("raw").str.strip_chars_end(" \t").str.extract_groups(OTHER).alias("m")
        ).unnest("m")
        nmea = parsed.filter(pl.col("body").is_not_null())
        calc = xor_checksum(nmea["body"])
        ok = calc == nmea["cs"].str.to_integer(base=16).to_numpy()
        good = nmea.filter(pl.Series(ok))
        out.skip(good[ITEM].to_numpy(), ("sentence " + good["name"]).alias("reason"))
        out.reject(
            nmea.filter(pl.Series(~ok)).select(
                ITEM, rule=pl.lit("nmea.checksum"),
                detail=pl.lit("checksum of a non-AIS NMEA sentence does not match"),
            )
        )
        out.reject(
            parsed.filter(pl.col("body").is_null()).select(
                ITEM, rule=pl.lit("nmea.malformed"),
                detail=pl.lit("not an NMEA AIVDM/AIVDO sentence"),
            )
        )

    def _check_sentences(self, s: pl.DataFrame, out: _Outcome) -> pl.DataFrame:
        """Line-level rules on parsed sentences; returns the good ones with time and station."""
        s = s.with_columns(
            _given=pl.col("cs").str.to_integer(base=16),
            _bad_chars=bad_armour(s["payload"]),
            count=pl.col("count").cast(pl.Int64),
            num=pl.col("num").cast(pl.Int64),
            fill=pl.col("fill").cast(pl.Int64),
        )
        s = self._tag_fields(s)
        s = self._uscg_fields(s)
        # Rule names over all rows (cheap literals); details only for the rows that broke one.
        rule = (
            pl.when(pl.col("_calc") != pl.col("_given")).then(pl.lit("nmea.checksum"))
            .when(~pl.col("_tag_ok")).then(pl.lit("nmea.tag_checksum"))
            .when(pl.col("_c").is_not_null() & pl.col("_c_us").is_null())
            .then(pl.lit("time.unparseable"))
            .when((pl.col("count") < 1) | (pl.col("num") < 1) | (pl.col("num") > pl.col("count")))
            .then(pl.lit("nmea.fragment_number"))
            .when(pl.col("payload").str.len_bytes() == 0).then(pl.lit("nmea.empty_payload"))
            .when(pl.col("_bad_chars")).then(pl.lit("nmea.bad_payload"))
            .when(pl.col("fill") > 5).then(pl.lit("nmea.fill_bits"))
            .otherwise(None)
            .alias("_why")
        )
        s = s.with_columns(rule)
        r = pl.col("_why")
        detail = (
            pl.when(r == "nmea.checksum").then(_cs_detail())
            .when(r == "nmea.tag_checksum")
            .then(pl.concat_str(pl.lit("tag block \\"), "tag",
                                pl.lit("\\ checksum does not match")))
            .when(r == "time.unparseable")
            .then(pl.concat_str(pl.lit("tag block c:"), "_c", pl.lit(" is not a UNIX time")))
            .when(r == "nmea.fragment_number")
            .then(pl.concat_str(pl.lit("fragment "), pl.col("num").cast(pl.String),
                                pl.lit(" of "), pl.col("count").cast(pl.String)))
            .when(r == "nmea.empty_payload").then(pl.lit("payload field is empty"))
            .when(r == "nmea.bad_payload")
            .then(pl.concat_str(pl.lit("payload "), "payload",
                                pl.lit(" has characters outside the 6-bit armour")))
            .otherwise(pl.concat_str(pl.lit("fill bits "), pl.col("fill").cast(pl.String),
                                     pl.lit(" not in 0..5")))
        )
        out.reject(s.filter(r.is_not_null()).select(ITEM, r.alias("rule"), detail.alias("detail")))
        return s.filter(pl.col("_why").is_null()).select(
            ITEM, "line", "talker", "count", "num", "seq", "chan", "payload", "fill", "cs",
            pl.coalesce("_c_us", "_uscg_us").alias("ts_us"),
            pl.coalesce("_tag_s", "_uscg_r").alias("station"), "group",
        )

    @staticmethod
    def _tag_fields(s: pl.DataFrame) -> pl.DataFrame:
        """Add `_tag_ok`, `_c` (tag time text), `_c_us`, `_tag_s` (station), `group`."""
        if s["tag"].null_count() == s.height:  # no tag blocks in this batch: skip the work
            return s.with_columns(
                _tag_ok=pl.lit(True), _c=pl.lit(None, pl.String), _c_us=pl.lit(None, pl.Int64),
                _tag_s=pl.lit(None, pl.String), group=pl.lit(None, pl.String),
            )
        has_tag = s["tag"].is_not_null()
        tag = s["tag"].fill_null("")
        tag_parts = tag.str.extract_groups(TAG)
        tag_calc = xor_checksum(tag_parts.struct.field("content").fill_null(""))
        tag_given = tag_parts.struct.field("tcs").str.to_integer(base=16, strict=False)
        s = s.with_columns(
            _tag_ok=(~has_tag | tag_given.is_null() | (tag_given == pl.Series(tag_calc)))
            & (tag_parts.struct.field("content").is_not_null() | ~has_tag),
            _c=tag.str.extract(r"(?:^|,)c:([^,*]*)", 1),
            _tag_s=tag.str.extract(r"(?:^|,)s:([^,*]*)", 1),
            group=tag.str.extract(r"(?:^|,)g:[0-9]+-[0-9]+-([^,*]*)", 1),
        )
        c_s = pl.col("_c").cast(pl.Float64, strict=False)
        return s.with_columns(
            _c_us=pl.when(c_s >= MS_THRESHOLD).then(c_s * 1_000).otherwise(c_s * 1_000_000)
            .round(0).cast(pl.Int64, strict=False),
        )

    @staticmethod
    def _uscg_fields(s: pl.DataFrame) -> pl.DataFrame:
        """Add `_uscg_us` (trailing UNIX time) and `_uscg_r` (station) of USCG sentences."""
        uscg = pl.col("rest").str.starts_with(",")
        if not s.select(uscg.any()).item():
            return s.with_columns(
                _uscg_us=pl.lit(None, pl.Int64), _uscg_r=pl.lit(None, pl.String)
            )
        rest = pl.col("rest")
        uscg_time = rest.str.extract(r",([0-9]{1,12})$", 1).cast(pl.Int64, strict=False)
        return s.with_columns(
            _uscg_us=pl.when(uscg).then(uscg_time * 1_000_000),
            _uscg_r=pl.when(uscg).then(rest.str.extract(r",r([^,]*)", 1)),
        )

    def _pair_wrappers(
        self, s: pl.DataFrame, wrappers: pl.DataFrame, is_sentence: npt.NDArray[np.bool_],
        n: int, final: bool, out: _Outcome,
    ) -> pl.DataFrame:
        """Give each sentence the time/site of a valid `$PGHP` on the item just before it."""
        if wrappers.height == 0:
            return s
        w_items = wrappers[ITEM].to_numpy()
        nxt = w_items + 1
        followed = np.zeros(w_items.size, dtype=bool)
        inside = nxt < n
        followed[inside] = is_sentence[nxt[inside]]
        good_sentence = np.zeros(n + 1, dtype=bool)
        good_sentence[s[ITEM].to_numpy()] = True
        paired = followed & good_sentence[np.minimum(nxt, n)]
        # A wrapper whose sentence was rejected shares that sentence's rejection.
        shares = followed & ~paired
        out.owner[w_items[shares]] = nxt[shares]
        at_end = (nxt >= n) & (not final)
        out.state[w_items[at_end]] = CARRIED
        lonely = ~followed & ~at_end
        out.reject(
            pl.DataFrame({ITEM: w_items[lonely]}).with_columns(
                rule=pl.lit("nmea.orphan_wrapper"),
                detail=pl.lit("$PGHP wrapper not followed by an AIS sentence"),
            )
        )
        link = pl.DataFrame({"_w": w_items[paired], ITEM: nxt[paired]})
        link = link.join(wrappers.rename({ITEM: "_w"}), on="_w")
        out.owner[link["_w"].to_numpy()] = link[ITEM].to_numpy()
        s = s.join(link, on=ITEM, how="left")
        return s.with_columns(
            pl.coalesce("ts_us", "w_us").alias("ts_us"),
            pl.coalesce("station", "w_site").alias("station"),
        ).drop("_w", "w_us", "w_site")

    def _assemble(
        self, s: pl.DataFrame, n: int, final: bool, out: _Outcome
    ) -> tuple[pl.DataFrame, pl.DataFrame]:
        """Split singles from fragments and reassemble the fragments in item order.

        Returns `(singles, multis)`, both with `_item` (the first fragment's, which owns the
        message), `payload`, `fill`, `ts_us`. Two-sentence messages without a tag-block group
        (nearly all of them) pair vectorised; other keys go through `_assemble_loop`. Keys
        partition the fragments, so the two paths cannot interfere.
        """
        singles = s.filter(pl.col("count") == 1).select(ITEM, "payload", "fill", "ts_us")
        frags = s.filter(pl.col("count") > 1).select(
            ITEM, "talker", "count", "num", "seq", "chan", "payload", "fill", "ts_us", "station",
            "group",
        )
        simple = (pl.col("count") == 2) & pl.col("group").is_null()
        pairs = self._assemble_pairs(frags.filter(simple), n, final, out)
        rest = self._assemble_loop(frags.filter(~simple).sort(ITEM), n, final, out)
        return singles, pl.concat([pairs, rest])

    @staticmethod
    def _assemble_pairs(f: pl.DataFrame, n: int, final: bool, out: _Outcome) -> pl.DataFrame:
        """Pair two-sentence messages: in each key's item order, fragment 1 followed at once
        by fragment 2 (within the gap limits) is a message; the same outcomes as the loop."""
        f = f.with_columns(station=pl.col("station").fill_null("")).sort(
            "station", "talker", "chan", "seq", ITEM
        )
        same = pl.all_horizontal(
            *[(pl.col(k) == pl.col(k).shift(-1)).fill_null(False)
              for k in ("station", "talker", "chan", "seq")]
        )
        f = f.with_columns(
            _next_same=same,
            _next_num=pl.col("num").shift(-1),
            _next_item=pl.col(ITEM).shift(-1),
            _next_ts=pl.col("ts_us").shift(-1),
            _next_payload=pl.col("payload").shift(-1),
            _next_fill=pl.col("fill").shift(-1),
        )
        gap_items = pl.col("_next_item") - pl.col(ITEM)
        gap_s = (pl.col("_next_ts") - pl.col("ts_us")).abs()
        too_far = (gap_items > FRAGMENT_GAP_ITEMS) | (gap_s > FRAGMENT_GAP_S * 1_000_000).fill_null(
            False
        )
        first = pl.col("num") == 1
        f = f.with_columns(
            _pair=first & pl.col("_next_same") & (pl.col("_next_num") == 2) & ~too_far,
        )
        # A fragment 2 is taken when the row before it in its key opened a pair.
        f = f.with_columns(_taken=pl.col("_pair").shift(1).fill_null(False) & (pl.col("num") == 2))
        pairs = f.filter("_pair")
        out.owner[pairs["_next_item"].to_numpy()] = pairs[ITEM].to_numpy()
        label = pl.concat_str(
            pl.lit("fragment "), pl.col("num").cast(pl.String), pl.lit(" of 2 (seq '"),
            pl.col("seq"), pl.lit("', channel '"), pl.col("chan"), pl.lit("') "),
        )
        lone = f.filter(first & ~pl.col("_pair"))
        at_end = ~pl.col("_next_same")
        carry = at_end & pl.lit(not final) & (pl.col(ITEM) >= n - CARRY_WINDOW)
        out.state[lone.filter(carry)[ITEM].to_numpy()] = CARRIED
        why = (
            pl.when(at_end).then(pl.lit("never got its remaining fragments"))
            .when(pl.col("_next_num") == 1)
            .then(pl.lit("was followed by a new message before its next fragment"))
            .when(pl.col("_next_num") == 2).then(pl.lit("got no next fragment in time"))
            .otherwise(pl.lit("was followed by a fragment out of order"))
        )
        out.reject(lone.filter(~carry).select(
            ITEM, rule=pl.lit("nmea.incomplete_fragment"), detail=pl.concat_str(label, why),
        ))
        orphans = f.filter(~first & ~pl.col("_taken"))
        out.reject(orphans.select(
            ITEM, rule=pl.lit("nmea.orphan_fragment"),
            detail=pl.concat_str(label, pl.lit("without fragment "),
                                 (pl.col("num") - 1).cast(pl.String)),
        ))
        return pairs.select(
            ITEM,
            pl.concat_str("payload", "_next_payload").alias("payload"),
            pl.col("_next_fill").alias("fill"),
            pl.coalesce("ts_us", "_next_ts").alias("ts_us"),
        )

    @staticmethod
    def _assemble_loop(frags: pl.DataFrame, n: int, final: bool, out: _Outcome) -> pl.DataFrame:
        """Reassemble fragments one by one (messages of 3+ sentences, tag-block groups)."""
        pending: dict[tuple[object, ...], list[dict[str, Any]]] = {}
        done: list[dict[str, Any]] = []
        errors: list[tuple[int, str, str]] = []

        def drop(key: tuple[object, ...], why: str) -> None:
            for row in pending.pop(key):
                errors.append((int(row[ITEM]), "nmea.incomplete_fragment",
                               f"fragment {row['num']} of {row['count']} (seq '{row['seq']}', "
                               f"channel '{row['chan']}') {why}"))

        for row in frags.iter_rows(named=True):
            group = row["group"]
            key: tuple[object, ...] = (
                ("g", group) if group
                else (row["station"] or "", row["talker"], row["chan"], row["seq"], row["count"])
            )
            if row["num"] == 1:
                if key in pending:
                    drop(key, "was followed by a new message before its next fragment")
                pending[key] = [row]
            else:
                chain = pending.get(key)
                if chain is not None and _too_far(chain[-1], row):
                    drop(key, "got no next fragment in time")
                    chain = None
                if chain is None or chain[-1]["num"] != row["num"] - 1:
                    if chain is not None:
                        drop(key, f"was followed by fragment {row['num']} instead of the next")
                    errors.append((row[ITEM], "nmea.orphan_fragment",
                                   f"fragment {row['num']} of {row['count']} (seq '{row['seq']}', "
                                   f"channel '{row['chan']}') without fragment {row['num'] - 1}"))
                    continue
                chain.append(row)
            chain = pending[key]
            if len(chain) == chain[0]["count"]:
                members = np.asarray([r[ITEM] for r in chain], dtype=np.int64)
                out.owner[members] = members[0]
                done.append(
                    {
                        ITEM: chain[0][ITEM],
                        "payload": "".join(str(r["payload"]) for r in chain),
                        "fill": chain[-1]["fill"],
                        "ts_us": next((r["ts_us"] for r in chain if r["ts_us"] is not None),
                                      None),
                    }
                )
                del pending[key]
        for key, chain in list(pending.items()):
            if final or chain[-1][ITEM] < n - CARRY_WINDOW:
                drop(key, "never got its remaining fragments")
            else:
                out.state[[r[ITEM] for r in chain]] = CARRIED
        out.reject_list(errors)
        schema = {ITEM: pl.Int64(), "payload": pl.String(), "fill": pl.Int64(),
                  "ts_us": pl.Int64()}
        return pl.DataFrame(done, schema=schema) if done else pl.DataFrame(schema=schema)

    def _messages(self, singles: pl.DataFrame, multis: pl.DataFrame, out: _Outcome) -> None:
        """Route whole messages by type: vectorised positions and statics, counted skips."""
        msgs = pl.concat([singles, multis.cast(singles.schema)])
        if self.default_us is not None:
            msgs = msgs.with_columns(pl.col("ts_us").fill_null(self.default_us))
        msgs = msgs.with_columns(
            msg_type=pl.col("payload").str.head(1)
            .replace_strict(ARMOUR_CODES, default=-1, return_dtype=pl.Int64)
        )
        no_time = msgs.filter(pl.col("ts_us").is_null())
        out.reject(no_time.select(
            ITEM, rule=pl.lit("time.missing"),
            detail=pl.lit("no tag block, USCG or $PGHP time and no default_ts_utc given"),
        ))
        msgs = msgs.filter(pl.col("ts_us").is_not_null())
        t = pl.col("msg_type")
        unknown = msgs.filter((t < 1) | (t > 27))
        out.reject(unknown.select(ITEM, rule=pl.lit("ais.unknown_type"), detail=pl.concat_str(
            pl.lit("message type "), t.cast(pl.String), pl.lit(" does not exist"))))
        other = msgs.filter((t >= 1) & (t <= 27) & ~t.is_in(POSITION_TYPES + STATIC_TYPES))
        out.skip(other[ITEM].to_numpy(), ("type " + other["msg_type"].cast(pl.String)))
        self._positions(msgs.filter(t.is_in(POSITION_TYPES)), out)
        self._statics(msgs.filter(t.is_in(STATIC_TYPES)), out)

    def _positions(self, msgs: pl.DataFrame, out: _Outcome) -> None:
        fields = position_fields(msgs["payload"], msgs["fill"].to_numpy())
        raw = pl.concat([msgs.select(ITEM, "ts_us"), fields], how="horizontal")
        need = pl.col("msg_type").replace_strict(MIN_BITS, return_dtype=pl.Int64)
        short = raw.filter(pl.col("n_bits") < need)
        out.reject(short.select(ITEM, rule=pl.lit("ais.short_payload"), detail=pl.concat_str(
            pl.lit("type "), pl.col("msg_type").cast(pl.String), pl.lit(" payload has "),
            pl.col("n_bits").cast(pl.String), pl.lit(" bits, needs "), need.cast(pl.String))))
        raw = raw.filter(pl.col("n_bits") >= need).with_columns(
            pl.col("ts_us").cast(pl.Datetime("us")).dt.replace_time_zone("UTC").alias("ts_utc")
        )
        good, bad = finish_positions(raw, self.source)
        out.reject(bad)
        out.accept(good[ITEM].to_numpy())
        self._pos_frames.append(good)

    def _statics(self, msgs: pl.DataFrame, out: _Outcome) -> None:
        good, bad = decode_static(msgs)
        out.reject(bad)
        out.accept(good[ITEM].to_numpy())
        self._static_frames.append(good)

    def _result(self, items: pl.DataFrame, out: _Outcome) -> AdapterResult:
        """Propagate owners' fates to every item and build the result; stash the carried."""
        # A wrapper points at its sentence, which may point at its message's first fragment.
        while not np.array_equal(out.owner[out.owner], out.owner):
            out.owner = out.owner[out.owner]
        state = out.state[out.owner]
        carried = state == CARRIED
        self._carry = items.filter(pl.Series(carried)).select("line", "raw")
        own = pl.DataFrame({ITEM: np.arange(out.n, dtype=np.int64), "_owner": out.owner})
        reasons = [
            own.join(r.rename({ITEM: "_owner"}), on="_owner").drop("_owner")
            for r in out.reasons
        ]
        skipped: Counter[str] = Counter()
        for piece in out.skips:
            counted = own.join(piece.rename({ITEM: "_owner"}), on="_owner")
            skipped.update(dict(counted.group_by("reason").len().iter_rows()))
        # Rows leave in input order (single and reassembled messages were decoded apart).
        positions = [f.sort(ITEM).drop(ITEM) for f in self._pos_frames]
        statics = [f.sort(ITEM).drop(ITEM) for f in self._static_frames]
        self._pos_frames, self._static_frames = [], []
        unresolved = int((state == 0).sum())
        if unresolved:
            raise AssertionError(f"NMEA decoder left {unresolved} lines unaccounted (a bug)")
        return AdapterResult(
            frames={
                "ais_position": pl.concat(positions) if positions else empty(AIS_POSITION),
                "ais_static": pl.concat(statics) if statics else empty(AIS_STATIC),
            },
            rejected=rejected_rows(items, reasons, self.source),
            skipped=dict(sorted(skipped.items())),
            items_read=int(out.n - carried.sum()),
            items_accepted=int((state == ACCEPTED).sum()),
        )



def _parse_sentences(items: pl.DataFrame) -> tuple[npt.NDArray[np.bool_], pl.DataFrame]:
    """Find the AIS sentences among `items` and cut them into fields.

    Returns a mask over items (True = an AIS sentence, possibly with a tag block) and, for
    those items, a frame with `_item`, `line`, `tag` (tag block content, null without one),
    `talker`, `count`, `num`, `seq`, `chan`, `payload`, `fill`, `cs`, `rest` (text after the
    checksum, trailing blanks removed), all text, and `_calc`, the checksum computed over the
    sentence between '!' and '*'.
    """
    raw = pl.col("raw")
    tagged = pl.col("_tagged")
    frame = items.select(ITEM, "line", "raw", raw.str.starts_with("\\").alias("_tagged"))
    if frame["_tagged"].any():
        frame = frame.with_columns(
            raw.str.splitn("\\", 3).alias("_t"),  # "\\tag\\!AIVDM..." → "", tag, sentence
        ).unnest("_t")
        frame = frame.select(
            ITEM, "line",
            pl.when(tagged).then(pl.col("field_1")).alias("tag"),
            pl.when(tagged).then(pl.col("field_2")).otherwise(raw).alias("_s"),
        )
    else:
        frame = frame.select(ITEM, "line", pl.lit(None, pl.String).alias("tag"), raw.alias("_s"))
    mask = frame["_s"].str.contains(SENTENCE_BODY).fill_null(False)
    frame = frame.filter(mask)
    # The pattern matched printable ASCII up to the checksum, so byte offsets are safe here.
    star = frame["_s"].str.find("*", literal=True).to_numpy()
    calc = xor_between(frame["_s"], np.ones_like(star), star)
    # Split once into columns (a struct field expression would re-run the split per field).
    frame = frame.with_columns(pl.col("_s").str.splitn(",", 7).alias("_f")).unnest("_f")
    last = pl.col("field_6")
    parsed = frame.select(
        ITEM, "line", "tag",
        pl.col("field_0").str.slice(1, 2).alias("talker"),
        *[
            pl.col(f"field_{k}").alias(name)
            for k, name in ((1, "count"), (2, "num"), (3, "seq"), (4, "chan"), (5, "payload"))
        ],
        last.str.slice(0, 1).alias("fill"),
        last.str.slice(2, 2).alias("cs"),
        # Trailing blanks (seen after real checksums) are not part of the trailing fields.
        last.str.slice(4).str.strip_chars_end(" \t\r\n").alias("rest"),
        pl.Series("_calc", calc.astype(np.int64)),
    )
    return mask.to_numpy(), parsed


def _too_far(previous: dict[str, Any], row: dict[str, Any]) -> bool:
    """Whether `row` is too late to continue the message `previous` belongs to.

    Fragments of one message are sent back to back; a sequence id (0-9) is reused within
    seconds, so a late "next" fragment most likely belongs to a later message whose earlier
    fragments were lost, and chaining it would splice two ships' data.
    """
    if row[ITEM] - previous[ITEM] > FRAGMENT_GAP_ITEMS:
        return True
    t0, t1 = previous["ts_us"], row["ts_us"]
    return t0 is not None and t1 is not None and abs(t1 - t0) > FRAGMENT_GAP_S * 1_000_000


def _cs_detail() -> pl.Expr:
    return pl.concat_str(
        pl.lit("checksum *"), pl.col("cs"), pl.lit(" but the sentence gives "),
        pl.col("_calc").replace_strict(HEX, default="??", return_dtype=pl.String),
    )


def parse_lines(
    lines: Iterable[str], source: str, default_ts_utc: datetime | None, first_line_no: int
) -> AdapterResult:
    """One-shot decode of a finite batch (see `feeds.ais.parse_nmea_lines`)."""
    decoder = NmeaDecoder(source, default_ts_utc)
    head = decoder.feed(lines, first_line_no)
    tail = decoder.flush()
    return merge_results([head, tail])


def merge_results(results: list[AdapterResult]) -> AdapterResult:
    """Concatenate adapter results of consecutive batches of one source."""
    skipped: Counter[str] = Counter()
    for r in results:
        skipped.update(r.skipped)
    kinds = ("ais_position", "ais_static")
    return AdapterResult(
        frames={k: pl.concat([r.frames[k] for r in results]) for k in kinds},
        rejected=pl.concat([r.rejected for r in results]).sort("line", maintain_order=True),
        skipped=dict(sorted(skipped.items())),
        items_read=sum(r.items_read for r in results),
        items_accepted=sum(r.items_accepted for r in results),
    )


__all__ = ["UTC_US", "NmeaDecoder", "merge_results", "parse_lines"]
