"""The Zhanjiang facts the bundled geodata is built from, each with its source and confidence.

Source keys (S1, S3, ...) are those of the project's fact sheet (shared/reference/zhanjiang.md),
whose full citations are copied into docs/geodata.md. Where no public figure exists the row says
`estimate` and how the number was chosen. Positions of berths are approximate anchor points: the
builder snaps each terminal's quay onto the real (OSM) coastline, so only the order and length of
berths along a shore matter, not the exact anchor coordinates.
"""

from __future__ import annotations

from dataclasses import dataclass

# ---- channel (湛江港30万吨级航道, upgraded for 400,000 t) ------------------------------------

CHANNEL_LENGTH_KM = 64.1  # S3 (official)
CHANNEL_WIDTH_M = 340.0  # S3 (official)
PASSING_WIDTH_M = 510.0  # S3 (official)
PASSING_LENGTH_M = 7408.0  # S3 (official)
INNER_DEPTH_M = 23.0  # S3 (official), inner channel 16.9 km
OUTER_DEPTH_M = 23.6  # S3 (official), outer channel 47.2 km
B_DEEP_DEPTH_M = 23.9  # S1 (official): K34.796–K40.29 bottom −23.9 m
ONE_WAY_MIN_DWT = 300_000  # S3: 300,000 t laden one-way; 100k/150k two-way at any tide
MOUTH_CHAINAGE_KM = 47.2  # S3: outer 47.2 km + inner 16.9 km

# Axis vertices (chainage_km, lon, lat, source, confidence). K0 is the straight seaward
# extension of the official B-segment axis (no published position); the inner leg follows the
# deep water between the bay mouth and the Xiashan basin, passing west of Techeng Island.
K34_32 = (34.32, 110.64075, 21.04793)  # S1 (official, CGCS2000 ≈ WGS84)
K40_29 = (40.29, 110.58609, 21.06281)  # S1 (official)
MOUTH = (110.523, 21.086)  # estimate: mid-gap between Donghai NE and Nansan SW (S10: 1.9 km)
INNER_WAYPOINTS = [  # estimate, checked against the OSM coastline by the validator
    (110.470, 21.120),  # open bay, SE of Techeng
    (110.418, 21.143),  # SW of Techeng Island
    (110.412, 21.158),  # between the Xiashan pier heads and Techeng's west tip
    (110.418, 21.192),  # Xiashan basin (port reference point S9: 21.1986, 110.4106)
]

SHOAL_B_SEGMENT = {  # S1 (official): Q4-2025 survey, shallowest spot in the B segment
    "id": "SHOAL-B-2025Q4",
    "depth_m": 16.84,
    "lon": 110.0 + 36 / 60 + 48.44 / 3600,
    "lat": 21.0 + 3 / 60 + 13.45 / 3600,
    "surveyed": "2025-Q4",
    "source": "S1 Zhanjiang Transport Bureau notice 2025-11-10: shallowest 16.84 m at "
    "21°03′13.45″N 110°36′48.44″E; navigable depth maintained 23.2 m",
}


# Harbour water limits (S9): outer limit at the SW corner of Naozhou Island, 20°52′42″N; waters reach
# north to 21°21′00″N. East/west bounds are not published: east just beyond K0, west past Donghai.
PORT_LIMIT_BOX = (110.15, 20.0 + 52 / 60 + 42 / 3600, 110.98, 21.35)
PORT_LIMIT_SOURCE = ("S9: south limit 20°52′42″N, north limit 21°21′00″N; east (beyond K0) and west "
                     "bounds estimate")

# ---- berths ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BerthFact:
    id: str
    name_zh: str
    name_en: str
    length_m: float
    design_depth_m: float
    max_dwt: int
    cargo: str  # iron_ore | coal | crude | products | container | grain | general | ro_ro | heavy_lift | bulk
    source: str
    confidence: str  # official | published | estimate (of the figures; positions are estimates)
    status: str = "operational"
    gap_m: float = 20.0  # open quay before this berth


@dataclass(frozen=True)
class TerminalFact:
    id: str
    name_zh: str
    name_en: str
    port_area: str  # xiashan | baoman | tiaoshun | donghai
    anchor: tuple[float, float]  # lon, lat near the first berth's start
    toward: tuple[float, float]  # a point further along the shore, giving the direction
    berths: tuple[BerthFact, ...]


