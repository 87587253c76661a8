"""Colours and labels shared by every layer and screen (dark wall-display theme).

RGBA lists as deck.gl takes them. One palette per meaning, so a colour always says the same thing.
"""

from __future__ import annotations

RGBA = list[int]

BACKGROUND = "#0b1420"
LAND: RGBA = [50, 60, 72, 255]
LAND_EDGE: RGBA = [92, 108, 124, 255]

# port-call phase of a vessel (engine vocabulary)
PHASE: dict[str, RGBA] = {
    "approaching": [120, 190, 255, 235],
    "in_channel": [0, 220, 255, 240],
    "at_anchor": [255, 196, 0, 240],
    "at_berth": [60, 220, 120, 240],
    "departing": [190, 140, 255, 235],
    "outside": [140, 150, 160, 200],
    "service": [200, 200, 200, 200],
}
PHASE_DEFAULT: RGBA = [170, 180, 190, 220]

PHASE_LABELS: dict[str, tuple[str, str]] = {
    "approaching": ("抵港途中", "approaching"),
    "in_channel": ("航道航行", "in channel"),
    "at_anchor": ("锚泊", "at anchor"),
    "at_berth": ("靠泊", "at berth"),
    "departing": ("离港", "departing"),
    "outside": ("港外", "outside"),
    "service": ("港作船", "service craft"),
}

# IMO bridge alert management priorities, most urgent first
PRIORITY: dict[str, RGBA] = {
    "emergency_alarm": [255, 0, 60, 255],
    "alarm": [255, 60, 40, 255],
    "warning": [255, 170, 0, 255],
    "caution": [255, 230, 90, 255],
}

# IHO S-129 keel-clearance classes
UKC_CLASS: dict[str, RGBA] = {
    "safe": [40, 200, 110, 150],
    "marginal": [255, 190, 0, 190],
    "no_go": [235, 40, 40, 210],
}

CARGO: dict[str, RGBA] = {
    "iron_ore": [196, 98, 70, 255],
    "coal": [120, 120, 120, 255],
    "crude": [150, 90, 200, 255],
    "products": [190, 140, 230, 255],
    "container": [60, 150, 240, 255],
    "grain": [230, 180, 40, 255],
    "general": [90, 200, 110, 255],
    "bulk": [170, 120, 90, 255],
    "ro_ro": [40, 200, 210, 255],
    "heavy_lift": [230, 120, 200, 255],
}

FREE: RGBA = [40, 160, 140, 200]
OCCUPIED: RGBA = [255, 170, 40, 230]


def ramp(value: float, lo: float, hi: float, start: RGBA, end: RGBA) -> RGBA:
    """Linear colour between `start` (at lo) and `end` (at hi), clamped."""
    t = 0.0 if hi == lo else min(1.0, max(0.0, (value - lo) / (hi - lo)))
    return [round(a + (b - a) * t) for a, b in zip(start, end, strict=True)]
