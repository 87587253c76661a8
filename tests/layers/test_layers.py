"""The pure layer functions: geometry to scale, colours that mean what the legend says, nothing online."""

from __future__ import annotations

import base64
import io
import json
import math

import numpy as np
import polars as pl
import pytest
import shapely
import xarray as xr

from geodata import load_port
from layers import (
    anchorage_layer,
    berth_layers,
    channel_layer,
    deck_spec,
    gate_layer,
    h3_layer,
    hull_polygons,
    port_layers,
    style,
    ukc_layer,
    vessel_layers,
)
from layers.port_layers import depth_colours, png_data_url
from twin.port import Port


@pytest.fixture(scope="module")
def port() -> Port:
    return load_port()


def test_hull_is_to_scale_and_points_along_the_heading() -> None:
    # 200 m × 30 m ship at 21°N heading 090 (east): bow 100 m east of the reference point,
    # stern corners 100 m west and 15 m either side. 1 m east = 1/(110574·cos 21°) degrees.
    hull = hull_polygons(
        np.array([110.5]), np.array([21.0]), np.array([90.0]), np.array([200.0]), np.array([30.0])
    )[0]
    k = 110_574.0 * math.cos(math.radians(21.0))
    bow = hull[2]
    assert bow[0] == pytest.approx(110.5 + 100 / k, abs=1e-9) and bow[1] == pytest.approx(21.0, abs=1e-9)
    stern_port, stern_stbd = hull[0], hull[4]
    assert stern_port[0] == pytest.approx(110.5 - 100 / k, abs=1e-9)
    assert {round(stern_port[1], 9), round(stern_stbd[1], 9)} == {
        round(21.0 + 15 / 110_574, 9),
        round(21.0 - 15 / 110_574, 9),
    }
    assert (hull[0] == hull[-1]).all()  # closed ring
    # heading 000 (north): the bow is 100 m north
    north = hull_polygons(
        np.array([110.5]), np.array([21.0]), np.array([0.0]), np.array([200.0]), np.array([30.0])
    )[0]
    assert north[2][1] == pytest.approx(21.0 + 100 / 110_574, abs=1e-9) and north[2][0] == pytest.approx(
        110.5
    )


def test_vessel_layers_colour_by_phase_and_alert() -> None:
    vessels = pl.DataFrame(
        {
            "mmsi": [412000001, 412000002],
            "name": ["A", None],
            "lon": [110.5, 110.6],
            "lat": [21.1, 21.0],
            "heading_deg": [None, 45.0],
            "cog_deg": [10.0, 50.0],
            "sog_kn": [0.0, 11.0],
            "length_m": [300.0, None],
            "beam_m": [50.0, None],
            "phase": ["at_anchor", "in_channel"],
            "ship_class": ["bulk", "tanker"],
        }
    )
    markers, hulls = vessel_layers(vessels, alert_priority={412000002: "alarm"})
    rows = markers.data
    assert rows[0]["fill"] == style.PHASE["at_anchor"]
    assert rows[1]["fill"] == style.PRIORITY["alarm"]  # an open alarm outranks the phase colour
    assert rows[0]["radius"] == 150.0 and rows[1]["radius"] == 30.0  # unknown length drawn as 60 m
    assert rows[1]["name"] == "412000002"
    assert hulls.type == "PolygonLayer" and hulls.extruded


def test_bathymetry_image_round_trips_and_land_is_transparent() -> None:
    from PIL import Image

    depth = np.array([[np.nan, 0.0], [5.0, 30.0]])
    rgba = depth_colours(depth)
    assert rgba[0, 0, 3] == 0  # land
    assert rgba[0, 1].tolist() == [70, 120, 140, 255]  # the 0 m stop exactly
    assert rgba[1, 1].tolist() == [8, 25, 70, 255]  # the 30 m stop
    url = png_data_url(rgba)
    image = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
    assert image.mode == "RGBA" and np.array_equal(np.asarray(image), rgba)


def test_channel_coloured_by_live_ukc_class(port: Port) -> None:
    layer = channel_layer(port, colour_by="ukc", ukc_class={"CH-OUT-B2": "no_go", "CH-IN-1": "marginal"})
    fills = {row["id"]: row["fill"] for row in layer.data}
    assert fills["CH-OUT-B2"] == style.UKC_CLASS["no_go"]
    assert fills["CH-IN-1"] == style.UKC_CLASS["marginal"]
    assert len(fills) == len(port.channel.segments)


def test_berths_coloured_by_occupancy_with_blocks_on_land(port: Port) -> None:
    blocks, quays = berth_layers(port, occupied_by={"XS-ORE-400K": 412000001})
    quay_fill = {row["id"]: row["fill"] for row in quays.data}
    assert quay_fill["XS-ORE-400K"] == style.OCCUPIED and quay_fill["XS-GRAIN"] == style.FREE
    land = port.metric.to_m(port.land)
    on_land = []
    for row in blocks.data:
        block = port.metric.to_m(shapely.Polygon(row["polygon"]))
        on_land.append(block.intersection(land).area / block.area)
    # terminal blocks stand behind the quay, so mostly on land (piers and generalised shores aside)
    assert np.median(on_land) > 0.6


def test_anchorage_and_gate_colours_follow_waiting_and_queue(port: Port) -> None:
    layer = anchorage_layer(port, occupancy={"ANC-IN-1": [1, 2, 3]}, median_wait_h={"ANC-IN-1": 48.0})
    row = next(r for r in layer.data if r["id"] == "ANC-IN-1")
    assert row["count"] == 3 and row["fill"] == [255, 60, 40, 140]  # 48 h: the red end of the ramp
    gates = gate_layer(port, queue={"GATE-BM-IN": 10})
    gate = next(r for r in gates.data if r["id"] == "GATE-BM-IN")
    assert gate["height"] == 20.0 + 40.0 * 10  # 40 m per waiting truck on a 20 m base


def test_h3_density_counts_points_per_cell() -> None:
    import h3

    positions = pl.DataFrame(
        {"lon": [110.40, 110.4001, 110.4002, 110.70], "lat": [21.15, 21.1501, 21.1502, 21.00]}
    )
    layer = h3_layer(positions, resolution=8)
    values = {row["hex"]: row["value"] for row in layer.data}
    assert values == {h3.latlng_to_cell(21.15, 110.40, 8): 3.0, h3.latlng_to_cell(21.00, 110.70, 8): 1.0}


def test_ukc_layer_keeps_classified_water_cells_only() -> None:
    grid = xr.DataArray(
        [[0.0, 1.0], [2.0, np.nan]],
        dims=("lat", "lon"),
        coords={"lat": [21.0, 21.002], "lon": [110.5, 110.502]},
    )
    layer = ukc_layer(grid)
    assert sorted(row["ukc_class"] for row in layer.data) == ["marginal", "no_go", "safe"]


def test_port_spec_is_offline(port: Port) -> None:
    with xr.open_dataset(port.files["bathymetry"]) as ds:
        depth = ds["depth"].load()
    spec = deck_spec(port_layers(port, depth))
    text = json.dumps(spec)
    assert spec["mapStyle"] is None
    assert "http://" not in text and "https://" not in text  # no tiles, no CDN, no token
    ids = [layer["id"] for layer in spec["layers"]]
    assert ids[:3] == ["bathymetry", "land", "channel"]
