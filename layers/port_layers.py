"""Layers of the fixed port: land, bathymetry, channel, berths, anchorages, gates, sensors.

Pure functions: a port model (and, where given, live occupancy) in, `pydeck.Layer` out. No I/O
except that `bathymetry_layer` takes an already-loaded `xarray.DataArray`.
"""

from __future__ import annotations

import base64
import struct
import zlib
from collections.abc import Mapping, Sequence
from typing import Literal, TypedDict

import numpy as np
import pydeck as pdk
import shapely
import xarray as xr

from layers import style
from twin.port import Port


def _rings(geom: shapely.Polygon | shapely.MultiPolygon) -> list[list[list[float]]]:
    polys = geom.geoms if isinstance(geom, shapely.MultiPolygon) else [geom]
    return [[[round(x, 6), round(y, 6)] for x, y in p.exterior.coords] for p in polys]


def land_layer(port: Port, *, elevation_m: float = 8.0) -> pdk.Layer:
    """Land from the real coastline, slightly extruded so the shore reads in 3D."""
    data = [{"polygon": ring} for ring in _rings(port.land)]
    return pdk.Layer(
        "PolygonLayer",
        data,
        id="land",
        get_polygon="polygon",
        filled=True,
        stroked=True,
        extruded=elevation_m > 0,
        get_elevation=elevation_m,
        get_fill_color=style.LAND,
        get_line_color=style.LAND_EDGE,
        line_width_min_pixels=1,
        pickable=False,
    )


# depth (m below chart datum) → colour stops for the shaded grid and its legend
DEPTH_STOPS: list[tuple[float, style.RGBA]] = [
    (-2.0, [120, 110, 80, 255]),  # drying flats
    (0.0, [70, 120, 140, 255]),
    (5.0, [40, 95, 140, 255]),
    (12.0, [25, 70, 125, 255]),
    (20.0, [15, 45, 100, 255]),
    (30.0, [8, 25, 70, 255]),
]


def depth_colours(depth: np.ndarray) -> np.ndarray:
    """RGBA uint8 image of a depth array (NaN = land → transparent)."""
    xs = np.array([s[0] for s in DEPTH_STOPS])
    out = np.zeros((*depth.shape, 4), dtype=np.uint8)
    for channel in range(4):
        ys = np.array([s[1][channel] for s in DEPTH_STOPS], dtype=float)
        out[..., channel] = np.interp(np.nan_to_num(depth, nan=xs[0]), xs, ys).round().astype(np.uint8)
    out[np.isnan(depth), 3] = 0
    return out


def png_data_url(rgba: np.ndarray) -> str:
    """Encode an (h, w, 4) uint8 array as a PNG data URL (zlib only, no imaging library)."""
    height, width, _ = rgba.shape
    raw = b"".join(b"\x00" + rgba[row].tobytes() for row in range(height))

    def chunk(kind: bytes, payload: bytes) -> bytes:
        body = kind + payload
        return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw, 6))
        + chunk(b"IEND", b"")
    )
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def bathymetry_layer(depth: xr.DataArray) -> pdk.Layer:
    """Shaded depth grid (metres below chart datum, positive down) as one bitmap; land transparent."""
    grid = depth.transpose("lat", "lon")
    values = grid.to_numpy().astype(float)[::-1]  # image rows run north → south
    lon, lat = grid["lon"].to_numpy(), grid["lat"].to_numpy()
    half_x, half_y = float(np.diff(lon).mean()) / 2, float(np.diff(lat).mean()) / 2
    bounds = [
        float(lon[0]) - half_x,
        float(lat[0]) - half_y,
        float(lon[-1]) + half_x,
        float(lat[-1]) + half_y,
    ]
    return pdk.Layer(
        "BitmapLayer",
        id="bathymetry",
        image=png_data_url(depth_colours(values)),
        bounds=bounds,
        opacity=0.95,
        pickable=False,
    )