E = "estimate"
TERMINALS: tuple[TerminalFact, ...] = (
    TerminalFact(
        "XS-ORE", "霞山港区散货码头", "Xiashan ore terminal", "xiashan",
        anchor=(110.4017, 21.1482), toward=(110.4031, 21.1622),
        berths=(
            BerthFact("XS-ORE-400K", "40万吨级矿石泊位", "400,000 t ore berth", 480, 25.0, 400_000,
                      "iron_ore", "S6/S44: 300k berth (2013) upgraded to 400k t (2021); length and "
                      "depth estimate for a 362 m × 65 m × 23 m ore carrier", E),
            BerthFact("XS-ORE-250K", "25万吨级矿石泊位", "250,000 t ore berth", 400, 21.5, 250_000,
                      "iron_ore", "S34/S44: 250k t iron-ore terminal (2005); length/depth estimate", E),
            BerthFact("XS-BULK-150K", "15万吨级散货泊位", "150,000 t bulk berth", 330, 19.0, 150_000,
                      "bulk", "S44: 150k t supporting bulk berth; length/depth estimate", E),
        ),
    ),
    TerminalFact(
        "XS-BULK", "霞山港区通用散货码头", "Xiashan bulk berths", "xiashan",
        anchor=(110.4014, 21.1476), toward=(110.3979, 21.1393),
        berths=(
            BerthFact("XS-300", "300#泊位（煤炭铁矿石）", "Berth 300# (coal & ore)", 349, 19.0, 150_000,
                      "coal", "S20: rebuilt as 150k t coal & iron-ore unloading berth, 349 m × 35.1 m "
                      "(published); depth estimate", "published"),
            BerthFact("XS-BULK-70K", "7万吨级散货泊位", "70,000 t bulk berth", 270, 14.5, 70_000,
                      "bulk", "S44: 70k t supporting bulk berth; length/depth estimate", E),
        ),
    ),
    TerminalFact(
        "XS-GEN-S", "霞山港区通用码头（南）", "Xiashan grain & general quay (south)", "xiashan",
        anchor=(110.4028, 21.1672), toward=(110.4052, 21.1733),
        berths=(
            BerthFact("XS-GRAIN", "散粮泊位", "Grain berth", 250, 12.5, 35_000, "grain",
                      "S40: 35,000 t bulk-grain berth, 16 silos 148,000 m³; length/depth estimate", E),
            BerthFact("XS-GEN-1", "霞山1号通用泊位", "Xiashan general berth 1", 200, 11.5, 20_000,
                      "general", "S9 lists the area; berth figures not published — estimate", E),
        ),
    ),
    TerminalFact(
        "XS-GEN-N", "霞山港区通用码头（北）", "Xiashan general quay (north)", "xiashan",
        anchor=(110.4048, 21.1767), toward=(110.4076, 21.1838),
        berths=(
            BerthFact("XS-GEN-2", "霞山2号通用泊位", "Xiashan general berth 2", 200, 11.5, 20_000,
                      "general", "estimate", E),
            BerthFact("XS-GEN-3", "霞山3号通用泊位", "Xiashan general berth 3", 180, 10.0, 10_000,
                      "general", "estimate", E),
        ),
    ),
    TerminalFact(
        "XS-OIL", "湛江港30万吨级油码头", "Zhanjiang 300,000 t oil terminal", "xiashan",
        anchor=(110.3970, 21.1381), toward=(110.3929, 21.1338),
        berths=(
            BerthFact("XS-OIL-300K", "30万吨级原油泊位", "300,000 t crude berth", 420, 24.0, 300_000,
                      "crude", "S20/S34: 300k t crude terminal (2002), one of two land-connected 300k "
                      "oil terminals; position, length, depth estimate", E),
        ),
    ),
    TerminalFact(
        "BM-CT", "宝满集装箱码头", "Baoman container terminal", "baoman",
        anchor=(110.3760, 21.1428), toward=(110.3596, 21.1301),
        berths=(
            BerthFact("BM-CT-1", "宝满集装箱1号泊位", "Baoman container berth 1", 339, 14.5, 50_000,
                      "container", "S15/S16: phase 1, 2 × 50k t, quay 678 m (published); split even; "
                      "depth estimate", "published", gap_m=0),
            BerthFact("BM-CT-2", "宝满集装箱2号泊位", "Baoman container berth 2", 339, 14.5, 50_000,
                      "container", "S15/S16 (as berth 1)", "published", gap_m=0),
            BerthFact("BM-CT-3", "宝满集装箱3号泊位（扩建）", "Baoman container berth 3 (extension)", 350,
                      15.5, 50_000, "container", "S17/S18: extension 2 × 50k t (70k ships), works "
                      "from 2024-03-29, due end-2026; length/depth estimate", E,
                      status="commissioning", gap_m=0),
            BerthFact("BM-CT-4", "宝满集装箱4号泊位（扩建）", "Baoman container berth 4 (extension)", 350,
                      15.5, 50_000, "container", "S17/S18 (as berth 3)", E, status="commissioning",
                      gap_m=0),
        ),
    ),
    TerminalFact(
        "XS-NOIL", "湛江港新建30万吨级油码头", "New 300,000 t oil terminal", "xiashan",
        anchor=(110.3868, 21.1318), toward=(110.3814, 21.1382),
        berths=(
            BerthFact("XS-NOIL-300K", "新建30万吨级原油泊位", "New 300,000 t crude berth", 420, 24.0,
                      300_000, "crude", "S20: 1 × 300k t crude (published count); position, "
                      "length, depth estimate", E),
        ),
    ),
    TerminalFact(
        "XS-NPROD", "新建油码头成品油泊位", "New oil terminal product berths", "xiashan",
        anchor=(110.3826, 21.1510), toward=(110.3908, 21.1447),
        berths=(
            BerthFact("XS-NOIL-20K", "2万吨级成品油泊位", "20,000 t products berth", 200, 11.0, 20_000,
                      "products", "S20: 1 × 20k t products (published count); figures estimate", E),
            BerthFact("XS-NOIL-5K-1", "5千吨级成品油泊位1", "5,000 t products berth 1", 130, 7.5, 5_000,
                      "products", "S20: 2 × 5k t products (structure for 20k t)", E),
            BerthFact("XS-NOIL-5K-2", "5千吨级成品油泊位2", "5,000 t products berth 2", 130, 7.5, 5_000,
                      "products", "S20 (as above)", E),
        ),
    ),
    TerminalFact(
        "TS-COAL", "调顺岛港区煤炭码头", "Tiaoshun coal terminal", "tiaoshun",
        anchor=(110.4175, 21.2850), toward=(110.417, 21.305),
        berths=(
            BerthFact("TS-COAL-1", "调顺1号煤炭泊位", "Tiaoshun coal berth 1", 260, 13.0, 50_000, "coal",
                      "role from bkwk.cn (C): coal and power-plant coal; figures estimate", E),
            BerthFact("TS-COAL-2", "调顺2号煤炭泊位", "Tiaoshun coal berth 2", 260, 13.0, 50_000, "coal",
                      "estimate", E),
            BerthFact("TS-GEN-1", "调顺通用泊位", "Tiaoshun general berth", 200, 10.0, 10_000, "general",
                      "estimate", E),
        ),
    ),
    TerminalFact(
        "DH-BAOSTEEL", "宝钢湛江钢铁原料码头", "Baosteel Zhanjiang raw-material terminal", "donghai",
        anchor=(110.4890, 21.0745), toward=(110.515, 21.079),
        berths=(
            BerthFact("DH-BS-300K", "宝钢30万吨级原料泊位", "Baosteel 300,000 t ore berth", 456, 24.2,
                      300_000, "iron_ore", "S22: 856 m × 37 m platform for 1 × 300k + 1 × 250k t "
                      "(published); split estimate; depth 24.2 m (S41, weak)", "published", gap_m=0),
            BerthFact("DH-BS-250K", "宝钢25万吨级原料泊位", "Baosteel 250,000 t ore berth", 400, 22.0,
                      250_000, "iron_ore", "S22 (as above); depth estimate", "published", gap_m=0),
        ),
    ),
    TerminalFact(
        "DH-BS-PROD", "宝钢湛江钢铁成品码头", "Baosteel finished-products quay", "donghai",
        anchor=(110.4675, 21.0632), toward=(110.450, 21.063),
        berths=(
            BerthFact("DH-BS-10K", "宝钢1万吨级通用泊位", "Baosteel 10,000 t general berth", 220, 10.0,
                      10_000, "general", "S24: +1 × 10k t general berth (458 m combined with the "
                      "finished-products quay); figures estimate", E),
            BerthFact("DH-BS-PROD-1", "宝钢成品1号泊位", "Baosteel finished products 1", 238, 11.5,
                      20_000, "general", "S23: 13 berths, quay ~8 km; S24: 458 m combined", E),
            BerthFact("DH-BS-5K", "宝钢5千吨级全天候泊位", "Baosteel 5,000 t all-weather berth", 150, 7.5,
                      5_000, "general", "S24: +1 × 5k t all-weather berth (W basin)", E),
        ),
    ),
    TerminalFact(
        "DH-ZHONGKE", "中科炼化码头", "Sinopec Zhongke Refining port", "donghai",
        anchor=(110.5185, 21.0785), toward=(110.535, 21.076),
        berths=(
            BerthFact("DH-ZK-300K", "中科炼化30万吨级原油泊位", "Zhongke 300,000 t crude berth", 450,
                      24.0, 300_000, "crude", "S25: 8 berths incl. 300k t crude (first VLCC "
                      "2020-05-08); length/depth estimate", E, gap_m=0),
            BerthFact("DH-ZK-100K", "中科炼化10万吨级成品油泊位", "Zhongke 100,000 t products berth",
                      330, 16.5, 100_000, "products", "S25: 100k t products berth; figures estimate", E),
            BerthFact("DH-ZK-HEAVY", "中科炼化重件泊位", "Zhongke heavy-lift berth", 160, 8.0, 5_000,
                      "heavy_lift", "S25: heavy-lift berth (2018-09); figures estimate", E),
        ),
    ),
    TerminalFact(
        "DH-BASF", "巴斯夫湛江大件码头", "BASF Zhanjiang bulky-cargo terminal", "donghai",
        anchor=(110.4470, 21.0655), toward=(110.462, 21.065),
        berths=(
            BerthFact("DH-BASF-RORO", "巴斯夫5千吨级滚装泊位", "BASF 5,000 t ro-ro berth", 180, 7.5,
                      5_000, "ro_ro", "S26: 345 m shoreline, 1 × 5k t ro-ro + 1 × 3k t heavy-lift "
                      "(published); split estimate", "published", gap_m=0),
            BerthFact("DH-BASF-HEAVY", "巴斯夫3千吨级重件泊位", "BASF 3,000 t heavy-lift berth", 165, 6.5,
                      3_000, "heavy_lift", "S26 (as above)", "published", gap_m=0),
        ),
    ),
)

