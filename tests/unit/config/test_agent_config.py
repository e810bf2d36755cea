"""Loading the agent's YAML config: defaults, overrides, and errors that name file, line, field."""

from __future__ import annotations

from pathlib import Path

import pytest

from healthwatch.config import load_config
from healthwatch.config.yamlfile import MAX_CONFIG_BYTES, MAX_NODES
from healthwatch.model.errors import ConfigError


def write(tmp_path: Path, text: str | bytes, name: str = "agent.yaml") -> str:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return str(path)


def test_embedded_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    monkeypatch.delenv("NODE_NAME", raising=False)
    config = load_config(None)
    assert config.source == "embedded default"
    assert (config.health_listen.host, config.health_listen.port) == ("127.0.0.1", 9801)
    assert config.listen is not None and config.listen.port == 9800
    assert config.metrics_listen is not None and config.metrics_listen.port == 9802
    assert config.state_dir == tmp_path / "healthwatch"
    assert config.drain_seconds == 2.0
    assert config.heartbeat is None


def test_home_state_dir_without_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert load_config(None).state_dir == tmp_path / ".local" / "state" / "healthwatch"


def test_file_then_flags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NODE_NAME", "from-env")
    path = write(
        tmp_path,
        "agent:\n  metrics_listen: 'off'\n  drain: 500ms\n  health_listen: 0.0.0.0:8081\n"
        "health:\n  details: never\n  loop_stall: 3s\n"
        "heartbeat:\n  url: http://127.0.0.1:1/beat\n  interval: 1m\n  cluster_id: c1\n",
    )
    config = load_config(path, overrides={"health_listen": "127.0.0.1:9999", "listen": None})
    assert config.metrics_listen is None
    assert config.drain_seconds == 0.5
    assert config.health_listen.port == 9999  # the flag wins over the file
    assert config.details == "never"
    assert config.loop_stall_seconds == 3.0
    assert config.heartbeat is not None and config.heartbeat.cluster_id == "c1"
    assert config.heartbeat_interval == 60.0
    assert config.node_name == "from-env"
    assert config.source == path


def test_token_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_TOKEN", "s3cret")
    config = load_config(write(tmp_path, "health:\n  token_env: MY_TOKEN\n"))
    assert config.token == "s3cret"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("agent:\n  drain: 5x\n", r"agent\.yaml:2: agent\.drain: .*'5x'"),
        ("agent:\n  listen: 1.2.3.4:99999\n", r"agent\.yaml:2: agent\.listen: port must be"),
        ("agent:\n  bogus: 1\n", r"agent\.yaml:.*unknown field `bogus`"),
        ("nonsense: 1\n", r"unknown field `nonsense`"),
        ("health:\n  details: maybe\n", r"agent\.yaml:2: health\.details: .*'maybe'"),
        ("agent:\n  health_listen: 'off'\n", r"health_listen: this listener cannot be turned off"),
        ("agent: [1\n", r"agent\.yaml:2:1: invalid YAML"),
        ("- a\n- b\n", r"top level must be a mapping"),
        ("heartbeat:\n  interval: 5s\n", r"heartbeat.*missing required field `url`"),
        ("agent:\n  log_format: xml\n", r"agent\.yaml:2: agent\.log_format: .*'xml'"),
        ("agent:\n  drain: [1, 2]\n", r"agent\.drain"),
    ],
)
def test_errors_name_file_line_field_and_value(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        load_config(write(tmp_path, text))


def test_flag_errors_name_the_flag(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"command line \(--metrics-listen\)"):
        load_config(None, overrides={"metrics_listen": "nowhere"})


def test_empty_file_is_the_default(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, "")).health_listen.port == 9801


def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(str(tmp_path / "absent.yaml"))
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(write(tmp_path, b"agent:\n  listen: \xff\xfe\n"))


def test_oversized_file_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "# pad\n" * (MAX_CONFIG_BYTES // 6 + 10))
    with pytest.raises(ConfigError, match="the limit is"):
        load_config(path)


def test_alias_bomb_is_refused_before_it_expands(tmp_path: Path) -> None:
    lines = ['a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    with pytest.raises(ConfigError, match=f"more than {MAX_NODES} values"):
        load_config(write(tmp_path, "\n".join(lines) + "\n"))


def test_deep_nesting_is_an_error_not_a_crash(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        load_config(write(tmp_path, "a: " + "[" * 5000 + "]" * 5000 + "\n"))


def test_non_string_keys_and_binary_junk(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        load_config(write(tmp_path, "? [1, 2]\n: 3\n"))
    with pytest.raises(ConfigError):
        load_config(write(tmp_path, "agent: !!python/object:os.system {}\n"))
