"""The layer gallery of the docs: every layer drawn from real twin data, screenshotted in Chromium.

    python -m dashboards.gallery docs/layers

Runs the built-in simulation through the real NMEA adapter and engine for a few simulated hours,
builds each layer from that state with the `layers` functions, writes an offline HTML page per
layer and a PNG screenshot of it (Debian's Chromium, headless, via Playwright).
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pydeck as pdk
import xarray as xr

from dashboards.export import offline_html
from layers import (
    alert_layer,
    anchorage_layer,
    bathymetry_layer,
    berth_layers,
    channel_layer,
    deck_spec,
    gate_layer,
    h3_layer,
    land_layer,
    sensor_layers,
    ukc_layer,
    vessel_layers,
)

START = datetime(2026, 11, 28, tzinfo=UTC)


def simulated_state(hours: float = 8.0, seed: int = 7) -> dict[str, Any]:
    """Engine snapshot after `hours` of the built-in simulation, plus every position seen."""
    from feeds.ais import parse_nmea_lines
    from feeds.simulate import SimConfig, Simulation
    from geodata import load_port
    from twin.engine import Engine, EngineConfig

    port = load_port()
    sim = Simulation(SimConfig(seed=seed, start_utc=START, hours=hours), port)
    engine = Engine(port, EngineConfig())
    positions = []
    now = START
    for batch in sim.iter_batches(step_s=30.0):
        result = parse_nmea_lines(batch.nmea, source="ZJSIM", default_ts_utc=batch.t_utc)
        frames = dict(result.frames)
        for kind, attr in (("gate_event", "gate"), ("customs_event", "customs"), ("tide_obs", "tide"),
                           ("port_call_cargo", "cargo")):
            frame = getattr(batch, attr, None)
            if isinstance(frame, pl.DataFrame) and frame.height:
                frames[kind] = frame
        engine.apply(frames, batch.t_utc)
        positions.append(result.frames["ais_position"].select("lon", "lat"))
        now = batch.t_utc
    snap = engine.snapshot(now)
    vessels = pl.DataFrame(
        [dict(zip(snap["vessels"]["columns"], row, strict=True)) for row in snap["vessels"]["rows"]],
        infer_schema_length=None,
    )
    return {
        "port": port,
        "snapshot": snap,
        "vessels": vessels,
        "now": now,
        "positions": pl.concat(positions) if positions else pl.DataFrame({"lon": [], "lat": []}),
    }


def ukc_example(port: Any, depth: xr.DataArray, when: datetime) -> xr.DataArray:
    """S-129 classes for a laden 400,000 t ore carrier (22.5 m, 10 kn) over the channel area."""
    from twin.tide import read_constituents_toml
    from twin.ukc import UkcRule, Vessel, ukc_grid

    area = depth.sel(lon=slice(110.38, 111.0), lat=slice(20.9, 21.2))
    vessel = Vessel(draught_m=22.5, speed_kn=10.0, cb=0.85, beam_m=65.0, length_m=362.0, vessel_id="VLOC")
    tide = read_constituents_toml(port.files["tide"])
    out = ukc_grid(
        area,
        vessel,
        np.array([np.datetime64(when.replace(tzinfo=None), "ns")]),
        tide,
        rule=UkcRule(fraction_of_draught=0.10),
    )
    classes = out["ukc_class"].isel(time=0)
    return classes.where(area > 14.0, -1)  # only water a ship of this size would be near


def gallery_specs(state: dict[str, Any], depth: xr.DataArray) -> list[tuple[str, str, dict[str, Any]]]:
    """(name, caption, deck spec) of every layer, each over land for context."""
    port, snap = state["port"], state["snapshot"]
    land = land_layer(port)
    occupied = {b["id"]: b.get("mmsi") for b in snap.get("berths", [])}
    occupancy = {a["id"]: a.get("mmsis", []) for a in snap.get("anchorages", [])}
    waits = {a["id"]: a.get("median_wait_h") or 0.0 for a in snap.get("anchorages", [])}
    queue = {g["id"]: g.get("queue", 0) for g in snap.get("gates", [])}
    vessels = state["vessels"]
    alerts = [
        {
            "id": "demo-1",
            "lon": float(r["lon"]),
            "lat": float(r["lat"]),
            "priority": p,
            "text_zh": "示例告警",
            "text_en": "example alert",
        }
        for r, p in zip(vessels.head(3).iter_rows(named=True), ["alarm", "warning", "caution"], strict=False)
    ]
    ukc = ukc_example(port, depth, state["now"])

    def spec(layers: list[pdk.Layer], view: str) -> dict[str, Any]:
        return deck_spec(layers, view)

    return [
        ("land", "land_layer: real coastline (OSM), extruded", spec([land], "overview")),
        (
            "bathymetry",
            "bathymetry_layer: depth below chart datum (estimate; design depths burnt in)",
            spec([bathymetry_layer(depth), land], "overview"),
        ),
        (
            "channel",
            "channel_layer: segments by design depth, passing area lighter",
            spec([land, channel_layer(port)], "channel"),
        ),
        (
            "berths",
            "berth_layers: quays (amber = occupied) and terminal blocks by cargo",
            spec([land, *berth_layers(port, occupied)], "terminals"),
        ),
        (
            "anchorages",
            "anchorage_layer: coloured by median waiting time",
            spec([land, anchorage_layer(port, occupancy, waits), *vessel_layers(vessels)], "anchorages"),
        ),
        (
            "gates",
            "gate_layer: column height = trucks queuing",
            spec([land, gate_layer(port, queue)], "gates"),
        ),
        (
            "vessels",
            "vessel_layers: hulls to scale by phase, markers when zoomed out",
            spec(
                [land, channel_layer(port), *berth_layers(port, occupied), *vessel_layers(vessels)],
                "terminals",
            ),
        ),
        (
            "ukc",
            "ukc_layer: 400,000 t ore carrier at 22.5 m, 10 kn — safe / marginal / no-go",
            spec([land, ukc_layer(ukc)], "channel"),
        ),
        (
            "h3",
            "h3_layer: AIS report density per H3 cell (res 8)",
            spec([land, h3_layer(state["positions"], resolution=8, elevation_scale=0.5)], "overview"),
        ),
        (
            "alerts",
            "alert_layer: open alerts by priority (pulsing in the cockpit)",
            spec([land, *vessel_layers(vessels), alert_layer(alerts)], "anchorages"),
        ),
        (
            "sensors",
            "sensor_layers: VHF/AIS base stations (red = new) with coverage, cameras",
            spec([land, *sensor_layers(port)], "overview"),
        ),
    ]


def main(out_dir: Path) -> None:
    from dashboards.browser import chromium

    out_dir.mkdir(parents=True, exist_ok=True)
    state = simulated_state()
    with xr.open_dataset(state["port"].files["bathymetry"]) as ds:
        depth = ds["depth"].load()
    specs = gallery_specs(state, depth)
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1200, "height": 760})
        for name, caption, spec in specs:
            html_path = out_dir / f"{name}.html"
            html_path.write_text(offline_html(spec, f"layer: {name}", caption=caption), encoding="utf-8")
            page.goto(html_path.resolve().as_uri())
            page.wait_for_function("window.__rendered >= 1", timeout=60_000)
            page.wait_for_timeout(1500)
            page.screenshot(path=str(out_dir / f"{name}.png"))
            html_path.unlink()  # the PNG is the doc; the 2 MB page is rebuilt on demand
            print(f"wrote {out_dir / name}.png")
    print(f"simulated state at {state['now'] + timedelta(0)}: {state['vessels'].height} vessels")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/layers"))