PORT_AREAS = {  # id -> (zh, en)
    "xiashan": ("霞山港区", "Xiashan port area"),
    "baoman": ("宝满港区", "Baoman port area"),
    "tiaoshun": ("调顺岛港区", "Tiaoshun Island port area"),
    "donghai": ("东海岛港区", "Donghai Island port area"),
}

# ---- anchorages: (id, zh, en, kind, max_dwt, depth_m, centre lon/lat, along_m, across_m,
#      heading_deg of the long side, source). No current polygons are published (zhanjiang.md §3).
ANCHORAGES = (
    ("ANC-IN-1", "湾内1号锚地", "Inner anchorage No. 1", "inner", 100_000, 18.0,
     (110.4688, 21.1044), 3000, 1500, 304,
     "estimate from S7 (official strip 21°11′36″N 110°25′17″E – 21°04′55″N 110°33′20″E, 15–35 m, "
     "≤100,000 DWT), moved beside today's channel"),
    ("ANC-IN-2", "湾内2号锚地", "Inner anchorage No. 2", "inner", 100_000, 16.0,
     (110.492, 21.128), 3000, 1500, 312, "estimate from S7 (as No. 1), NE side of the channel"),
    ("ANC-QP", "检疫锚地", "Quarantine & inner pilot anchorage", "quarantine_pilot", 100_000, 15.0,
     (110.440, 21.118), 2000, 1200, 300, "estimate: nearest Xiashan (zhanjiang.md §3)"),
    ("ANC-OUT-LS", "外海大型船舶锚地", "Outer large-ship anchorage", "large_ship", 400_000, 24.0,
     (110.735, 20.985), 6000, 3500, 286,
     "estimate: Capesize/VLCC waiting area outside the bay clear of the outer channel, 20–25 m "
     "(zhanjiang.md §3)"),
    ("ANC-DG", "危险品船锚地", "Dangerous-goods anchorage", "dangerous_goods", 300_000, 22.0,
     (110.790, 21.085), 4000, 2500, 286, "estimate: kept apart from the other anchorages"),
    ("ANC-PILOT", "引航员登轮区", "Pilot boarding area", "pilot_boarding", None, 24.0,
     (110.925, 20.955), 3000, 2000, 286,
     "estimate: pilotage compulsory (S7, S31), boarding position not published: near K0"),
)

