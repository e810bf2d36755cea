"""Daemon kinds: the built-ins by name, third-party kinds through the entry-point group."""

from __future__ import annotations

from pathlib import Path

import pytest

from healthwatch.problems.base import ENTRY_POINT_GROUP, DaemonKinds
from healthwatch.problems.logmonitor.monitor import LogMonitor
from healthwatch.testing import ScriptedDaemon


def test_the_builtin_log_monitor_is_found_without_importing_it_first() -> None:
    kinds = DaemonKinds()
    assert "logmonitor" in kinds.names()
    assert kinds.factory("logmonitor") == LogMonitor.from_options


def test_unknown_kind_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match=r"unknown problem daemon kind 'nope'; known: .*logmonitor"):
        DaemonKinds().factory("nope")


def test_kinds_added_to_one_registry_stay_there() -> None:
    kinds = DaemonKinds()
    kinds.add("scripted", ScriptedDaemon)
    assert kinds.factory("scripted") is ScriptedDaemon
    assert "scripted" not in DaemonKinds().names()


def test_third_party_kinds_come_from_the_entry_point_group(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "thirdparty_daemon.py").write_text(
        "from healthwatch.testing import ScriptedDaemon\n"
        "def make(**options):\n    return ScriptedDaemon(options.get('name', 'x'))\n"
    )
    dist = tmp_path / "thirdparty_daemon-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: thirdparty-daemon\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\ngpu-probe = thirdparty_daemon:make\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    kinds = DaemonKinds()
    assert "gpu-probe" in kinds.names()
    daemon = kinds.factory("gpu-probe")(name="probe-1")
    assert daemon.name == "probe-1"
