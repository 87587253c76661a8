"""PlannerStore: the scenario catalogue and its errors, the map cells, and the background jobs, each
checked against twin.scenario / twin.fasttime called directly with the same arguments."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from dashboards.planner.store import PlannerStore
from tests.planner_ui.conftest import windows_called_directly
from twin.fasttime import compare
from twin.port import Port
from twin.scenario import (
    ScenarioFileError,
    bundled,
    design_vessel,
    dredge_mask,
    load_scenario,
    ukc_difference,
)
from twin.tide import read_constituents_toml

T = datetime(2026, 11, 28, 8, tzinfo=UTC)


@pytest.fixture(scope="module")
def store(port: Port, depth: xr.DataArray, scenarios_dir: Path) -> PlannerStore:
    return PlannerStore(
        port, depth, read_constituents_toml(port.files["tide"]), scenarios_dir=scenarios_dir, window_days=1
    )


def _wait(job: object, timeout_s: float = 300.0) -> object:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        status = job.status()  # type: ignore[attr-defined]
        if status.state in ("done", "failed"):
            return status
        time.sleep(0.1)
    raise AssertionError("job did not finish")


def test_catalogue_lists_bundled_then_folder_toml_files(store: PlannerStore) -> None:
    keys = [e.key for e in store.catalogue()]
    shipped = sorted(p.stem for p in bundled("dredge_outer_1m").parent.glob("*.toml"))
    assert {"close_xs_ore_400k", "dredge_outer_1m"} <= set(shipped)
    assert keys == [f"bundled:{name}" for name in shipped] + ["file:bad.toml", "file:pocket.toml"]


def test_a_bad_file_raises_the_validation_error_with_its_line(store: PlannerStore) -> None:
    with pytest.raises(ScenarioFileError) as err:
        store.load("file:bad.toml")
    assert "bad.toml, line 5: dredge[0].to_km: must be greater than from_km (10.0)" in str(err.value)
    # cached errors raise again, they are not forgotten
    with pytest.raises(ScenarioFileError):
        store.load("file:bad.toml")


def test_an_id_the_port_lacks_is_a_scenario_error(port: Port, depth: xr.DataArray, tmp_path: Path) -> None:
    (tmp_path / "ghost.toml").write_text(
        'version = 1\n[berths]\nclose = ["NO-SUCH-BERTH"]\n', encoding="utf-8"
    )
    s = PlannerStore(port, depth, read_constituents_toml(port.files["tide"]), scenarios_dir=tmp_path)
    with pytest.raises(ScenarioFileError, match="no berth 'NO-SUCH-BERTH'"):
        s.load("file:ghost.toml")


def test_difference_cells_are_exactly_the_nonzero_cells_of_ukc_difference(
    store: PlannerStore, port: Port, depth: xr.DataArray
) -> None:
    loaded = store.load("bundled:dredge_outer_1m")
    cells = store.difference_cells(loaded, T)
    scen = load_scenario(bundled("dredge_outer_1m"))
    tide = read_constituents_toml(port.files["tide"])
    from twin.scenario import apply_to_depth

    direct = ukc_difference(
        depth,
        apply_to_depth(depth, scen, port.channel),
        design_vessel(scen),
        np.datetime64("2026-11-28T08:00", "ns"),
        tide,
    ).transpose("lat", "lon")
    mask = dredge_mask(depth, scen, port.channel).values & np.isfinite(depth.values)
    assert cells.height == int(mask.sum()) == int((direct.values[np.isfinite(direct.values)] != 0).sum())
    np.testing.assert_array_equal(np.sort(cells["gain_m"].to_numpy()), np.sort(direct.values[mask]))
    # Barrass squat does not depend on depth: one metre deeper is one metre more UKC
    np.testing.assert_allclose(cells["gain_m"].to_numpy(), 1.0)


def test_scenario_cells_differ_from_the_baseline_only_inside_the_dredge(store: PlannerStore) -> None:
    loaded = store.load("bundled:dredge_outer_1m")
    base = store.baseline_cells(loaded, T)
    scen = store.scenario_cells(loaded, T)
    assert base.select("lon", "lat").equals(scen.select("lon", "lat"))
    changed = scen.filter(base["net_ukc_m"] != scen["net_ukc_m"]).select("lon", "lat")
    dredged = store.difference_cells(loaded, T).select("lon", "lat")
    in_corridor = dredged.join(base.select("lon", "lat"), on=["lon", "lat"], how="semi")
    assert in_corridor.height > 0
    assert sorted(changed.rows()) == sorted(in_corridor.rows())
    assert (scen["ukc_class"] <= base["ukc_class"]).all()  # deeper water never worsens a class


def test_closing_a_berth_changes_no_cell(store: PlannerStore) -> None:
    loaded = store.load("bundled:close_xs_ore_400k")
    assert store.difference_cells(loaded, T).height == 0
    assert loaded.port.berths["XS-ORE-400K"].status == "closed"
    assert store.telling_hour(loaded) == store.high_water()


def test_windows_job_equals_window_hours_per_day(store: PlannerStore, port: Port) -> None:
    loaded = store.load("bundled:dredge_outer_1m")
    status = _wait(store.windows_job(loaded))
    assert status.state == "done"  # type: ignore[attr-defined]
    direct = windows_called_directly(port, "dredge_outer_1m", 1)
    assert status.result == direct  # type: ignore[attr-defined]
    assert store.windows_job(loaded) is store.windows_job(loaded)  # shared, not recomputed


def test_compare_job_counts_runs_and_equals_compare(store: PlannerStore, port: Port) -> None:
    loaded = store.load("bundled:close_xs_ore_400k")
    job = store.compare_job(loaded, days=1, seeds=1)
    status = _wait(job)
    assert status.state == "done" and status.done == status.total == 2  # type: ignore[attr-defined]
    direct = compare(
        port,
        load_scenario(bundled("close_xs_ore_400k")),
        days=1.0,
        seeds=[1],
        start_utc=datetime(2026, 11, 28, tzinfo=UTC),
        progress=False,
        ukc_fraction={"outer": 0.15, "inner": 0.10},
    )
    assert status.result["summary"] == direct["summary"]  # type: ignore[attr-defined]
    assert store.compare_job(loaded, days=1, seeds=1) is job
