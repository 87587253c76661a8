"""Vessel classes, their arrival rates and plausible particulars.

Rate table (commercial arrivals per day) and its derivation. Targets: the city-wide throughput of
≈280–330 Mt/yr (reference zhanjiang.md §6a, an estimate) ≈ 0.77–0.90 Mt/day, and the estimated
10,000–20,000 commercial arrivals/yr (≈27–55/day, same table), on the berths that the port model
carries (a subset of the 127 productive berths: small coastal berths are missing, so the arrival
count sits at the low end of that range while the big ships carry the tonnage).

| class | cargo | DWT | per day | parcel | basis of the rate |
|---|---|---|---|---|---|
| vlcc | crude | 270–300 k | 0.45 | ≈265 kt | crude 28 Mt in 2014 (S45) + Zhongke 10 Mt/yr (S25) |
| valemax | iron_ore | 380–400 k | 0.12 | ≈360 kt | one 400k ore berth (S6): ≈45 calls/yr |
| capesize | iron_ore | 170–250 k | 1.3 | ≈195 kt | ore is the port's focus (S39): ≈100 Mt/yr |
| bulk | coal, bulk | 45–150 k | 2.6 | ≈81 kt | coal 10 Mt (2014, S46) + other dry bulk |
| grain | grain | 28–35 k | 0.6 | ≈29 kt | grain berth >2.8 Mt/yr (S40), plus soy/fertiliser |
| container | container | 15–50 k | 3.5 | ≈1,100 TEU | 1.32 M TEU/yr (S18) ÷ TEU exchanged per call |
| product | products | 3–100 k | 4.0 | ≈11 kt | 55 % 3–5 kt coastal, 35 % 5.5–20 kt, 10 % 30–100 kt |
| ro_ro | ro_ro | 3–5 k | 0.4 | ≈2.4 kt | BASF ro-ro berth (S27) |
| general | general, heavy_lift | 2–20 k | 16.0 | ≈4.6 kt | coastal general cargo, steel, project cargo |

Total ≈ 29.0 arrivals/day and ≈ 0.81 Mt/day ≈ 296 Mt/yr (`expected_per_day`, which draws the
parcels the planner would; a container parcel counts 11 t per TEU exchanged). Rates are a
homogeneous Poisson process per class; tests/sim/test_plausibility.py bounds one simulated day.

Particulars come from rough design relations of each class: L, B and laden draught from DWT
(calibrated on typical ships: VLCC 300 kt 343×59×22.5 m, VLOC 400 kt 362×65×23 m, Capesize
180 kt 294×45×18 m, Panamax 75 kt 227×33×14 m, Handysize 30 kt 172×25×10.5 m, coaster
3 kt 86×12.5×5.3 m), ballast draught 40–55 % of laden, block coefficient by class.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TEU_TONNES = 11.0  # average gross mass per TEU exchanged (laden/empty mix), t


@dataclass(frozen=True)
class VesselClass:
    """One traffic class: what it carries, how big it is, how often it comes, how long it stays.

    `dwt` is a (min, max) range in tonnes; `per_day` the mean arrivals per day; `handling_tph`
    the berth handling rate in tonnes/hour (containers: TEU/hour) that sets the berth stay;
    `ship_type` the AIS type code (ITU-R M.1371 table 53); `cb` the block coefficient range.
    """

    name: str
    cargo: tuple[str, ...]
    dwt: tuple[float, float]
    per_day: float
    ship_type: int
    cb: tuple[float, float]
    handling_tph: float
    tanker: bool = False


CLASSES: tuple[VesselClass, ...] = (
    VesselClass("vlcc", ("crude",), (270_000, 300_000), 0.45, 81, (0.82, 0.84), 9_000, tanker=True),
    VesselClass("valemax", ("iron_ore",), (380_000, 400_000), 0.12, 70, (0.85, 0.87), 9_500),
    VesselClass("capesize", ("iron_ore",), (170_000, 250_000), 1.3, 70, (0.84, 0.86), 8_000),
    VesselClass("bulk", ("coal", "bulk"), (45_000, 150_000), 2.6, 70, (0.82, 0.86), 4_000),
    VesselClass("grain", ("grain",), (28_000, 35_000), 0.6, 70, (0.80, 0.83), 1_600),
    VesselClass("container", ("container",), (15_000, 50_000), 3.5, 71, (0.62, 0.68), 90),
    VesselClass("product", ("products",), (3_000, 100_000), 4.0, 82, (0.78, 0.82), 2_500, tanker=True),
    VesselClass("ro_ro", ("ro_ro",), (3_000, 5_000), 0.4, 70, (0.58, 0.64), 500),
    VesselClass("general", ("general", "heavy_lift"), (2_000, 20_000), 16.0, 70, (0.70, 0.78), 600),
)
CLASS_BY_NAME = {c.name: c for c in CLASSES}

# Service craft: class B transponders (type 18), no port calls. (count, AIS type, length m, beam m)
SERVICE_CRAFT: dict[str, tuple[int, int, float, float]] = {
    "tug": (6, 52, 32.0, 11.0),
    "pilot": (2, 50, 18.0, 5.5),
}

# Maritime identification digits: China (412, 413, 414) dominates, then the flags of the bulk and
# tanker trades (Panama 351/352/353/354/355/356/357, Liberia 636, Marshall Is. 538, Hong Kong 477,
# Singapore 563/564, Malta 248/249, Greece 240/241). Weights are rough shares of arrivals.
MIDS: tuple[tuple[int, float], ...] = (
    (412, 0.30), (413, 0.12), (414, 0.06), (477, 0.10), (538, 0.09), (636, 0.09), (351, 0.05),
    (352, 0.03), (563, 0.05), (564, 0.02), (248, 0.03), (240, 0.03), (241, 0.03),
)
_CALLSIGN_PREFIX = {412: "B", 413: "B", 414: "B", 477: "VR", 538: "V7", 636: "A8", 351: "3E",
                    352: "3F", 563: "9V", 564: "9V", 248: "9H", 240: "SV", 241: "SV"}
_NAME_A = ("ZHEN", "YUAN", "HAI", "DONG", "NAN", "XIN", "CHANG", "GUANG", "MING", "HUA", "JIN", "AN")
_NAME_B = ("HAI", "YANG", "XING", "SHUN", "TAI", "FENG", "HONG", "LONG", "DA", "YUE", "KANG", "FU")
_NAME_FOREIGN = ("PACIFIC", "OCEAN", "CAPE", "STAR", "GLORY", "FORTUNE", "PIONEER", "SPIRIT", "LEGEND",
                 "HARMONY", "AURORA", "ATLAS", "NAVIGATOR", "ENDEAVOUR", "MERIDIAN", "HORIZON")


@dataclass(frozen=True)
class Particulars:
    """A vessel's identity and dimensions (metres, tonnes)."""

    mmsi: int
    imo: int
    name: str
    callsign: str
    ship_class: str
    ship_type: int
    dwt: float
    length_m: float
    beam_m: float
    draught_laden_m: float
    draught_ballast_m: float
    cb: float
    cargo: str


