"""Draw a port model to a PNG (`twin geodata draw`): the bay, channel, berths and anchorages at a glance.

Uses matplotlib (the `dev` extra); this is a reviewer's picture, not the live map (see `layers/`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import shapely

from twin.port import Port

CARGO_COLOURS = {
    "iron_ore": "#b5523b", "coal": "#333333", "crude": "#7b3f99", "products": "#b07cc6",
    "container": "#1f77b4", "grain": "#d4a017", "general": "#2ca02c", "bulk": "#8c564b",
    "ro_ro": "#17becf", "heavy_lift": "#e377c2",
}


def _fill(ax: Any, geom: Any, **kw: Any) -> None:
    for poly in getattr(geom, "geoms", [geom]):
        x, y = poly.exterior.xy
        ax.fill(x, y, **kw)


def _panel(ax: Any, port: Port, bbox: tuple[float, float, float, float], labels: bool) -> Any:
    import xarray as xr

    lon0, lat0, lon1, lat1 = bbox
    mesh = None
    if "bathymetry" in port.files:
        with xr.open_dataset(port.files["bathymetry"]) as ds:
            depth = ds["depth"].sel(lon=slice(lon0, lon1), lat=slice(lat0, lat1)).load()
        mesh = ax.pcolormesh(depth.lon, depth.lat, depth, cmap="Blues", vmin=-2, vmax=30,
                             shading="nearest", rasterized=True)
    _fill(ax, port.land, facecolor="#d9d3b8", edgecolor="#6b6450", linewidth=0.4)
    for seg in port.channel.segments:
        colour = "#e4572e" if seg.kind == "channel" else "#f4a259"
        _fill(ax, seg.area, facecolor=colour, alpha=0.55, edgecolor=colour, linewidth=0.6)
    for anc in port.anchorages.values():
        x, y = anc.area.exterior.xy
        ax.plot(x, y, color="#2a9d8f", linewidth=1.2)
        if labels:
            c = anc.area.centroid
            ax.annotate(anc.name_en, (c.x, c.y), fontsize=6.5, ha="center", color="#1d6e64")
    for berth in port.berths.values():
        _fill(ax, berth.pocket, facecolor="#f6bd60", alpha=0.8, linewidth=0)
        x, y = berth.quay.xy
        ax.plot(x, y, color=CARGO_COLOURS.get(berth.cargo, "k"), linewidth=2.4, solid_capstyle="butt")
    for gate in port.gates.values():
        ax.plot(gate.location.x, gate.location.y, "s", color="#264653", markersize=5)
    for sensor in port.sensors.values():
        marker = "^" if sensor.kind == "vhf_base_station" else "o"
        colour = "#9b2226" if sensor.status == "new" else "#3d405b"
        ax.plot(sensor.location.x, sensor.location.y, marker, color=colour, markersize=5)
    for shoal in port.shoals:
        ax.plot(shoal.location.x, shoal.location.y, "x", color="#d00000", markersize=7, mew=2)
    ax.set_xlim(lon0, lon1)
    ax.set_ylim(lat0, lat1)
    ax.set_aspect(1 / np.cos(np.radians((lat0 + lat1) / 2)))
    ax.tick_params(labelsize=7)
    return mesh


def draw_port(port: Port, out: Path, bbox: tuple[float, ...] | None = None) -> None:
    """Write a two-panel PNG: the whole set (or `bbox`) and a zoom on the inner port."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.lines import Line2D
    except ImportError as exc:  # matplotlib is a dev extra
        raise SystemExit("twin geodata draw needs matplotlib: pip install -e '.[dev]'") from exc

    if bbox:
        whole = tuple(bbox)
    else:  # everything the set holds: land, the whole channel, every anchorage
        parts = [port.land.envelope, port.channel.axis, *(a.area for a in port.anchorages.values())]
        whole = tuple(shapely.union_all(parts).bounds)
    fig, (left, right) = plt.subplots(1, 2, figsize=(18, 9), gridspec_kw={"width_ratios": [1.35, 1]})
    mesh = _panel(left, port, whole, labels=True)  # type: ignore[arg-type]
    for km in range(0, 65, 10):
        lon, lat = port.channel.position_at(float(km))
        left.annotate(f"K{km}", (lon, lat), fontsize=6.5, color="#9d0208", xytext=(2, 4),
                      textcoords="offset points")
    inner = (110.34, 21.045, 110.55, 21.205)
    _panel(right, port, inner, labels=True)
    for berth in port.berths.values():
        c = berth.quay.interpolate(0.5, normalized=True)
        if inner[0] < c.x < inner[2] and inner[1] < c.y < inner[3]:
            right.annotate(berth.id, (c.x, c.y), fontsize=5.2, color="#222", xytext=(3, 0),
                           textcoords="offset points")
    left.add_patch(plt.Rectangle(inner[:2], inner[2] - inner[0], inner[3] - inner[1], fill=False,
                                 edgecolor="k", linestyle="--", linewidth=0.8))
    if mesh is not None:
        fig.colorbar(mesh, ax=[left, right], shrink=0.6, label="depth below chart datum (m, estimate "
                     "outside the channel)")
    handles = [Line2D([], [], color=c, linewidth=3, label=k.replace("_", " "))
               for k, c in CARGO_COLOURS.items()]
    handles += [Line2D([], [], color="#e4572e", linewidth=6, alpha=0.6, label="channel (340 m)"),
                Line2D([], [], color="#f4a259", linewidth=6, alpha=0.6, label="passing area (510 m)"),
                Line2D([], [], color="#2a9d8f", label="anchorage"),
                Line2D([], [], marker="s", linestyle="", color="#264653", label="gate"),
                Line2D([], [], marker="^", linestyle="", color="#9b2226", label="VHF base station (new)"),
                Line2D([], [], marker="x", linestyle="", color="#d00000", label="surveyed shoal (S1)")]
    left.legend(handles=handles, fontsize=6.5, loc="lower left", ncol=2, framealpha=0.9)
    left.set_title(f"{port.name_en} — geodata as loaded ({len(port.berths)} berths, "
                   f"{len(port.anchorages)} anchorages, channel {port.channel.length_km:.1f} km)",
                   fontsize=10)
    right.set_title("Inner port: Xiashan, Baoman, Donghai Island (berth ids)", fontsize=10)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110, bbox_inches="tight")
    plt.close(fig)

