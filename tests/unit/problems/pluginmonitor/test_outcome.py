"""From a finished run to node-problem-detector's status and message.

Runs are :class:`CommandResult` values (plain data), so each case of the protocol
is written out: exit codes, signals, timeouts, start failures, and the message
rules (trimmed, first line, byte cap on a character boundary, Go quoting).
"""

from __future__ import annotations

import pytest

from healthwatch.aio.processes import CommandResult, PluginStatus
from healthwatch.problems.pluginmonitor.outcome import (
    START_ERROR_MESSAGE,
    ResultKind,
    cut_bytes,
    go_quote,
    outcome_of,
)


def _result(
    exit_code: int | None = 0,
    stdout: bytes = b"",
    *,
    stderr: bytes = b"",
    timed_out: bool = False,
    error: str = "",
) -> CommandResult:
    return CommandResult(
        exit_code=exit_code,
        stdout=stdout,
        stderr=stderr,
        timed_out=timed_out,
        duration=0.01,
        error=error,
    )


@pytest.mark.parametrize(
    ("exit_code", "status", "kind"),
    [
        (0, PluginStatus.OK, ResultKind.OK),
        (1, PluginStatus.FAILING, ResultKind.PROBLEM),
        (2, PluginStatus.UNKNOWN, ResultKind.UNKNOWN),
        (3, PluginStatus.UNKNOWN, ResultKind.UNKNOWN),
        (255, PluginStatus.UNKNOWN, ResultKind.UNKNOWN),
        (-9, PluginStatus.UNKNOWN, ResultKind.UNKNOWN),
        (-15, PluginStatus.UNKNOWN, ResultKind.UNKNOWN),
    ],
)
def test_exit_codes_map_to_the_protocol(
    exit_code: int, status: PluginStatus, kind: ResultKind
) -> None:
    outcome = outcome_of(_result(exit_code, b"said so\n"), path="/p", max_output_length=80)
    assert outcome.status is status
    assert outcome.kind is kind
    assert outcome.message == "said so"
    assert outcome.exit_code == exit_code


def test_the_message_is_the_trimmed_first_line() -> None:
    outcome = outcome_of(
        _result(1, b"  \n\t disk sda failing  \nsecond line\nthird\n"),
        path="/p",
        max_output_length=80,
    )
    assert outcome.message == "disk sda failing"


def test_the_message_is_cut_to_max_output_length_bytes() -> None:
    outcome = outcome_of(_result(0, b"x" * 200), path="/p", max_output_length=80)
    assert outcome.message == "x" * 80
    nothing = outcome_of(_result(0, b"anything"), path="/p", max_output_length=0)
    assert nothing.message == ""


def test_the_cut_never_splits_a_character() -> None:
    text = "é" * 10  # two bytes each
    assert cut_bytes(text, 5) == "éé"
    assert cut_bytes(text, 6) == "ééé"
    assert cut_bytes(text, 100) == text
    outcome = outcome_of(_result(0, text.encode()), path="/p", max_output_length=5)
    assert outcome.message == "éé"


def test_invalid_utf8_is_replaced_not_fatal() -> None:
    outcome = outcome_of(_result(1, b"bad \xff\xfe bytes"), path="/p", max_output_length=80)
    assert outcome.message == "bad \ufffd\ufffd bytes"


def test_a_timeout_is_unknown_with_npds_message() -> None:
    outcome = outcome_of(
        _result(None, b' half "done"\nmore\n', timed_out=True),
        path="./config/plugin/check.sh",
        max_output_length=200,
    )
    assert outcome.status is PluginStatus.UNKNOWN
    assert outcome.kind is ResultKind.TIMEOUT
    assert outcome.exit_code is None
    assert outcome.message == (
        'Timeout when running plugin "./config/plugin/check.sh": state - signal: killed. '
        'output - "half \\"done\\"\\nmore"'
    )


def test_the_timeout_message_is_cut_like_any_other() -> None:
    outcome = outcome_of(_result(None, timed_out=True), path="/p", max_output_length=80)
    assert (
        outcome.message
        == ('Timeout when running plugin "/p": state - signal: killed. output - ""')[:80]
    )
    short = outcome_of(_result(None, timed_out=True), path="/p", max_output_length=20)
    assert short.message == "Timeout when running"


def test_a_start_failure_is_unknown_with_npds_message_and_keeps_the_reason() -> None:
    outcome = outcome_of(
        _result(None, error="executable not found: /gone"), path="/gone", max_output_length=80
    )
    assert outcome.status is PluginStatus.UNKNOWN
    assert outcome.kind is ResultKind.ERROR
    assert outcome.message == START_ERROR_MESSAGE
    assert outcome.error == "executable not found: /gone"


def test_stderr_is_kept_for_the_log() -> None:
    outcome = outcome_of(_result(1, stderr=b"trace\xff"), path="/p", max_output_length=80)
    assert outcome.stderr == "trace\ufffd"


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("", '""'),
        ("plain text", '"plain text"'),
        ('say "hi"', '"say \\"hi\\""'),
        ("back\\slash", '"back\\\\slash"'),
        ("a\nb\tc\rd", '"a\\nb\\tc\\rd"'),
        ("\a\b\f\v", '"\\a\\b\\f\\v"'),
        ("\x00\x1b\x7f", '"\\x00\\x1b\\x7f"'),
        ("naïve 日本", '"naïve 日本"'),
        ("\u00a0\u200b", '"\\u00a0\\u200b"'),
        ("\U000e0001", '"\\U000e0001"'),
    ],
)
def test_go_quote_matches_strconv_quote(text: str, quoted: str) -> None:
    assert go_quote(text) == quoted
