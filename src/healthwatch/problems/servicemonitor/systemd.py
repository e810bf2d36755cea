"""What ``systemctl show`` says about a unit, and the exact ``systemctl`` commands we run.

The unit's start time comes from ``InactiveExitTimestamp``: the moment systemd
last took the unit out of the inactive state. It moves on every (re)start, so a
unit that systemd keeps restarting always looks young and is never repaired in
a loop. newer systemd versions print it as ``@<unix seconds>`` with
``--timestamp=unix``; older ones refuse that option and print their default
``Tue 2023-11-14 22:13:20 UTC`` form, which is parsed too. An empty value,
``n/a`` or ``0`` means the unit never left the inactive state.

Every command is an argv list; the unit name follows ``--`` so even a name that
slipped past validation could not be read as an option.
"""

from __future__ import annotations

import calendar
import math
import re
import time
from dataclasses import dataclass
from typing import Final

from healthwatch.aio.processes import Command, run_command

__all__ = [
    "ACTIVE_STATES",
    "SHOW_PROPERTIES",
    "Systemctl",
    "UnitState",
    "kill_argv",
    "parse_show",
    "parse_timestamp",
    "show_argv",
    "timestamp_option_refused",
]

SHOW_PROPERTIES: Final = "LoadState,ActiveState,SubState,MainPID,InactiveExitTimestamp,NRestarts"
"""Properties asked of ``systemctl show``."""
ACTIVE_STATES: Final = frozenset({"active", "reloading"})
"""ActiveState values of a unit that is up."""
_DEFAULT_FORMAT = re.compile(
    r"(?:[A-Za-z]{3} )?(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})(\.\d{1,9})?(?: ([A-Za-z0-9+:/_-]+))?"
)
_UTC_ZONES = frozenset({"UTC", "GMT", "Z", "UCT", "Etc/UTC"})


@dataclass(frozen=True, slots=True, kw_only=True)
class UnitState:
    """A unit's state as ``systemctl show`` reports it."""

    load_state: str
    """``loaded``, ``not-found``, ``masked``, ... (empty when not reported)."""
    active_state: str
    """``active``, ``inactive``, ``failed``, ``activating``, ..."""
    sub_state: str
    """``running``, ``dead``, ``auto-restart``, ..."""
    main_pid: int
    """The main process (0: none)."""
    started_at: float | None
    """Wall time the unit last left the inactive state (None: never, or unreadable)."""
    restarts: int | None
    """``NRestarts``: automatic restarts counted by systemd (None: not reported)."""

    @property
    def active(self) -> bool:
        """The unit is up (``active`` or ``reloading``)."""
        return self.active_state in ACTIVE_STATES

    def describe(self) -> str:
        """``active (running)``, or ``not-found`` for units systemd does not know."""
        if self.load_state and self.load_state != "loaded":
            return f"{self.load_state}, {self.active_state} ({self.sub_state})"
        return f"{self.active_state} ({self.sub_state})"


def show_argv(unit: str, *, unix_timestamps: bool = True) -> list[str]:
    """``systemctl show`` for ``unit``'s properties, timestamps as unix seconds when asked."""
    argv = ["systemctl", "show", f"--property={SHOW_PROPERTIES}"]
    if unix_timestamps:
        argv.append("--timestamp=unix")
    return [*argv, "--", unit]


def kill_argv(unit: str, *, signal: str | None = None) -> list[str]:
    """``systemctl kill --kill-who=main`` for ``unit`` (SIGTERM unless ``signal`` is named)."""
    argv = ["systemctl", "kill", "--kill-who=main"]
    if signal is not None:
        argv.append(f"--signal={signal}")
    return [*argv, "--", unit]


def timestamp_option_refused(stderr: str) -> bool:
    """True when an old systemctl rejected ``--timestamp=unix`` (so ask without it)."""
    text = stderr.lower()
    return "timestamp" in text and any(
        word in text for word in ("unrecognized", "unknown", "invalid", "unsupported")
    )


def parse_timestamp(value: str) -> float | None:
    """A systemd timestamp as wall seconds; None when unset (``''``, ``n/a``, ``0``) or unreadable.

    ``@1700000000`` (``--timestamp=unix``) is exact. The default form is read in
    UTC when it says so, else in this machine's local zone, which is the zone
    systemctl printed it in; a zone name that is neither gives None rather than
    a guess, so no repair is ever based on a misread uptime.
    """
    text = value.strip()
    if text in {"", "n/a", "0"}:
        return None
    if text.startswith("@"):
        try:
            seconds = float(text[1:])
        except ValueError:
            return None
        return seconds if math.isfinite(seconds) and seconds > 0 else None
    match = _DEFAULT_FORMAT.fullmatch(text)
    if match is None:
        return None
    stamp, fraction, zone = match.groups()
    try:
        parsed = time.strptime(stamp, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None
    extra = float(fraction) if fraction else 0.0
    if zone in _UTC_ZONES:
        return calendar.timegm(parsed) + extra
    if zone is None or zone in time.tzname:
        return time.mktime(parsed) + extra
    return None


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None


def parse_show(text: str) -> UnitState:
    """Read ``Key=Value`` lines; ValueError when ``ActiveState`` is missing (not systemctl?)."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        key = key.strip()
        if sep and key and key not in values:
            values[key] = value
    active = values.get("ActiveState", "").strip()
    if not active:
        raise ValueError("systemctl show printed no ActiveState")
    return UnitState(
        load_state=values.get("LoadState", "").strip(),
        active_state=active,
        sub_state=values.get("SubState", "").strip(),
        main_pid=max(_int(values.get("MainPID")) or 0, 0),
        started_at=parse_timestamp(values.get("InactiveExitTimestamp", "")),
        restarts=_int(values.get("NRestarts")),
    )


class Systemctl:
    """Reads one unit's state, remembering whether this systemctl takes ``--timestamp=unix``."""

    def __init__(self, unit: str, *, timeout: float) -> None:
        self.unit = unit
        self.timeout = timeout
        self.unix_timestamps = True

    async def show(self) -> tuple[UnitState | None, str]:
        """The unit's state, or None and why systemctl could not tell. Never raises."""
        argv = show_argv(self.unit, unix_timestamps=self.unix_timestamps)
        result = await run_command(Command(argv=argv), timeout=self.timeout)
        stderr = result.stderr.decode("utf-8", "replace").strip()
        if result.exit_code not in (0, None) and timestamp_option_refused(stderr):
            self.unix_timestamps = False  # an older systemd: read its default format
            argv = show_argv(self.unit, unix_timestamps=False)
            result = await run_command(Command(argv=argv), timeout=self.timeout)
            stderr = result.stderr.decode("utf-8", "replace").strip()
        if not result.started:
            return None, result.error
        if result.timed_out:
            return None, f"systemctl did not answer within {self.timeout:g}s"
        if result.exit_code != 0:
            return None, f"systemctl exited with {result.exit_code}: {stderr[:200]}"
        try:
            return parse_show(result.stdout.decode("utf-8", "replace")), ""
        except ValueError as error:
            return None, str(error)
