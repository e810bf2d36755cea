"""The procfs parsers behind CPU, memory, PID and host figures: known text, malformed text."""

from __future__ import annotations

import pytest

from healthwatch.problems.statsmonitor.procparse import (
    ParseError,
    parse_int,
    parse_keyed_numbers,
    parse_loadavg,
    parse_meminfo,
    parse_os_release,
    parse_stat,
    parse_uptime,
)
from tests.unit.problems.statsmonitor.fakehost import MEMINFO, STAT


def test_stat_reads_aggregate_per_cpu_and_counters() -> None:
    stat = parse_stat(STAT)
    assert stat.total.ticks == (100, 10, 50, 800, 20, 5, 5, 10, 0, 0)
    assert stat.total.total == 1000
    assert stat.total.idle == 820
    assert stat.total.get("steal") == 10
    assert [name for name, _ in stat.per_cpu] == ["cpu0", "cpu1"]
    assert (stat.interrupts, stat.processes, stat.procs_running) == (12345, 4242, 3)
    assert (stat.procs_blocked, stat.boot_time) == (1, 1700000000)


def test_stat_from_an_old_kernel_has_fewer_columns_and_keys() -> None:
    stat = parse_stat("cpu 1 2 3 4\ncpu0 1 2 3 4\n")
    assert stat.total.ticks == (1, 2, 3, 4, 0, 0, 0, 0, 0, 0)
    assert stat.interrupts is None
    assert stat.procs_running is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "no aggregate 'cpu' line"),
        ("cpu0 1 2 3 4\n", "no aggregate 'cpu' line"),
        ("cpu 1 2 3\n", "line 1: cpu: expected at least 4 columns"),
        ("cpu 1 2 x 4\n", "line 1: cpu: not an integer: 'x'"),
        ("cpu 1 2 3 4\nprocesses\n", "line 2: processes: no value"),
        ("cpu 1 2 3 -4\n", "line 1: cpu: out of range: '-4'"),
        ("cpu 1 2 3 99999999999999999999999\n", "out of range"),
        ("cpu 1 2 3 4\nprocs_running 1e3\n", "line 2: procs_running: not an integer"),
    ],
)
def test_stat_refuses_malformed_text_saying_where(text: str, reason: str) -> None:
    with pytest.raises(ParseError, match=reason):
        parse_stat(text)


def test_loadavg() -> None:
    load = parse_loadavg("0.50 0.40 0.30 3/1200 5555\n")
    assert (load.load1, load.load5, load.load15, load.running, load.threads) == (
        0.5,
        0.4,
        0.3,
        3,
        1200,
    )


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "expected 'load1 load5 load15 running/threads'"),
        ("0.1 0.2 0.3", "expected"),
        ("0.1 0.2 0.3 4 5", "expected"),
        ("nan 0.2 0.3 1/2 3", "load1: out of range"),
        ("0.1 x 0.3 1/2 3", "load5: not a number"),
        ("0.1 0.2 0.3 a/2 3", "running: not an integer"),
    ],
)
def test_loadavg_malformed(text: str, reason: str) -> None:
    with pytest.raises(ParseError, match=reason):
        parse_loadavg(text)


def test_meminfo_in_bytes() -> None:
    info = parse_meminfo(MEMINFO)
    assert info["MemTotal"] == 1_000_000 * 1024
    assert info["Active(anon)"] == 111 * 1024
    assert info["HugePages_Total"] == 0


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "no MemTotal line"),
        ("MemTotal: 10 kB\n", "no MemFree line"),
        ("MemTotal: 0 kB\nMemFree: 0 kB\n", "MemTotal is 0"),
        ("MemTotal: 10 MB\nMemFree: 1 kB\n", "line 1: MemTotal: unknown unit 'MB'"),
        ("MemTotal:\n", "line 1: 'MemTotal': no value"),
        ("MemTotal: ten kB\n", "line 1: MemTotal: not an integer"),
    ],
)
def test_meminfo_malformed(text: str, reason: str) -> None:
    with pytest.raises(ParseError, match=reason):
        parse_meminfo(text)


def test_vmstat_pairs() -> None:
    assert parse_keyed_numbers("oom_kill 7\nnr_free_pages 1\n") == {
        "oom_kill": 7,
        "nr_free_pages": 1,
    }


def test_uptime_and_single_integers() -> None:
    assert parse_uptime("3600.50 7000.00\n") == 3600.5
    assert parse_int("32768\n") == 32768
    with pytest.raises(ParseError, match="empty file"):
        parse_uptime("")
    with pytest.raises(ParseError, match="expected one integer"):
        parse_int("1 2")
    with pytest.raises(ParseError, match="not an integer"):
        parse_int("max")


def test_os_release_unquotes_as_a_shell_would() -> None:
    release = parse_os_release(
        "# comment\nNAME='Debian GNU/Linux'\nID=debian\nVERSION_ID=\"12\"\n"
        'PRETTY_NAME="A \\"quoted\\" name"\nbroken line\n=novalue\nBAD="unterminated\n'
    )
    assert release["NAME"] == "Debian GNU/Linux"
    assert release["ID"] == "debian"
    assert release["VERSION_ID"] == "12"
    assert release["PRETTY_NAME"] == 'A "quoted" name'
    assert release["BAD"] == "unterminated"
    assert "broken line" not in release


def test_binary_garbage_is_refused_not_crashed_on() -> None:
    garbage = bytes(range(256)).decode("utf-8", errors="replace") * 100
    for parse in (parse_stat, parse_loadavg, parse_meminfo, parse_uptime, parse_int):
        with pytest.raises(ParseError):
            parse(garbage)
