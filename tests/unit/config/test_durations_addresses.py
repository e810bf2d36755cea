"""Durations and listen addresses: what people write, and what they must not."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from healthwatch.config import ListenAddress, format_duration, parse_duration, parse_listen


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("300ms", 0.3),
        ("30s", 30.0),
        ("5m", 300.0),
        ("1h30m", 5400.0),
        ("14d", 14 * 86400.0),
        ("1.5s", 1.5),
        ("250us", 0.00025),
        ("2", 2.0),
        (" 10s ", 10.0),
        (7, 7.0),
        (0.5, 0.5),
    ],
)
def test_durations_parse(text: str | float, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize(
    "text", ["", "s", "5x", "5 s", "-1s", "1s2", "nan", "inf", "1e400", "99999y", "ms5", True]
)
def test_bad_durations_name_the_value(text: str | bool) -> None:
    with pytest.raises(ValueError, match="duration") as info:
        parse_duration(text)
    if isinstance(text, str) and text.strip():
        assert repr(text) in str(info.value)


def test_durations_are_capped() -> None:
    with pytest.raises(ValueError, match="out of range"):
        parse_duration("100000d")


@given(st.integers(min_value=1, max_value=10 * 365 * 86400))
def test_format_then_parse_round_trips(seconds: int) -> None:
    assert parse_duration(format_duration(seconds)) == seconds


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1:9801", ListenAddress("127.0.0.1", 9801)),
        ("0.0.0.0:80", ListenAddress("0.0.0.0", 80)),
        ("[::1]:9801", ListenAddress("::1", 9801)),
        (":9801", ListenAddress("127.0.0.1", 9801)),
        ("localhost:0", ListenAddress("localhost", 0)),
        ("node-1.example.internal:9000", ListenAddress("node-1.example.internal", 9000)),
    ],
)
def test_listen_addresses(text: str, expected: ListenAddress) -> None:
    assert parse_listen(text) == expected


def test_off_only_where_allowed() -> None:
    assert parse_listen("off", allow_off=True) is None
    with pytest.raises(ValueError, match="cannot be turned off"):
        parse_listen("off")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("9801", "HOST:PORT"),
        ("host:99999", "0 to 65535"),
        ("host:-1", "0 to 65535"),
        ("host:http", "0 to 65535"),
        ("::1:9801", "brackets"),
        ("[::1]9801", r"\[IPv6\]:PORT"),
        ("bad_host!:80", "not a host name"),
        ("a..b:80", "not a host name"),
        ("x" * 300 + ":80", "not a host name"),
    ],
)
def test_bad_listen_addresses(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_listen(text)


def test_ipv6_address_prints_with_brackets() -> None:
    assert str(ListenAddress("::1", 9801)) == "[::1]:9801"
    assert str(ListenAddress("127.0.0.1", 9801)) == "127.0.0.1:9801"