# ---- gates: (id, zh, en, terminal, lanes, direction, lon, lat, source)
GATES = (
    ("GATE-BM-IN", "宝满集装箱进闸口", "Baoman container in-gate", "BM-CT", 8, "in",
     (110.3660, 21.1410), "estimate: 6–10 lane in-gate on the landward side (zhanjiang.md §6c)"),
    ("GATE-BM-OUT", "宝满集装箱出闸口", "Baoman container out-gate", "BM-CT", 6, "out",
     (110.3690, 21.1435), "estimate (as in-gate)"),
    ("GATE-FTZ-MAIN", "综保区主卡口", "Bonded zone main gate", "ZJ-CBZ", 6, "both",
     (110.3900, 21.1700), "S29: main gate near Baoshi Rd / Xinggang Ave (forum photos); position "
     "estimate"),
    ("GATE-FTZ-INNER", "综保区内卡口", "Bonded zone inner gate", "ZJ-CBZ", 4, "both",
     (110.3930, 21.1780), "S29: inner gate; position estimate"),
)

# ---- sensors: (id, zh, en, kind, lon, lat, range_m, status, source)
SENSORS = (
    ("VHF-XS", "霞山VHF/AIS基站", "Xiashan VHF/AIS base station", "vhf_base_station",
     (110.398, 21.195), 40_000, "operational", "estimate: existing MSA coverage of the inner port"),
    ("VHF-NZ", "硇洲岛VHF/AIS基站", "Naozhou VHF/AIS base station", "vhf_base_station",
     (110.600, 20.905), 50_000, "operational", "estimate: outer approaches"),
    ("VHF-NS", "南三岛VHF/AIS基站（新建）", "Nansan VHF/AIS base station (new)", "vhf_base_station",
     (110.600, 21.130), 40_000, "new", "S31 plans new base stations; position estimate"),
    ("VHF-DH", "东海岛VHF/AIS基站（新建）", "Donghai VHF/AIS base station (new)", "vhf_base_station",
     (110.500, 21.040), 40_000, "new", "S31 (as above)"),
    ("VHF-TS", "调顺岛VHF/AIS基站（新建）", "Tiaoshun VHF/AIS base station (new)", "vhf_base_station",
     (110.405, 21.300), 30_000, "new", "S31 (as above)"),
    ("CAM-ANC-IN", "湾内锚地监控", "Inner anchorages camera", "camera",
     (110.500, 21.092), 6_000, "operational", "estimate"),
    ("CAM-ANC-OUT", "外海锚地监控（硇洲岛）", "Outer anchorages camera (Naozhou)", "camera",
     (110.640, 20.935), 12_000, "operational", "estimate"),
    ("CAM-XS-YARD", "霞山堆场监控", "Xiashan yard camera", "camera",
     (110.400, 21.160), 2_000, "operational", "estimate"),
    ("CAM-BM-YARD", "宝满集装箱堆场监控", "Baoman container yard camera", "camera",
     (110.3680, 21.1400), 2_000, "operational", "estimate"),
    ("CAM-DH-YARD", "东海岛原料场监控", "Donghai raw-material yard camera", "camera",
     (110.495, 21.068), 2_000, "operational", "estimate"),
)

