"""UI text in Chinese (default) and English. One table, so every screen says the same thing."""

from __future__ import annotations

TEXT: dict[str, dict[str, str]] = {
    "title": {
        "zh": "湛江港智慧口岸 · 数字孪生驾驶舱",
        "en": "Zhanjiang Smart Port of Entry · Digital Twin Cockpit",
    },
    "lang_switch": {"zh": "English", "en": "中文"},
    "tour_on": {"zh": "自动巡航：开", "en": "Tour: on"},
    "tour_off": {"zh": "自动巡航：关", "en": "Tour: off"},
    "connecting": {"zh": "正在连接孪生引擎…", "en": "Connecting to the twin engine…"},
    "connected": {"zh": "实时", "en": "LIVE"},
    "reconnecting": {"zh": "与孪生引擎的连接中断，正在重连…", "en": "Lost the twin engine, reconnecting…"},
    "silent": {"zh": "数据流中断：数据过期", "en": "No data from the engine: figures are stale"},
    "reconnected": {"zh": "已重新连接孪生引擎", "en": "Reconnected to the twin engine"},
    "stale": {"zh": "数据过期", "en": "STALE"},
    "updated": {"zh": "更新", "en": "updated"},
    "no_data": {"zh": "暂无数据", "en": "No data yet"},
    "unit_vessels": {"zh": "艘", "en": "vessels"},
    "unit_/h": {"zh": "次/小时", "en": "/ h"},
    "no_alerts": {"zh": "当前无告警", "en": "No open alerts"},
    "local_time": {"zh": "北京时间", "en": "China Standard Time"},
    "twin_time": {"zh": "孪生时间", "en": "Twin time"},
    "kpi_throughput_t": {"zh": "今日吞吐量", "en": "Throughput today"},
    "kpi_throughput_teu": {"zh": "今日集装箱", "en": "Containers today"},
    "kpi_at_anchor": {"zh": "锚泊船舶", "en": "Vessels at anchor"},
    "kpi_anchor_wait": {"zh": "锚泊等待中位数", "en": "Median anchor wait"},
    "kpi_in_channel": {"zh": "航道内船舶", "en": "Vessels in channel"},
    "kpi_berth_occupancy": {"zh": "泊位占用率", "en": "Berth occupancy"},
    "kpi_customs_release": {"zh": "今日通关时间中位数", "en": "Median customs release today"},
    "kpi_gate_tx": {"zh": "闸口每小时通行", "en": "Gate transactions / h"},
    "kpi_alarms": {"zh": "告警 / 警告", "en": "Alarms / warnings"},
    "chart_throughput": {"zh": "分时吞吐量（按货类）", "en": "Throughput by hour and cargo"},
    "chart_customs": {"zh": "通关各环节时间（按通道）", "en": "Customs release time by stage and channel"},
    "chart_waiting": {"zh": "锚泊等待时间分布", "en": "Anchorage waiting time distribution"},
    "view_overview": {"zh": "全港总览", "en": "Overview"},
    "view_channel": {"zh": "航道与潮汐", "en": "Channel and tide"},
    "view_anchorages": {"zh": "锚地", "en": "Anchorages"},
    "view_terminals": {"zh": "码头", "en": "Terminals"},
    "view_gates": {"zh": "闸口", "en": "Gates"},
    "tide": {"zh": "潮位", "en": "Tide"},
    "unit_h": {"zh": "小时", "en": "h"},
    "unit_ships": {"zh": "艘", "en": "ships"},
    "unit_tx/h": {"zh": "次/小时", "en": "tx/h"},
    "unit_alerts": {"zh": "条", "en": "alerts"},
    "unit_m": {"zh": "米", "en": "m"},
    "unit_TEU": {"zh": "标箱", "en": "TEU"},
    "stage_lodged": {"zh": "申报", "en": "lodged"},
    "stage_risk_assessed": {"zh": "风险评估", "en": "risk assessed"},
    "stage_inspection_start": {"zh": "查验开始", "en": "inspection start"},
    "stage_inspection_end": {"zh": "查验结束", "en": "inspection end"},
    "stage_released": {"zh": "放行", "en": "released"},
    "stage_exit": {"zh": "离港", "en": "exit"},
    "cargo_iron_ore": {"zh": "铁矿石", "en": "iron ore"},
    "cargo_coal": {"zh": "煤炭", "en": "coal"},
    "cargo_crude": {"zh": "原油", "en": "crude"},
    "cargo_products": {"zh": "成品油", "en": "products"},
    "cargo_container": {"zh": "集装箱", "en": "containers"},
    "cargo_grain": {"zh": "粮食", "en": "grain"},
    "cargo_general": {"zh": "件杂货", "en": "general"},
    "cargo_bulk": {"zh": "散货", "en": "bulk"},
    "cargo_ro_ro": {"zh": "滚装", "en": "ro-ro"},
    "cargo_heavy_lift": {"zh": "大件", "en": "heavy lift"},
    "prio_emergency_alarm": {"zh": "紧急警报", "en": "Emergency alarm"},
    "prio_alarm": {"zh": "警报", "en": "Alarm"},
    "prio_warning": {"zh": "警告", "en": "Warning"},
    "prio_caution": {"zh": "注意", "en": "Caution"},
}


def t(key: str, lang: str = "zh") -> str:
    """The text for `key` in `lang` ('zh' or 'en'); KeyError names a missing key."""
    return TEXT[key][lang]


def table(lang: str) -> dict[str, str]:
    """Every text in one language, for the browser."""
    return {key: texts[lang] for key, texts in TEXT.items()}
