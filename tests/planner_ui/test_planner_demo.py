"""`twin demo` serves the planner beside the cockpit: `start_demo(planner_port=0)` gives its URL."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest

from dashboards.demo import add_arguments
from tests.conftest import running_demo

pytestmark = pytest.mark.slow


def test_demo_arguments_name_the_planner_port_and_scenarios_folder() -> None:
    import argparse

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args([])
    assert args.planner_port == 8070 and args.scenarios_dir == Path("scenarios")
    assert parser.parse_args(["--planner-port", "9000"]).planner_port == 9000


def test_start_demo_serves_the_planner_page(tmp_path: Path, scenarios_dir: Path) -> None:
    with running_demo(
        tmp_path / "data", seed=3, speed=60.0, hours=1.0, planner_port=0, scenarios_dir=scenarios_dir
    ) as demo:
        assert demo.planner_url is not None and demo.planner_url.endswith("/planner")
        assert demo.ops_url is None  # each screen is opt-in for the function
        with urllib.request.urlopen(demo.planner_url + "?lang=en", timeout=120) as reply:
            page = reply.read().decode("utf-8")
        assert reply.status == 200 and "<title>Zhanjiang planner</title>" in page
        assert demo.planner.store.catalogue()[-1].key == "file:pocket.toml"
