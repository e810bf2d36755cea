"""What one plugin run comes to: node-problem-detector's status, the message, what to log.

The protocol (``aio.processes.plugin_status``): exit 0 is OK, 1 a problem,
anything else (another code, death by a signal, a timeout, a failure to start)
Unknown. The message is built as node-problem-detector builds it: at most
:data:`READ_CAP` bytes of stdout are read, the text is trimmed, a timeout
replaces it with ``Timeout when running plugin "<path>": state - signal: killed.
output - "<output>"`` (Go quoting), and the result is cut to ``max_output_length``
bytes. Two deliberate differences: only the first line of the output is kept
(a node condition's message is one line), and the cut never splits a UTF-8
character. A plugin that cannot be started gets NPD's message for that case; the
reason goes to the log and to the monitor's health.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from healthwatch.aio.processes import CommandResult, PluginStatus, plugin_status

__all__ = [
    "READ_CAP",
    "START_ERROR_MESSAGE",
    "TIMEOUT_STATE",
    "Outcome",
    "ResultKind",
    "cut_bytes",
    "go_quote",
    "outcome_of",
]

READ_CAP: Final = 4096
"""Bytes of stdout, and of stderr, read from a plugin (node-problem-detector's cap)."""
START_ERROR_MESSAGE: Final = "Error in starting plugin. Please check the error log"
"""The message of a plugin that could not be started (node-problem-detector's words)."""
TIMEOUT_STATE: Final = "signal: killed"
"""How a timed-out plugin's end is described: its process group is killed."""

_GO_ESCAPES = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
    "\\": "\\\\",
    '"': '\\"',
}


class ResultKind(StrEnum):
    """How an invocation ended, for metrics and health (finer than the protocol's status)."""

    OK = "ok"
    """Exit code 0."""
    PROBLEM = "problem"
    """Exit code 1."""
    UNKNOWN = "unknown"
    """Any other exit code, or killed by a signal it did not get from us."""
    TIMEOUT = "timeout"
    """Still running at its timeout: its process group was killed."""
    ERROR = "error"
    """Could not be started (missing, not executable)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """One invocation's meaning."""

    status: PluginStatus
    """The protocol's verdict: OK, FAILING (a problem) or UNKNOWN."""
    kind: ResultKind
    """How it ended."""
    message: str
    """The message for events and conditions (one line, at most ``max_output_length`` bytes)."""
    exit_code: int | None
    """Exit status (negative: killed by that signal); None after a timeout or start failure."""
    stderr: str
    """Standard error as read (at most :data:`READ_CAP` bytes), for the log."""
    error: str = ""
    """Why the plugin could not be started."""


def go_quote(text: str) -> str:
    """``text`` quoted as Go's ``%q`` (``strconv.Quote``) quotes valid UTF-8."""
    out = ['"']
    for char in text:
        escaped = _GO_ESCAPES.get(char)
        if escaped is not None:
            out.append(escaped)
        elif char.isprintable() or char == " ":
            out.append(char)
        elif ord(char) < 0x80:
            out.append(f"\\x{ord(char):02x}")
        elif ord(char) < 0x10000:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    out.append('"')
    return "".join(out)


def cut_bytes(text: str, limit: int) -> str:
    """The longest prefix of ``text`` whose UTF-8 encoding is at most ``limit`` bytes."""
    encoded = text.encode("utf-8")
    if len(encoded) <= limit:
        return text
    return encoded[:limit].decode("utf-8", errors="ignore")


def outcome_of(result: CommandResult, *, path: str, max_output_length: int) -> Outcome:
    """The meaning of a finished run of the plugin written as ``path`` in the config."""
    stderr = result.stderr.decode("utf-8", errors="replace")
    if not result.started:
        return Outcome(
            status=PluginStatus.UNKNOWN,
            kind=ResultKind.ERROR,
            message=cut_bytes(START_ERROR_MESSAGE, max_output_length),
            exit_code=None,
            stderr=stderr,
            error=result.error,
        )
    output = result.stdout.decode("utf-8", errors="replace").strip()
    if result.timed_out:
        message = (
            f"Timeout when running plugin {go_quote(path)}: state - {TIMEOUT_STATE}. "
            f"output - {go_quote(output)}"
        )
        status, kind = PluginStatus.UNKNOWN, ResultKind.TIMEOUT
    else:
        message = output.split("\n", 1)[0].rstrip()
        status = plugin_status(result.exit_code)
        kind = {
            PluginStatus.OK: ResultKind.OK,
            PluginStatus.FAILING: ResultKind.PROBLEM,
        }.get(status, ResultKind.UNKNOWN)
    return Outcome(
        status=status,
        kind=kind,
        message=cut_bytes(message, max_output_length),
        exit_code=None if result.timed_out else result.exit_code,
        stderr=stderr,
    )
