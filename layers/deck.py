"""Assemble layers into a deck spec (pydeck JSON, no basemap, dark), and the standard view presets."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pydeck as pdk
import xarray as xr

from layers.port_layers import (
    anchorage_layer,
    bathymetry_layer,
    berth_layers,
    channel_layer,
    gate_layer,
    land_layer,
    sensor_layers,
)
from twin.port import Port

# Camera presets of the wall display's tour, in tour order (lon, lat, zoom, pitch, bearing)
VIEWS: dict[str, dict[str, float]] = {
    "overview": {"longitude": 110.6, "latitude": 21.06, "zoom": 9.9, "pitch": 45, "bearing": -10},
    "channel": {"longitude": 110.66, "latitude": 21.04, "zoom": 10.6, "pitch": 55, "bearing": -75},
    "anchorages": {"longitude": 110.47, "latitude": 21.11, "zoom": 11.8, "pitch": 50, "bearing": 20},
    "terminals": {"longitude": 110.40, "latitude": 21.155, "zoom": 13.0, "pitch": 55, "bearing": 30},
    "gates": {"longitude": 110.375, "latitude": 21.145, "zoom": 13.8, "pitch": 50, "bearing": -20},
}


def port_layers(port: Port, depth: xr.DataArray | None = None) -> list[pdk.Layer]:
    """The fixed port, bottom to top: bathymetry, land, channel, anchorages, terminals, gates, sensors."""
    layers: list[pdk.Layer] = []
    if depth is not None:
        layers.append(bathymetry_layer(depth))
    layers += [
        land_layer(port),
        channel_layer(port),
        anchorage_layer(port),
        *berth_layers(port),
        gate_layer(port),
        *sensor_layers(port),
    ]
    return layers


def deck_spec(layers: Sequence[pdk.Layer], view: str = "overview") -> dict[str, Any]:
    """A JSON-ready deck spec: the layers as pydeck JSON, no map tiles, the named initial view."""
    deck = pdk.Deck(
        layers=list(layers),
        initial_view_state=pdk.ViewState(**VIEWS[view]),
        map_provider=None,
        map_style=None,
    )
    spec: dict[str, Any] = json.loads(deck.to_json())
    spec["mapStyle"] = None  # explicit null: no basemap, nothing fetched
    return spec
