"""Data-quality KPIs: per feed, last message age, message rate and rejected share; vessels gone dark.

The feed figures are computed from `feed_counts` (feed, ts_utc of one second, rows accepted, rows
rejected in it). Build those rows from each batch with `feed_counts_of` (live) or from the history
store (twin.kpi_cli), so both paths count the same rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import polars as pl

from twin.kpi.core import (
    FEED_COUNT_SCHEMA,
    Definition,
    KpiInputs,
    KpiResult,
    Window,
    check_by,
    normalise_by,
)

# Canonical frame kind → feed (the same split as the engine's feed health).
FEED_OF_KIND = {"ais_position": "ais", "ais_static": "ais", "gate_event": "gate",
                "customs_event": "customs", "tide_obs": "tide"}

FEED_QUALITY = Definition(
    id="feed_quality", label_en="Feed data quality", label_zh="数据源质量", unit="per feed",
    formula="per feed: last_age_s = window end − newest accepted row time (any time up to the window end); "
            "msgs_per_min = accepted rows in the window ÷ window minutes; rejected_share = rejected rows ÷ "
            "(accepted + rejected rows) in the window",
    uses="feed_counts rows (accepted rows per feed and second by their ts_utc; rejected rows at the time "
         "they were read, as they have no trusted time of their own)",
    source="project definition (docs/kpi.md), after the twin's feed health rule (contracts §6 feeds) and "
           "ISO 8000-8 data quality measures (timeliness, validity)",
    window_rule="rows whose second falls in the window; the age looks at every row up to the window end",
    group_fields=("feed",),
    note="value is last_age_s; a feed that never sent has a null age (unknown, not 0)")
VESSELS_DARK = Definition(
    id="vessels_dark", label_en="Vessels gone dark", label_zh="信号中断船舶", unit="vessels",
    formula="number of vessels the engine flags dark at the window end (no AIS report for longer than the "
            "reporting interval of their state allows)",
    uses="vessel state (dark, last_seen_utc) of the engine at the window end",
    source="project definition (engine darkness rule after ITU-R M.1371 reporting intervals)",
    window_rule="state at the window end (not a count over the window)",
    group_fields=("vessel_class",))


def feed_counts_of(frames: Mapping[str, pl.DataFrame], now: datetime,
                   rejected: Mapping[str, int] | None = None) -> pl.DataFrame:
    """Feed-count rows of one batch: accepted rows per feed and second of `ts_utc` (rows without a time
    are not counted), plus `rejected[feed]` rows at the second of `now` (aware). Kinds that are not a
    feed's (e.g. `port_call_cargo`) are ignored."""
    parts = []
    for kind, frame in frames.items():
        feed = FEED_OF_KIND.get(kind)
        if feed is None or frame.height == 0:
            continue
        parts.append(frame.select(pl.col("ts_utc").dt.truncate("1s")).drop_nulls()
                     .group_by("ts_utc").agg(pl.len().cast(pl.Int64).alias("rows"))
                     .with_columns(pl.lit(feed).alias("feed"), pl.lit(0, pl.Int64).alias("rejected")))
    stamp = pl.lit(now).cast(pl.Datetime("us", "UTC")).dt.truncate("1s")
    for feed, n in (rejected or {}).items():
        if n:
            parts.append(pl.select(stamp.alias("ts_utc"), pl.lit(0, pl.Int64).alias("rows"),
                                   pl.lit(feed).alias("feed"), pl.lit(n, pl.Int64).alias("rejected")))
    if not parts:
        return pl.DataFrame(schema=FEED_COUNT_SCHEMA)
    cast = [pl.col(c).cast(t) for c, t in FEED_COUNT_SCHEMA.items()]
    return compact_feed_counts(pl.concat([p.select(cast) for p in parts]))


def compact_feed_counts(counts: pl.DataFrame) -> pl.DataFrame:
    """One row per (feed, second): rows and rejected summed; sorted."""
    return (counts.group_by("feed", "ts_utc").agg(pl.col("rows").sum(), pl.col("rejected").sum())
            .select(list(FEED_COUNT_SCHEMA)).sort("feed", "ts_utc"))


def feed_quality(inputs: KpiInputs, window: Window, by: str | None = "feed") -> KpiResult:
    """Per feed (see `FEED_QUALITY`). Table: feed, value (= last_age_s), last_utc, last_age_s,
    rows, rejected, msgs_per_min, rejected_share. Always per feed (`by` may only be "feed" or None)."""
    by = normalise_by(by)
    check_by(FEED_QUALITY, by)
    counts = inputs.get("feed_counts").filter(pl.col("ts_utc") < window.end_utc)
    last = (counts.filter(pl.col("rows") > 0).group_by("feed")
            .agg(pl.col("ts_utc").max().alias("last_utc")))
    items = counts.filter(window.contains("ts_utc")).sort("feed", "ts_utc")
    per_feed = items.group_by("feed").agg(pl.col("rows").sum(), pl.col("rejected").sum())
    feeds = pl.concat([last.select("feed"), per_feed.select("feed")]).unique()
    end = pl.lit(window.end_utc).cast(pl.Datetime("us", "UTC"))
    table = (feeds.join(last, on="feed", how="left").join(per_feed, on="feed", how="left")
             .with_columns(pl.col("rows").fill_null(0), pl.col("rejected").fill_null(0),
                           ((end - pl.col("last_utc")).dt.total_microseconds() / 1e6).alias("last_age_s"))
             .with_columns(pl.col("last_age_s").alias("value"),
                           (pl.col("rows") / (window.hours * 60.0)).alias("msgs_per_min"),
                           pl.when(pl.col("rows") + pl.col("rejected") > 0)
                           .then(pl.col("rejected") / (pl.col("rows") + pl.col("rejected")))
                           .alias("rejected_share"))
             .select("feed", "value", "last_utc", "last_age_s", "rows", "rejected", "msgs_per_min",
                     "rejected_share").sort("feed"))
    return KpiResult(FEED_QUALITY, window, "feed", table, items)


def vessels_dark(inputs: KpiInputs, window: Window, by: str | None = None) -> KpiResult:
    """Vessels flagged dark (see `VESSELS_DARK`). Table: value (vessels)."""
    by = normalise_by(by)
    check_by(VESSELS_DARK, by)
    items = (inputs.get("vessels").filter(pl.col("dark"))
             .with_columns(((pl.lit(window.end_utc).cast(pl.Datetime("us", "UTC")) - pl.col("last_seen_utc"))
                            .dt.total_microseconds() / 1e6).alias("silent_s"))
             .sort("mmsi"))
    agg = pl.len().cast(pl.Float64).alias("value")
    table = items.select(agg) if by is None else items.group_by(by).agg(agg).sort(by, nulls_last=True)
    return KpiResult(VESSELS_DARK, window, by, table, items)
