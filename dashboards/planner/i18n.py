"""Texts of the planner screen in Chinese (default) and English; kept apart from the other screens."""

from __future__ import annotations

TEXT: dict[str, dict[str, str]] = {
    "title": {"zh": "湛江港智慧口岸 · 规划方案比选", "en": "Zhanjiang Port of Entry · Planner"},
    "lang_switch": {"zh": "English", "en": "中文"},
    "scenario": {"zh": "方案", "en": "Scenario"},
    "baseline": {"zh": "基准（现状港口）", "en": "Baseline (the port as it is)"},
    "baseline_short": {"zh": "基准", "en": "Baseline"},
    "scenario_short": {"zh": "方案", "en": "Scenario"},
    "bundled": {"zh": "内置", "en": "bundled"},
    "bad_file": {"zh": "文件有误", "en": "invalid"},
    "scenario_error": {"zh": "方案文件无法使用：", "en": "This scenario file cannot be used: "},
    "ukc_at": {"zh": "富余水深时刻（北京时间）", "en": "UKC at (Beijing time, UTC+8)"},
    "show_diff": {"zh": "显示差值图层", "en": "Show difference layer"},
    "map_note": {
        "zh": "单元格：设计船型净富余水深等级（航道两侧1.5公里内）；立柱：方案相对基准的富余水深增减。",
        "en": "Cells: net UKC class of the design vessel (within 1.5 km of the channel); "
        "columns: UKC gain/loss of the scenario over the baseline.",
    },
    "legend_safe": {"zh": "安全", "en": "safe"},
    "legend_marginal": {"zh": "临界", "en": "marginal"},
    "legend_no_go": {"zh": "禁航", "en": "no-go"},
    "legend_gain": {"zh": "富余水深增加", "en": "UKC gain"},
    "legend_loss": {"zh": "富余水深减少", "en": "UKC loss"},
    "design_vessel": {"zh": "设计船型", "en": "Design vessel"},
    "draught": {"zh": "吃水", "en": "draught"},
    "route": {"zh": "航线", "en": "route"},
    "rule": {
        "zh": "富余水深规则：外航道 {outer}%，内航道 {inner}% 吃水（窗口与仿真相同）",
        "en": "UKC rule: outer channel {outer} %, inner {inner} % of draught (windows and simulation)",
    },
    "windows_title": {"zh": "每日乘潮窗口（小时）", "en": "Tidal window per day (h)"},
    "kpi_title": {"zh": "关键指标差值（方案 − 基准）", "en": "KPI deltas (scenario − baseline)"},
    "col_kpi": {"zh": "指标", "en": "KPI"},
    "col_baseline": {"zh": "基准", "en": "Baseline"},
    "col_scenario": {"zh": "方案", "en": "Scenario"},
    "col_delta": {"zh": "差值", "en": "Δ"},
    "col_ci": {"zh": "95%置信区间 ±", "en": "95 % CI ±"},
    "col_date": {"zh": "日期(UTC)", "en": "Day (UTC)"},
    "col_gain": {"zh": "增减", "en": "Gain"},
    "col_windows": {"zh": "窗口数", "en": "Windows"},
    "mean_per_day": {"zh": "日均", "en": "mean/day"},
    "kpi_wait_mean_h": {
        "zh": "锚地等待（等待船舶平均，小时）",
        "en": "Anchorage wait, mean per waiting call (h)",
    },
    "kpi_wait_total_h": {"zh": "锚地等待合计（小时）", "en": "Anchorage wait, total (h)"},
    "kpi_deep_wait_mean_h": {"zh": "深吃水船等待（每艘平均，小时）", "en": "Deep-draught wait per call (h)"},
    "kpi_berth_occupancy_pct": {"zh": "泊位占用率（%）", "en": "Berth occupancy (%)"},
    "kpi_throughput_t_per_day": {"zh": "吞吐能力（吨/日）", "en": "Throughput capacity (t/day)"},
    "kpi_calls_refused": {"zh": "无法安排泊位的船舶（艘）", "en": "Calls refused (no berth within 5 days)"},
    "kpi_window_h_per_day": {"zh": "乘潮窗口时长（小时/日）", "en": "Tidal window length (h/day)"},
    "kpi_windows_per_day": {"zh": "乘潮窗口数（个/日）", "en": "Tidal windows per day"},
    "deterministic": {"zh": "潮汐预报，无随机性", "en": "tide prediction: no spread"},
    "sim_source": {
        "zh": "快速仿真：{days} 天 × 种子 {seeds}，自 {start}（UTC）；基准与方案同种子配对",
        "en": "Fast-time simulation: {days} days × seeds {seeds} from {start} (UTC); baseline and "
        "scenario paired on common seeds",
    },
    "run_days": {"zh": "仿真天数", "en": "Days"},
    "run_seeds": {"zh": "种子数", "en": "Seeds"},
    "run": {"zh": "运行仿真", "en": "Run simulation"},
    "running": {"zh": "仿真运行中：{done}/{total} 次", "en": "Simulating: {done}/{total} runs"},
    "queued": {"zh": "排队中…", "en": "Queued…"},
    "done": {"zh": "完成：{total} 次仿真", "en": "Done: {total} runs"},
    "failed": {"zh": "仿真失败：", "en": "The simulation failed: "},
    "computing": {"zh": "计算中…", "en": "Computing…"},
    "previous_run": {
        "zh": "显示上一次仿真结果，新的仿真完成后替换。",
        "en": "Showing the previous run until the new one is done.",
    },
    "no_result": {"zh": "尚无仿真结果", "en": "No simulation result yet"},
    "export": {"zh": "导出比选报告 (HTML)", "en": "Export report (HTML)"},
    "chart_kpi": {"zh": "差值及95%置信区间", "en": "Deltas with 95 % intervals"},
    "report_title": {"zh": "规划方案比选报告", "en": "Planner comparison report"},
    "report_offline": {
        "zh": "离线报告：所有内容已内嵌，无需网络。",
        "en": "Offline report: everything is inlined, no network needed.",
    },
    "tide_note": {
        "zh": "潮汐调和常数为估算值（geodata/zhanjiang/tide.toml），不可用于航行。",
        "en": "Tide constituents are estimates (geodata/zhanjiang/tide.toml): not for navigation.",
    },
    "description": {"zh": "说明", "en": "Description"},
    "changes": {"zh": "方案内容", "en": "What the scenario changes"},
    "ch_dredge": {"zh": "疏浚 {where}：{how}", "en": "dredge {where}: {how}"},
    "ch_deepen": {"zh": "加深 {m} 米", "en": "{m} m deeper"},
    "ch_depth": {"zh": "浚深至海图基准面下 {m} 米", "en": "to {m} m below chart datum"},
    "ch_polygon": {"zh": "多边形（{n} 点）", "en": "polygon ({n} points)"},
    "ch_tide": {"zh": "潮位整体调整 {m} 米", "en": "tide offset {m} m"},
    "ch_surge": {"zh": "风暴增水最大 {m} 米", "en": "surge up to {m} m"},
    "ch_vessel": {
        "zh": "设计船型 {dwt}：{l} × {b} 米，吃水 {t} 米，方形系数 {cb}，{kn} 节",
        "en": "design vessel {dwt}: {l} × {b} m, draught {t} m, Cb {cb}, {kn} kn",
    },
    "ch_close": {"zh": "关闭泊位 {ids}", "en": "close berths {ids}"},
    "ch_add": {"zh": "新增泊位 {ids}", "en": "add berths {ids}"},
    "ch_gate": {"zh": "闸口 {gate}：最多 {n} 条车道", "en": "gate {gate}: up to {n} lanes"},
    "ch_demand": {"zh": "到港需求 {cls} × {f}", "en": "demand {cls} × {f}"},
    "ch_scheduling": {"zh": "航道调度：{how}", "en": "channel scheduling: {how}"},
    "ch_one_way": {"zh": "单向通航限制：{dwt} 吨及以上", "en": "one-way rule from {dwt} dwt"},
    "ch_pilots": {
        "zh": "引航员 {n} 名（每班最长 {shift} 小时，休息至少 {rest} 小时）",
        "en": "{n} pilots (shifts up to {shift} h, rest at least {rest} h)",
    },
    "ch_ukc": {"zh": "富余水深 {part} {pct}% 吃水", "en": "UKC {part} {pct} % of draught"},
}


def t(key: str, lang: str = "zh", **values: object) -> str:
    """The text for `key` in `lang` ('zh' or 'en'), with `{name}` fields filled; KeyError if unknown."""
    text = TEXT[key][lang]
    return text.format(**values) if values else text
