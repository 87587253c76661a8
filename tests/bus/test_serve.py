"""`twin serve --config`: the TOML settings, their errors, and the token only from the environment."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from feeds import serve


def _settings(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> serve.ServeSettings:
    config = tmp_path / "twin.toml"
    config.write_text(text, encoding="utf-8")
    return serve.load_settings(config, environ=env or {})


def test_the_documented_example_config_loads(tmp_path: Path) -> None:
    example = re.search(r"```toml\n(.*?)```", serve.__doc__ or "", flags=re.S)
    assert example is not None
    settings = _settings(tmp_path, example.group(1), {"TWIN_INGEST_TOKEN": "s3cret-token"})
    live = settings.live
    assert live.host == "127.0.0.1" and live.ws_port == 8765 and live.token == "s3cret-token"
    assert live.journal_dir == tmp_path / "var" / "journal"   # relative to the config file
    assert settings.simulate is not None and settings.simulate["speed"] == 10.0
    assert len(live.sources) == 1 and live.sim_clock


def test_defaults_bind_localhost_and_disable_ingest_without_a_token(tmp_path: Path) -> None:
    live = _settings(tmp_path, "").live
    assert live.host == "127.0.0.1" and live.token is None
    assert "http://localhost:*" in live.origins


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("[live]\nws_port = 70000\n", "live.ws_port"),
        ("[live]\nws_port = 'x'\n", "live.ws_port"),
        ("[live]\norigins = 'http://a'\n", "live.origins"),
        ("[live]\nsnapshot_every_s = -1\n", "live.snapshot_every_s"),
        ("[live]\ntoken = 'in-a-file'\n", "unknown keys"),
        ("[[files]]\nkind = 'radar'\nglob = 'x'\n", "files[0].kind"),
        ("[live]\nengine = 'nomodule'\n", None),
        ("not = [toml\n", "not valid TOML"),
    ],
)
def test_a_bad_config_is_refused_naming_the_key(tmp_path: Path, text: str, named: str | None) -> None:
    if named is None:  # the engine spec is checked when the twin is built
        settings = _settings(tmp_path, text)
        with pytest.raises(serve.ConfigError, match=re.escape("live.engine")):
            serve.build(settings)
        return
    with pytest.raises(serve.ConfigError, match=re.escape(named)):
        _settings(tmp_path, text)


def test_twin_serve_exits_2_on_a_bad_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "twin.toml"
    config.write_text("[live]\nws_port = -5\n")
    code = serve.run(argparse.Namespace(config=config, port=None, host=None))
    assert code == 2 and "live.ws_port" in capsys.readouterr().err
    missing = serve.run(argparse.Namespace(config=tmp_path / "nope.toml", port=None, host=None))
    assert missing == 2
