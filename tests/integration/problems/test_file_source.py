"""File following on real files: appends, unfinished lines, rotation by rename,
copy-truncate, deletion and re-creation, invalid UTF-8, over-long lines, the host
root and the start position; the finite reader used by replays; and, on random
bytes written in random pieces, the same lines as splitting the whole at once."""

from __future__ import annotations

import asyncio
import contextlib
import io
import itertools
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from healthwatch.model.errors import HealthwatchError
from healthwatch.problems.logmonitor.filefollow import FileSource, read_batches
from healthwatch.problems.logmonitor.source import Batch, LogSource, SourceStats

POLL = 0.01


class Follower:
    """A source's batches collected by a task, with bounded waits on what arrived."""

    def __init__(self, source: FileSource) -> None:
        self.source = source
        self.batches: list[Batch] = []
        self._task = asyncio.create_task(self._run(), name=f"follow {source.name}")

    async def _run(self) -> None:
        async with contextlib.aclosing(self.source.batches()) as stream:
            async for batch in stream:
                self.batches.append(batch)

    @property
    def lines(self) -> list[str]:
        return [line for batch in self.batches for line in batch.lines]

    @property
    def numbered(self) -> list[tuple[int, str]]:
        return [
            (batch.first_lineno + i, line)
            for batch in self.batches
            if batch.first_lineno is not None
            for i, line in enumerate(batch.lines)
        ]

    async def until(self, condition: Callable[[], bool], within: float = 5.0) -> None:
        async with asyncio.timeout(within):
            while not condition():
                if self._task.done():
                    self._task.result()
                    raise AssertionError("the source ended")
                await asyncio.sleep(POLL / 2)

    async def lines_at_least(self, count: int) -> list[str]:
        await self.until(lambda: len(self.lines) >= count)
        await asyncio.sleep(POLL * 5)  # a few more polls: nothing extra may arrive
        return self.lines

    async def stop(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        await self.source.close()


Follow = Callable[..., Awaitable[Follower]]


@pytest.fixture
async def follow() -> AsyncIterator[Follow]:
    """Open a FileSource (fast polling) and collect its batches; stopped afterwards."""
    followers: list[Follower] = []

    async def start(path: Path | str, **options: object) -> Follower:
        options.setdefault("poll_interval", POLL)
        source = FileSource(str(path), **options)  # type: ignore[arg-type]
        await source.open()
        followers.append(Follower(source))
        return followers[-1]

    yield start
    for follower in followers:
        await follower.stop()


def _append(path: Path, data: bytes) -> None:
    with path.open("ab") as file:
        file.write(data)


async def test_start_end_reads_only_new_lines_numbered_after_the_old_ones(
    tmp_path: Path, follow: Follow
) -> None:
    log = tmp_path / "kern.log"
    log.write_bytes(b"old 1\nold 2\n")
    follower = await follow(log)
    assert isinstance(follower.source, LogSource)
    _append(log, b"new 1\nnew 2\n")
    assert await follower.lines_at_least(2) == ["new 1", "new 2"]
    assert follower.numbered == [(3, "new 1"), (4, "new 2")]
    assert all(batch.timestamps is None for batch in follower.batches)


async def test_start_start_reads_the_existing_content_first(tmp_path: Path, follow: Follow) -> None:
    log = tmp_path / "kern.log"
    log.write_bytes(b"old 1\nold 2\n")
    follower = await follow(log, start="start")
    _append(log, b"new\n")
    assert await follower.lines_at_least(3) == ["old 1", "old 2", "new"]
    assert follower.numbered == [(1, "old 1"), (2, "old 2"), (3, "new")]
    assert follower.source.stats.lines == 3
    assert follower.source.stats.bytes == 16


async def test_start_end_picks_up_an_unfinished_last_line_whole(
    tmp_path: Path, follow: Follow
) -> None:
    log = tmp_path / "kern.log"
    log.write_bytes(b"old\nhalf of a li")
    follower = await follow(log)
    _append(log, b"ne\n")
    assert await follower.lines_at_least(1) == ["half of a line"]
    assert follower.numbered == [(2, "half of a line")]


async def test_a_line_written_in_pieces_is_emitted_once_complete(
    tmp_path: Path, follow: Follow
) -> None:
    log = tmp_path / "kern.log"
    log.touch()
    follower = await follow(log)
    _append(log, b"NVRM: Xid (PCI:0000:3b:00): 79, ")
    await follower.until(lambda: follower.source.stats.bytes == 32)
    await asyncio.sleep(POLL * 5)
    assert follower.lines == []
    _append(log, b"GPU has fallen off the bus.\r\n")
    assert await follower.lines_at_least(1) == [
        "NVRM: Xid (PCI:0000:3b:00): 79, GPU has fallen off the bus."
    ]


async def test_rotation_by_rename_finishes_the_old_file_then_reads_the_new(
    tmp_path: Path, follow: Follow
) -> None:
    log = tmp_path / "kern.log"
    log.write_bytes(b"")
    follower = await follow(log)
    with log.open("ab", buffering=0) as writer:  # the logger keeps its handle across the rename
        writer.write(b"a\nb\n")
        await follower.until(lambda: len(follower.lines) == 2)
        log.rename(tmp_path / "kern.log.1")
        writer.write(b"c, written after the rename\nunfinished")
        log.write_bytes(b"d\ne\n")
        assert await follower.lines_at_least(6) == [
            "a",
            "b",
            "c, written after the rename",
            "unfinished",
            "d",
            "e",
        ]
    assert follower.numbered == [
        (1, "a"),
        (2, "b"),
        (3, "c, written after the rename"),
        (4, "unfinished"),
        (1, "d"),
        (2, "e"),
    ]
    assert follower.source.stats.reopens == 1


async def test_copy_truncate_reads_again_from_the_start(tmp_path: Path, follow: Follow) -> None:
    log = tmp_path / "kern.log"
    log.touch()
    follower = await follow(log)
    _append(log, b"before 1\nbefore 2\n")
    await follower.until(lambda: len(follower.lines) == 2)
    shutil.copyfile(log, tmp_path / "kern.log.1")
    with log.open("r+b") as file:
        file.truncate(0)
    await follower.until(lambda: follower.source.stats.extra.get("truncations") == 1)
    _append(log, b"after\n")
    assert await follower.lines_at_least(3) == ["before 1", "before 2", "after"]
    assert follower.numbered[-1] == (1, "after")
    assert follower.source.stats.reopens == 1


async def test_deleted_then_recreated_file_is_followed_again(
    tmp_path: Path, follow: Follow
) -> None:
    log = tmp_path / "kern.log"
    log.touch()
    follower = await follow(log)
    _append(log, b"first life\n")
    await follower.until(lambda: len(follower.lines) == 1)
    log.unlink()
    await follower.until(lambda: follower.source.stats.last_error == f"waiting for {log}")
    log.write_bytes(b"second life\n")
    assert await follower.lines_at_least(2) == ["first life", "second life"]
    stats = follower.source.stats
    assert (stats.reopens, stats.extra["missing"], stats.last_error) == (1, 1, "")


async def test_a_missing_file_is_waited_for_and_read_from_its_start(
    tmp_path: Path, follow: Follow
) -> None:
    log = tmp_path / "later.log"
    follower = await follow(log)  # start="end", but all of a new file is new
    assert follower.source.stats.last_error == f"waiting for {log}"
    assert follower.source.stats.extra["missing"] == 1
    log.write_bytes(b"one\ntwo\n")
    assert await follower.lines_at_least(2) == ["one", "two"]
    assert follower.source.stats.reopens == 0


async def test_invalid_utf8_is_replaced_and_counted(tmp_path: Path, follow: Follow) -> None:
    log = tmp_path / "kern.log"
    log.touch()
    follower = await follow(log)
    _append(log, b"fine\n\xff\xfebroken\ncaf\xc3\xa9\n")
    assert await follower.lines_at_least(3) == ["fine", "\ufffd\ufffdbroken", "caf\u00e9"]
    assert follower.source.stats.decode_errors == 1


async def test_a_one_megabyte_line_is_cut_and_its_rest_skipped(
    tmp_path: Path, follow: Follow
) -> None:
    log = tmp_path / "kern.log"
    log.touch()
    follower = await follow(log, max_line=64 * 1024, chunk=4096)
    _append(log, b"before\n" + b"x" * (1 << 20))
    await follower.until(lambda: len(follower.lines) == 2)
    _append(log, b"y" * 1000 + b"\nafter\n")
    assert await follower.lines_at_least(3) == ["before", "x" * 65536, "after"]
    assert follower.numbered == [(1, "before"), (2, "x" * 65536), (3, "after")]
    assert follower.source.stats.truncated == 1


async def test_host_root_prefixes_the_path(tmp_path: Path, follow: Follow) -> None:
    log = tmp_path / "host" / "var" / "log" / "kern.log"
    log.parent.mkdir(parents=True)
    log.write_bytes(b"on the host\n")
    follower = await follow("/var/log/kern.log", host_root=str(tmp_path / "host"), start="start")
    assert await follower.lines_at_least(1) == ["on the host"]
    assert follower.source.name == "file /var/log/kern.log"


async def test_open_refuses_a_missing_directory_and_a_non_file(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-dir" / "kern.log"
    with pytest.raises(HealthwatchError, match=str(missing)):
        await FileSource(str(missing)).open()
    with pytest.raises(HealthwatchError, match="not a regular file"):
        await FileSource(str(tmp_path)).open()
    with pytest.raises(HealthwatchError, match="before open"):
        await anext(FileSource(str(tmp_path / "x")).batches())


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="start"):
        FileSource("x", start="middle")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="positive"):
        FileSource("x", poll_interval=0)