def bathymetry_legend() -> list[dict[str, object]]:
    """Legend stops for the depth shading: depth_m and CSS colour."""
    return [{"depth_m": d, "css": f"rgba({c[0]},{c[1]},{c[2]},{c[3] / 255:.2f})"} for d, c in DEPTH_STOPS]


class ChannelOptions(TypedDict, total=False):
    colour_by: Literal["depth", "ukc"]
    ukc_class: Mapping[str, str]  # segment id → safe | marginal | no_go (live UKC of the worst vessel)


def channel_layer(port: Port, **options: object) -> pdk.Layer:
    """Channel segments, coloured by design depth (default) or by the live UKC class per segment."""
    opts: ChannelOptions = options  # type: ignore[assignment]
    by = opts.get("colour_by", "depth")
    ukc = opts.get("ukc_class", {})
    data = []
    for seg in port.channel.segments:
        if by == "ukc" and seg.id in ukc:
            fill = style.UKC_CLASS[ukc[seg.id]]
        else:
            fill = style.ramp(seg.design_depth_m, 22.5, 24.0, [0, 150, 200, 120], [0, 90, 255, 160])
            if seg.kind == "passing_area":
                fill = [fill[0] + 60, fill[1] + 40, fill[2], fill[3]]
        data.append(
            {
                "id": seg.id,
                "polygon": _rings(seg.area)[0],
                "fill": fill,
                "name_zh": seg.name_zh,
                "name_en": seg.name_en,
                "tooltip": f"{seg.name_zh} / {seg.name_en}: "
                f"K{seg.chainage_from_km:g}–K{seg.chainage_to_km:g}, "
                f"{seg.width_m:g} m, −{seg.design_depth_m:g} m CD",
            }
        )
    return pdk.Layer(
        "PolygonLayer",
        data,
        id="channel",
        get_polygon="polygon",
        get_fill_color="fill",
        get_line_color=[0, 220, 255, 200],
        line_width_min_pixels=1,
        stroked=True,
        extruded=False,
        pickable=True,
    )


def berth_layers(
    port: Port, occupied_by: Mapping[str, int | None] | None = None, *, block_depth_m: float = 120.0
) -> list[pdk.Layer]:
    """Extruded quays and terminal blocks behind them, coloured by occupancy (free / occupied).

    `occupied_by` maps berth id → MMSI of the vessel alongside (None or absent = free).
    """
    occupied_by = occupied_by or {}
    quays, blocks = [], []
    for berth in port.berths.values():
        mmsi = occupied_by.get(berth.id)
        colour = style.OCCUPIED if mmsi else style.FREE
        quay_m = port.metric.to_m(berth.quay)
        pocket_m = port.metric.to_m(berth.pocket)
        # the block lies on the side of the quay away from the pocket
        side = (
            1.0
            if quay_m.buffer(30, single_sided=True).intersection(pocket_m).area
            < quay_m.buffer(-30, single_sided=True).intersection(pocket_m).area
            else -1.0
        )
        block_m = quay_m.buffer(side * block_depth_m, single_sided=True, cap_style="flat")
        quay_strip = quay_m.buffer(side * 15.0, single_sided=True, cap_style="flat")
        common = {
            "id": berth.id,
            "name_zh": berth.name_zh,
            "name_en": berth.name_en,
            "occupied_by": mmsi,
            "tooltip": f"{berth.name_zh} / {berth.name_en}: {berth.max_dwt:,} DWT, {berth.length_m:g} m, "
            f"−{berth.design_depth_m:g} m" + (f", MMSI {mmsi}" if mmsi else ", free / 空闲"),
        }
        quays.append({**common, "polygon": _rings(port.metric.to_lonlat(quay_strip))[0], "fill": colour})
        blocks.append(
            {
                **common,
                "polygon": _rings(port.metric.to_lonlat(block_m))[0],
                "fill": [*style.CARGO.get(berth.cargo, [150, 150, 150, 255])[:3], 110],
            }
        )
    return [
        pdk.Layer(
            "PolygonLayer",
            blocks,
            id="terminal-blocks",
            get_polygon="polygon",
            get_fill_color="fill",
            extruded=True,
            get_elevation=18,
            pickable=True,
        ),
        pdk.Layer(
            "PolygonLayer",
            quays,
            id="berths",
            get_polygon="polygon",
            get_fill_color="fill",
            extruded=True,
            get_elevation=28,
            pickable=True,
        ),
    ]


