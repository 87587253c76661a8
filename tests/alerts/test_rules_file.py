"""The rules file: the bundled one loads with every rule kind; errors name the file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from twin.alert_rules import KINDS, PRIORITIES, RulesFileError, load_rules, parse_rules
from twin.alerts import AlertEngine
from twin.port import Port

GOOD = """\
[defaults]
escalate_after_min = 5

[rules.speed]
kind = "channel_speed"
priority = "warning"
limit_kn = 12
"""


def test_the_bundled_rules_cover_every_kind_with_imo_priorities() -> None:
    rules = load_rules()
    assert {r.kind for r in rules.rules} == set(KINDS)
    assert all(r.priority in PRIORITIES for r in rules.rules)
    speed = rules.by_id("channel_speed")
    assert speed.escalate_after_s == 600.0 and speed.params["limit_kn_by_segment"] == {"CH-IN-2": 12.0}
    assert rules.by_id("one_way_conflict").escalate_after_s is None  # escalate = false
    assert rules.by_id("feed_stale").escalate_after_s == 900.0  # its own 15 min over the default 10


def test_defaults_fill_what_a_rule_leaves_out(tmp_path: Path) -> None:
    f = tmp_path / "r.toml"
    f.write_text(GOOD)
    rule = load_rules(f).by_id("speed")
    assert rule.params == {
        "limit_kn": 12,
        "limit_kn_by_segment": {},
        "clear_margin_kn": 0.5,
        "min_duration_s": 30.0,
    }
    assert rule.escalate_after_s == 300.0 and rule.enabled


@pytest.mark.parametrize(
    ("text", "line", "key", "words"),
    [
        (GOOD + "limit_kn_max = 3\n", 8, "rules.speed.limit_kn_max", "unknown key"),
        (GOOD.replace("limit_kn = 12", 'limit_kn = "fast"'), 7, "rules.speed.limit_kn", "must be a number"),
        (
            GOOD.replace('priority = "warning"', 'priority = "urgent"'),
            6,
            "rules.speed.priority",
            "unknown priority",
        ),
        (GOOD.replace('"channel_speed"', '"speeding"'), 5, "rules.speed.kind", "unknown kind"),
        (GOOD.replace("limit_kn = 12", "limit_kn = -1"), 7, "rules.speed.limit_kn", "negative"),
        (
            GOOD.replace("escalate_after_min = 5", "escalate_after = 5"),
            2,
            "defaults.escalate_after",
            "unknown key",
        ),
        (
            GOOD + '[rules.stale]\nkind = "feed_stale"\npriority = "warning"\nfeeds = ["ais", "radar"]\n',
            11,
            "rules.stale.feeds",
            "unknown feeds",
        ),
        (GOOD + '[rules.nokind]\npriority = "warning"\n', 8, "rules.nokind", "missing 'kind'"),
        (GOOD + "[alarms]\nx = 1\n", 8, "alarms", "unknown table"),
    ],
)
def test_a_bad_value_names_the_file_line_and_key(
    tmp_path: Path, text: str, line: int, key: str, words: str
) -> None:
    f = tmp_path / "bad.toml"
    f.write_text(text)
    with pytest.raises(RulesFileError) as err:
        load_rules(f)
    assert (err.value.path, err.value.line, err.value.key) == (str(f), line, key)
    assert words in str(err.value) and f"{f}, line {line}" in str(err.value)


def test_a_toml_syntax_error_names_the_line(tmp_path: Path) -> None:
    f = tmp_path / "broken.toml"
    f.write_text(GOOD.replace("limit_kn = 12", "limit_kn = 12 kn"))
    with pytest.raises(RulesFileError, match=r"broken.toml, line 7: not valid TOML") as err:
        load_rules(f)
    assert err.value.line == 7


def test_an_area_the_port_does_not_have_names_its_line(port: Port) -> None:
    text = (
        '[rules.zone]\nkind = "restricted_zone"\npriority = "warning"\n\nareas = ["ANC-DG", "ANC-NOWHERE"]\n'
    )
    with pytest.raises(RulesFileError, match=r"mine.toml, line 5: key 'rules.zone.areas': .*ANC-NOWHERE"):
        AlertEngine(port, parse_rules(text, "mine.toml"))
