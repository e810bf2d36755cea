"""Reading ``systemctl show``, systemd timestamps, unit names, and the argv we build from them."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from healthwatch.problems.servicemonitor.components import camel_case, unit_name, unit_stem
from healthwatch.problems.servicemonitor.systemd import (
    SHOW_PROPERTIES,
    kill_argv,
    parse_show,
    parse_timestamp,
    show_argv,
    timestamp_option_refused,
)

SHOWN = """\
LoadState=loaded
ActiveState=active
SubState=running
MainPID=812
InactiveExitTimestamp=@1700000000
NRestarts=4
"""


def test_parse_show_with_unix_timestamps() -> None:
    state = parse_show(SHOWN)
    assert (state.load_state, state.active_state, state.sub_state) == (
        "loaded",
        "active",
        "running",
    )
    assert (state.main_pid, state.started_at, state.restarts) == (812, 1_700_000_000.0, 4)
    assert state.active and state.describe() == "active (running)"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("@1700000000", 1_700_000_000.0),
        ("@1700000000.5", 1_700_000_000.5),
        ("Tue 2023-11-14 22:13:20 UTC", 1_700_000_000.0),
        ("2023-11-14 22:13:20 UTC", 1_700_000_000.0),
        ("Tue 2023-11-14 22:13:20.250000 UTC", 1_700_000_000.25),
        ("", None),
        ("n/a", None),
        ("0", None),
        ("@0", None),
        ("@", None),
        ("@soon", None),
        ("@inf", None),
        ("@nan", None),
        ("@-5", None),
        ("Tue 2023-13-45 99:13:20 UTC", None),
        ("Tue 2023-11-14 22:13:20 XYZT", None),
        ("yesterday", None),
    ],
)
def test_parse_timestamp(value: str, expected: float | None) -> None:
    assert parse_timestamp(value) == expected


def test_parse_timestamp_in_the_local_zone() -> None:
    local = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(1_700_000_000))
    assert parse_timestamp(f"Tue {local} {time.tzname[0]}") in {
        1_700_000_000.0,
        1_700_000_000.0 - 3600,  # the zone's standard-time name during summer time
        1_700_000_000.0 + 3600,
    }
    assert parse_timestamp(f"Tue {local}") == 1_700_000_000.0


@pytest.mark.parametrize(
    "text",
    [
        "",
        "garbage",
        "SubState=running\n",
        "\x00\xff=\n" * 100,
    ],
)
def test_parse_show_refuses_output_without_active_state(text: str) -> None:
    with pytest.raises(ValueError, match="no ActiveState"):
        parse_show(text)


def test_parse_show_tolerates_odd_values() -> None:
    state = parse_show(
        "ActiveState=inactive\nActiveState=active\nMainPID=-3\nNRestarts=many\n"
        "InactiveExitTimestamp=\nFragmentPath=/x=y\nnot a property\n"
    )
    assert state.active_state == "inactive"  # the first value of a key counts
    assert (state.main_pid, state.restarts, state.started_at) == (0, None, None)
    assert not state.active
    missing = parse_show("LoadState=not-found\nActiveState=inactive\nSubState=dead\n")
    assert missing.describe() == "not-found, inactive (dead)"


def test_argv() -> None:
    assert show_argv("kubelet.service") == [
        "systemctl",
        "show",
        f"--property={SHOW_PROPERTIES}",
        "--timestamp=unix",
        "--",
        "kubelet.service",
    ]
    assert show_argv("a.service", unix_timestamps=False)[-3:] == [
        f"--property={SHOW_PROPERTIES}",
        "--",
        "a.service",
    ]
    assert kill_argv("docker.service", signal="SIGUSR1") == [
        "systemctl",
        "kill",
        "--kill-who=main",
        "--signal=SIGUSR1",
        "--",
        "docker.service",
    ]


@pytest.mark.parametrize(
    ("stderr", "refused"),
    [
        ("systemctl: unrecognized option '--timestamp=unix'", True),
        ("Invalid value for --timestamp: unix", True),
        ("Unknown timestamp format: unix", True),
        ("Failed to connect to bus", False),
        ("", False),
    ],
)
def test_timestamp_option_refused(stderr: str, refused: bool) -> None:
    assert timestamp_option_refused(stderr) is refused


@pytest.mark.parametrize(
    ("written", "full"),
    [
        ("kubelet", "kubelet.service"),
        ("kubelet.service", "kubelet.service"),
        ("docker.socket", "docker.socket"),
        ("foo.bar", "foo.bar.service"),
        ("getty@tty1", "getty@tty1.service"),
        ("sys-devices-x\\x2dy.device", "sys-devices-x\\x2dy.device"),
        ("a:b_c", "a:b_c.service"),
    ],
)
def test_unit_names(written: str, full: str) -> None:
    assert unit_name(written) == full


def test_stems_and_camel_case() -> None:
    assert unit_stem("kubelet.service") == "kubelet"
    assert unit_stem("foo.bar") == "foo.bar"
    assert camel_case("kube-proxy") == "KubeProxy"
    assert camel_case("my_app@2") == "MyApp2"
    assert camel_case("---") == "Unit"
    assert camel_case("1password") == "Unit1password"


@given(st.text(max_size=300))
def test_accepted_unit_names_can_be_neither_options_nor_shell_words(text: str) -> None:
    try:
        full = unit_name(text)
    except ValueError:
        return
    assert not full.startswith(("-", "."))
    assert len(full) <= 256
    assert not set(full) & set(" \t\n\r\x00;&|$`'\"<>()*?[]{}!#~/")
    assert full.startswith(text)
