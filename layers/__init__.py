"""Pure functions from twin data to pydeck layers (no I/O), and the deck spec that carries them.

Every screen (cockpit, ops, planner, exports) draws the port with these functions, so a berth or
a vessel looks the same everywhere.
"""

from layers.analysis import alert_layer, h3_layer, ukc_layer
from layers.deck import deck_spec, port_layers
from layers.port_layers import (
    anchorage_layer,
    bathymetry_layer,
    berth_layers,
    channel_layer,
    gate_layer,
    land_layer,
    sensor_layers,
)
from layers.vessels import hull_polygons, vessel_layers, vessel_rows

__all__ = [
    "alert_layer",
    "anchorage_layer",
    "bathymetry_layer",
    "berth_layers",
    "channel_layer",
    "deck_spec",
    "gate_layer",
    "h3_layer",
    "hull_polygons",
    "land_layer",
    "port_layers",
    "sensor_layers",
    "ukc_layer",
    "vessel_layers",
    "vessel_rows",
]