# ------------------------------------------------------------------ finite streams (replay)


async def _read_all(
    stream: io.RawIOBase | io.BufferedIOBase, *, chunk: int = 1 << 20, max_line: int = 1 << 16
) -> list[Batch]:
    return [batch async for batch in read_batches(stream, chunk=chunk, max_line=max_line)]


async def test_read_batches_numbers_lines_and_emits_the_last_one_without_newline(
    tmp_path: Path,
) -> None:
    replay = tmp_path / "kern.log"
    replay.write_bytes(b"one\r\ntwo\n\xffthree\nlast without newline")
    stats = SourceStats()
    with replay.open("rb") as stream:
        batches = [batch async for batch in read_batches(stream, chunk=5, stats=stats)]
    numbered = [(b.first_lineno, b.lines) for b in batches]
    assert [line for _, lines in numbered for line in lines] == [
        "one",
        "two",
        "\ufffdthree",
        "last without newline",
    ]
    assert all(
        first == 1 + sum(len(b.lines) for b in batches[:i]) for i, (first, _) in enumerate(numbered)
    )
    assert (stats.lines, stats.bytes, stats.decode_errors) == (4, 36, 1)


async def test_read_batches_of_an_empty_stream_yields_nothing() -> None:
    assert await _read_all(io.BytesIO(b"")) == []