def anchorage_layer(
    port: Port,
    occupancy: Mapping[str, Sequence[int]] | None = None,
    median_wait_h: Mapping[str, float] | None = None,
) -> pdk.Layer:
    """Anchorages coloured by how long ships wait there (teal → amber → red over 0–48 h)."""
    occupancy = occupancy or {}
    median_wait_h = median_wait_h or {}
    data = []
    for anc in port.anchorages.values():
        wait = median_wait_h.get(anc.id, 0.0)
        fill = (
            style.ramp(wait, 0, 24, [40, 160, 140, 60], [255, 170, 0, 110])
            if wait <= 24
            else style.ramp(wait, 24, 48, [255, 170, 0, 110], [255, 60, 40, 140])
        )
        count = len(occupancy.get(anc.id, ()))
        data.append(
            {
                "id": anc.id,
                "polygon": _rings(anc.area)[0],
                "fill": fill,
                "count": count,
                "name_zh": anc.name_zh,
                "name_en": anc.name_en,
                "tooltip": f"{anc.name_zh} / {anc.name_en}: {count} vessels, median wait {wait:.1f} h",
            }
        )
    return pdk.Layer(
        "PolygonLayer",
        data,
        id="anchorages",
        get_polygon="polygon",
        get_fill_color="fill",
        get_line_color=[255, 210, 80, 220],
        line_width_min_pixels=1.5,
        stroked=True,
        pickable=True,
    )


def gate_layer(
    port: Port, queue: Mapping[str, int] | None = None, *, metres_per_truck: float = 40.0
) -> pdk.Layer:
    """Gates as columns whose height is the truck queue (metres per waiting truck)."""
    queue = queue or {}
    data = [
        {
            "id": g.id,
            "position": [g.location.x, g.location.y],
            "queue": queue.get(g.id, 0),
            "height": 20.0 + metres_per_truck * queue.get(g.id, 0),
            "fill": style.ramp(queue.get(g.id, 0), 0, 30, [60, 200, 255, 230], [255, 60, 40, 240]),
            "name_zh": g.name_zh,
            "name_en": g.name_en,
            "tooltip": f"{g.name_zh} / {g.name_en}: {g.lanes} lanes, queue {queue.get(g.id, 0)}",
        }
        for g in port.gates.values()
    ]
    return pdk.Layer(
        "ColumnLayer",
        data,
        id="gates",
        get_position="position",
        get_elevation="height",
        get_fill_color="fill",
        radius=60,
        disk_resolution=12,
        extruded=True,
        pickable=True,
    )


def sensor_layers(port: Port) -> list[pdk.Layer]:
    """VHF base stations with dashed-looking coverage rings, and cameras."""
    stations = [
        {
            "id": s.id,
            "position": [s.location.x, s.location.y],
            "range_m": s.range_m,
            "fill": [255, 90, 90, 255] if s.status == "new" else [200, 220, 255, 255],
            "kind": s.kind,
            "tooltip": f"{s.name_zh} / {s.name_en} ({s.status})",
        }
        for s in port.sensors.values()
    ]
    vhf = [s for s in stations if s["kind"] == "vhf_base_station"]
    return [
        pdk.Layer(
            "ScatterplotLayer",
            vhf,
            id="vhf-coverage",
            get_position="position",
            get_radius="range_m",
            filled=False,
            stroked=True,
            get_line_color=[120, 180, 255, 90],
            line_width_min_pixels=1,
        ),
        pdk.Layer(
            "ScatterplotLayer",
            stations,
            id="sensors",
            get_position="position",
            get_radius=90,
            radius_min_pixels=3,
            get_fill_color="fill",
            pickable=True,
        ),
    ]