def imo_number(rng: np.random.Generator) -> int:
    """A 7-digit IMO number with a valid check digit (weights 7..2 on the first six digits)."""
    digits = [int(d) for d in str(int(rng.integers(900_000, 999_999)))]
    check = sum(d * w for d, w in zip(digits, range(7, 1, -1), strict=True)) % 10
    return int("".join(map(str, digits)) + str(check))


def dimensions(cls: VesselClass, dwt: float) -> tuple[float, float, float]:
    """(length_m, beam_m, laden draught_m) from DWT, by class.

    Power laws fitted by eye to typical ships: VLCC 300 kt 330×60×22.0 m; VLOC 400 kt
    362×65×23.0 m; Capesize 180 kt 292×45×18.2 m; Panamax 75 kt 225×32.3×14.2 m; Handysize
    30 kt 180×30×10.5 m; 3 kt coaster 90×14×5.5 m; feeder/box 40 kt 260×32×12.5 m.
    """
    k = dwt / 1000.0
    if cls.name == "container":
        length = 95.0 * k**0.275
        beam = min(12.0 * k**0.265, 32.3 + (k > 45) * 8.0)
        draught = 4.1 * k**0.30
    elif cls.name == "valemax":
        return 362.0, 65.0, 23.0 - (400 - k) * 0.01
    else:
        length = 62.0 * k**0.30
        beam = 9.0 * k**0.30
        draught = 3.8 * k**0.30
        if k > 100:  # above 100 kt draught and beam grow linearly (Capesize 18 m/45 m, VLCC 22.5 m/60 m)
            draught = 3.8 * 100**0.30 + (k - 100) * 0.037
            beam = 32.3 + (k - 75) * 0.12
    return round(length, 1), round(beam, 1), round(draught, 1)