class _Pieces(io.RawIOBase):
    """A stream that returns the given pieces one read at a time, like a pipe."""

    def __init__(self, pieces: list[bytes]) -> None:
        self._pieces = list(pieces)

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1, /) -> bytes:
        if not self._pieces:
            return b""
        piece = self._pieces.pop(0)
        if 0 <= size < len(piece):
            self._pieces.insert(0, piece[size:])
            piece = piece[:size]
        return piece


def _expected(data: bytes, max_line: int, *, final: bool) -> list[str]:
    """The reference: split the whole at once, drop CR, cut at the cap."""
    pieces = data.split(b"\n")
    last = pieces.pop()
    if final and last:
        pieces.append(last)
    lines = [piece[:-1] if piece.endswith(b"\r") else piece for piece in pieces]
    return [line[:max_line].decode("utf-8", "replace") for line in lines]


def _split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(cut, len(data)) for cut in cuts} | {0, len(data)})
    return [data[a:b] for a, b in itertools.pairwise(points)]


@given(
    data=st.binary(max_size=400),
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=12),
    chunk=st.integers(min_value=1, max_value=64),
)
def test_random_bytes_in_random_pieces_give_the_lines_of_the_whole(
    data: bytes, cuts: list[int], chunk: int
) -> None:
    batches = asyncio.run(_read_all(_Pieces(_split(data, cuts)), chunk=chunk))
    assert [line for b in batches for line in b.lines] == _expected(data, 10**6, final=True)


@given(
    data=st.lists(st.sampled_from([b"a", b"bc", b"\n", b"\r\n", b"\r", b"\xff"]), max_size=60).map(
        b"".join
    ),
    cuts=st.lists(st.integers(min_value=0, max_value=120), max_size=12),
    max_line=st.integers(min_value=1, max_value=8),
)
def test_the_cap_cuts_lines_wherever_the_pieces_end(
    data: bytes, cuts: list[int], max_line: int
) -> None:
    # no UTF-8 continuation bytes here, so the cut is exactly max_line bytes
    batches = asyncio.run(_read_all(_Pieces(_split(data, cuts)), chunk=3, max_line=max_line))
    assert [line for b in batches for line in b.lines] == _expected(data, max_line, final=True)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.binary(max_size=300).map(lambda b: b.replace(b"\r", b"")),
    cuts=st.lists(st.integers(min_value=0, max_value=300), max_size=6),
    chunk=st.integers(min_value=1, max_value=50),
)
def test_a_followed_file_written_in_random_pieces_gives_the_lines_of_the_whole(
    data: bytes, cuts: list[int], chunk: int
) -> None:
    async def scenario(log: Path) -> list[str]:
        source = FileSource(str(log), poll_interval=0.002, chunk=chunk)
        await source.open()
        follower = Follower(source)
        try:
            written = 0
            for piece in _split(data, cuts):
                _append(log, piece)
                written += len(piece)
                await follower.until(lambda: source.stats.bytes == written)  # noqa: B023
            expected = _expected(data, 10**6, final=False)
            await follower.until(lambda: len(follower.lines) >= len(expected))
            await asyncio.sleep(0.01)
            return follower.lines
        finally:
            await follower.stop()

    with tempfile.TemporaryDirectory() as directory:
        log = Path(directory) / "kern.log"
        log.touch()
        lines = asyncio.run(scenario(log))
    assert lines == _expected(data, 10**6, final=False)