# ---- dredged approaches from the main channel to terminals off its axis -----------------------
# Not published: estimates, so that the bathymetry offers a plausible dredged way to every berth.
# (id, lon/lat polyline from the channel to the terminal, width_m, depth_m)
APPROACHES = (
    ("APP-TIAOSHUN", [(110.413, 21.176), (110.414, 21.200), (110.409, 21.230), (110.409, 21.255),
                      (110.414, 21.275), (110.417, 21.305)], 180.0, 13.0),
    ("APP-BAOMAN", [(110.418, 21.143), (110.400, 21.1340), (110.385, 21.1280), (110.3720, 21.1340),
                    (110.3620, 21.1275)], 250.0, 15.5),
    ("APP-XS-MAIN", [(110.412, 21.1400), (110.4045, 21.1470), (110.4055, 21.1630)], 400.0, 23.0),
    ("APP-XS-SLIT", [(110.3975, 21.1388), (110.3830, 21.1517)], 80.0, 11.0),
    ("APP-DH-BAOSTEEL", [(110.497, 21.102), (110.500, 21.0790)], 300.0, 23.0),
    ("APP-DH-WEST", [(110.488, 21.106), (110.472, 21.090), (110.462, 21.0685), (110.446, 21.0665)],
     200.0, 11.5),
    ("APP-DH-ZHONGKE", [(110.522, 21.0865), (110.526, 21.0800)], 300.0, 23.0),
)
