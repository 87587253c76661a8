"""Planner views and report: the deltas table's rows from a compare result and window rows (exact
values), the tables' text, the scenario in words, and the offline report's content."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd
import pytest

from dashboards.planner import deck
from dashboards.planner.report import report_html
from dashboards.planner.views import kpi_rows, kpi_table, scenario_text, windows_table
from twin.scenario import bundled, load_scenario


def _summary(baseline: float, scenario: float, ci: float | None) -> dict[str, Any]:
    return {
        "unit": "",
        "what": "",
        "baseline": baseline,
        "scenario": scenario,
        "difference": round(scenario - baseline, 3),
        "ci95": ci,
    }


COMPARED = {
    "days": 4.0,
    "seeds": [1, 2],
    "start_utc": "2026-11-28T00:00:00Z",
    "summary": {
        "wait_mean_h": _summary(10.0, 8.5, 0.5),
        "wait_total_h": _summary(400.0, 380.0, 30.0),
        "deep_wait_mean_h": _summary(2.0, 1.0, 1.5),
        "berth_occupancy_pct": _summary(50.0, 52.0, 1.0),
        "throughput_t": _summary(4_000_000.0, 4_200_000.0, 100_000.0),
        "calls_refused": _summary(0.0, 0.0, None),
    },
}
WINDOWS = [
    {
        "date": "2026-11-28",
        "baseline_h": 0.5,
        "baseline_windows": 1,
        "scenario_h": 2.5,
        "scenario_windows": 1,
        "gain_h": 2.0,
    },
    {
        "date": "2026-11-29",
        "baseline_h": 0.0,
        "baseline_windows": 0,
        "scenario_h": 1.5,
        "scenario_windows": 2,
        "gain_h": 1.5,
    },
]


def test_kpi_rows_take_the_summary_and_the_windows_means() -> None:
    rows = {r.key: r for r in kpi_rows(COMPARED, WINDOWS)}
    assert list(rows) == [
        "wait_mean_h",
        "wait_total_h",
        "deep_wait_mean_h",
        "berth_occupancy_pct",
        "throughput_t_per_day",
        "calls_refused",
        "window_h_per_day",
        "windows_per_day",
    ]
    wait = rows["wait_mean_h"]
    assert (wait.baseline, wait.scenario, wait.delta, wait.ci95) == (10.0, 8.5, -1.5, 0.5)
    assert wait.verdict() == "better"
    # throughput capacity is per day: the 4-day totals and their interval divided by 4
    thr = rows["throughput_t_per_day"]
    assert (thr.baseline, thr.scenario, thr.delta, thr.ci95) == (1_000_000.0, 1_050_000.0, 50_000.0, 25_000.0)
    assert rows["deep_wait_mean_h"].verdict() == ""  # the interval includes zero: no verdict
    assert rows["berth_occupancy_pct"].verdict() == "better"
    win = rows["window_h_per_day"]
    assert (win.baseline, win.scenario, win.delta, win.ci95) == (0.25, 2.0, 1.75, None)
    count = rows["windows_per_day"]
    assert (count.baseline, count.scenario, count.delta) == (0.5, 1.5, 1.0)


def test_rows_without_results_are_empty_and_windows_alone_give_two() -> None:
    assert kpi_rows(None, None) == []
    assert [r.key for r in kpi_rows(None, WINDOWS)] == ["window_h_per_day", "windows_per_day"]


def test_kpi_table_shows_formatted_numbers_and_keeps_exact_ones() -> None:
    html = kpi_table(kpi_rows(COMPARED, WINDOWS), "en")
    row = re.search(r"<tr data-kpi='throughput_t_per_day'[^>]*>(.*?)</tr>", html)
    assert row is not None
    assert "data-delta='50000.0'" in row.group(0) and "data-ci='25000.0'" in row.group(0)
    assert [c for c in re.findall(r"<td[^>]*>(.*?)</td>", row.group(1))] == [
        "Throughput capacity (t/day)",
        "1,000,000",
        "1,050,000",
        "+50,000",
        "25,000",
    ]
    assert "<td class='better'>-1.50</td>" in html  # wait_mean_h
    assert "tide prediction: no spread" in html
    assert "吞吐能力（吨/日）" in kpi_table(kpi_rows(COMPARED, WINDOWS), "zh")


def test_a_delta_that_rounds_to_zero_shows_no_minus_sign() -> None:
    compared = {**COMPARED, "summary": {**COMPARED["summary"], "wait_total_h": _summary(340.0, 339.6, 1.0)}}
    html = kpi_table(kpi_rows(compared, None), "en")
    row = re.search(r"<tr data-kpi='wait_total_h'[^>]*>(.*?)</tr>", html)
    assert row is not None and "data-delta='-0.4'" in row.group(0)
    assert re.findall(r"<td[^>]*>(.*?)</td>", row.group(1))[3] == "0"


def test_windows_table_has_a_row_per_day_and_the_mean() -> None:
    html = windows_table(WINDOWS, "en")
    cells = re.findall(r"<tr data-date='mean'>(.*?)</tr>", html)[0]
    assert re.findall(r"<b>(.*?)</b>", cells) == ["mean/day", "0.25", "2.00", "+1.75"]
    assert "<td>2026-11-29</td><td>0.00</td><td>1.50</td><td>+1.50</td><td>0/2</td>" in html


def test_scenario_text_names_every_change_in_both_languages() -> None:
    scen = load_scenario(bundled("dredge_outer_1m"))
    en = scenario_text(scen, "en")
    assert "dredge K0–K47.2: 1 m deeper" in en
    assert "design vessel 400,000 t: 362 × 65 m, draught 23 m, Cb 0.86, 9 kn" in en
    assert "疏浚 K0–K47.2：加深 1 米" in scenario_text(scen, "zh")
    assert "close berths XS-ORE-400K" in scenario_text(load_scenario(bundled("close_xs_ore_400k")), "en")


def test_scenario_text_names_traffic_rules() -> None:
    from twin.scenario import parse_scenario

    scen = parse_scenario(
        'version = 1\n[traffic]\nscheduling = "optimised"\n[traffic.pilots]\ncount = 20\n'
        "max_shift_h = 12.0\nmin_rest_h = 10.0\n"
    )
    text = scenario_text(scen, "en")
    assert (
        "channel scheduling: optimised" in text
        and "20 pilots (shifts up to 12 h, rest at least 10 h)" in text
    )


@pytest.fixture(scope="module")
def report() -> str:
    scen = load_scenario(bundled("dredge_outer_1m"))
    cells = pd.DataFrame(
        {
            "lon": [110.6],
            "lat": [21.0],
            "r": [40],
            "g": [200],
            "b": [110],
            "a": [150],
            "tooltip": ["net UKC +1.00 m"],
        }
    )
    spec = deck.records_spec(deck.side_spec([], cells))
    return report_html(
        lang="en",
        scenario=scen,
        base_spec=spec,
        scen_spec=spec,
        ukc_time="11-28 16:00 (UTC+8)",
        vessel_text="Design vessel: 362 × 65 m",
        rule_text="UKC rule",
        windows=WINDOWS,
        rows=kpi_rows(COMPARED, WINDOWS),
        sim_text="Fast-time simulation: 4 days",
    )


def test_report_references_nothing_online(report: str) -> None:
    # every script is inline (no src); the libraries' own texts (error messages naming a CDN) aside,
    # the page has no address at all: no src/href/url()/@import to fetch
    page = re.sub(r"<script>.*?</script>", "<script></script>", report, flags=re.DOTALL)
    assert set(re.findall(r"<script[^>]*>", page)) == {"<script>"}
    assert "http://" not in page and "https://" not in page
    assert not re.search(r"""(src|href)\s*=|url\(|@import""", page, re.IGNORECASE)
    assert "deck.gl" in report and "plannerMount(" in report


def test_report_holds_the_scenario_windows_and_deltas(report: str) -> None:
    assert "dredge K0–K47.2: 1 m deeper" in report
    assert "data-kpi='throughput_t_per_day'" in report and "data-delta='50000.0'" in report
    assert "<tr data-date='mean'>" in report
    assert '"lon":110.6' in report and '"tooltip":"net UKC +1.00 m"' in report  # map data as records
    assert "_layer_" not in report  # Panel's tag columns stay out of the file


def test_a_closed_berth_is_outlined_and_ringed_on_the_scenario_map(port: object) -> None:
    from twin.scenario import apply_to_port

    closed = deck.closed_frame(apply_to_port(port, load_scenario(bundled("close_xs_ore_400k"))))  # type: ignore[arg-type]
    assert len(closed) == 1 and closed["tooltip"][0].endswith("closed / 关闭")
    berth = port.berths["XS-ORE-400K"]  # type: ignore[attr-defined]
    assert (closed["lon"][0], closed["lat"][0]) == (
        round(berth.pocket.centroid.x, 6),
        round(berth.pocket.centroid.y, 6),
    )
    spec = deck.side_spec([], deck.ukc_frame(_no_cells()), closed=closed)
    assert [layer["id"] for layer in spec["layers"]] == [deck.UKC_ID, deck.CLOSED_ID, deck.CLOSED_MARK_ID]
    assert deck.closed_frame(port).empty  # type: ignore[arg-type]


def _no_cells() -> Any:
    import polars as pl

    return pl.DataFrame(
        schema={"lon": pl.Float64, "lat": pl.Float64, "net_ukc_m": pl.Float64, "ukc_class": pl.Int64}
    )