def draw_particulars(cls: VesselClass, rng: np.random.Generator, taken: set[int],
                     dwt: float | None = None) -> Particulars:
    """A plausible vessel of class `cls` with a fresh MMSI (not in `taken`, which is updated)."""
    if dwt is None and cls.name == "product":
        # Mostly coastal distribution tankers, a few medium range, rarely an LR2 at Zhongke.
        u = rng.random()
        band = (3_000, 5_000) if u < 0.55 else (5_500, 20_000) if u < 0.9 else (30_000, 100_000)
        dwt = float(rng.uniform(*band))
    if dwt is None:
        lo, hi = cls.dwt
        if hi / lo > 3:  # wide classes: small ships are more numerous (log-uniform)
            dwt = float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
        else:
            dwt = float(rng.uniform(lo, hi))
    dwt = round(dwt, -2)
    mids = np.array([m for m, _ in MIDS])
    w = np.array([p for _, p in MIDS])
    mid = int(rng.choice(mids, p=w / w.sum()))
    while True:
        mmsi = mid * 1_000_000 + int(rng.integers(100_000, 999_999))
        if mmsi not in taken:
            taken.add(mmsi)
            break
    chinese = mid in (412, 413, 414)
    if chinese:
        name = f"{rng.choice(_NAME_A)} {rng.choice(_NAME_B)} {int(rng.integers(1, 99))}"
        letters = "".join(rng.choice(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), 3))
        callsign = "B" + letters + str(int(rng.integers(1, 9)))
    else:
        name = f"{rng.choice(_NAME_FOREIGN)} {rng.choice(_NAME_FOREIGN)}"
        digits = "".join(str(int(d)) for d in rng.integers(0, 10, 4))
        callsign = (_CALLSIGN_PREFIX[mid] + digits)[:7]
    length, beam, draught = dimensions(cls, dwt)
    ballast = round(draught * float(rng.uniform(0.40, 0.55)), 1)
    cargo = cls.cargo[0]
    if cls.name == "general" and dwt <= 5_000 and rng.random() < 0.3:
        cargo = "heavy_lift"  # project cargo for the Donghai plants, on the 3–5 kt heavy-lift berths
    elif len(cls.cargo) > 1 and cls.name != "general":
        cargo = str(rng.choice(list(cls.cargo)))
    return Particulars(
        mmsi=mmsi, imo=imo_number(rng), name=name[:20], callsign=callsign[:7], ship_class=cls.name,
        ship_type=cls.ship_type, dwt=dwt, length_m=length, beam_m=beam, draught_laden_m=draught,
        draught_ballast_m=ballast, cb=round(float(rng.uniform(*cls.cb)), 3), cargo=cargo,
    )


def expected_per_day(samples: int = 4000) -> tuple[float, float]:
    """(arrivals/day, cargo tonnes/day) implied by the rate table.

    Parcels are the mean over `samples` ships drawn as the simulation draws them (fixed seed):
    bulk and tankers work 92.5 % of DWT, general cargo and ro-ro 65 % of that, containers
    11 t per TEU exchanged (half of the nominal capacity, DWT / 13 TEU).
    """
    rng = np.random.default_rng(0)
    n = sum(c.per_day for c in CLASSES)
    tonnes = 0.0
    for c in CLASSES:
        dwt = np.array([draw_particulars(c, rng, set()).dwt for _ in range(samples // len(CLASSES))])
        if c.name == "container":
            parcel = float(np.mean(dwt / 13.0 * 0.5)) * TEU_TONNES
        elif c.name in ("general", "ro_ro"):
            parcel = float(np.mean(dwt)) * 0.925 * 0.65
        else:
            parcel = float(np.mean(dwt)) * 0.925
        tonnes += c.per_day * parcel
    return n, tonnes
