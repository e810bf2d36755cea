"""kmsg: the record parser on real record shapes and on random bytes; the source on
a FIFO standing in for the device (overrun, malformed records, batching, end of
file), on a fake ``/proc`` for the boot time, and on the real ``/dev/kmsg``."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from healthwatch.aio.clock import ManualClock
from healthwatch.model.errors import HealthwatchError
from healthwatch.problems.logmonitor.kmsg import (
    KmsgRecord,
    KmsgSource,
    boot_time_of,
    parse_kmsg_record,
)
from healthwatch.problems.logmonitor.source import Batch, LogSource

BOOT = 1_700_000_000.0


def _record(
    message: str,
    *,
    priority: int = 6,
    facility: int = 0,
    sequence: int = 1,
    usec: int = 0,
    continued: bool = False,
    fields: dict[str, str] | None = None,
    truncated: bool = False,
    invalid_utf8: bool = False,
) -> KmsgRecord:
    return KmsgRecord(
        priority=priority,
        facility=facility,
        sequence=sequence,
        monotonic_us=usec,
        timestamp=BOOT + usec / 1e6,
        continued=continued,
        message=message,
        fields=fields or {},
        truncated=truncated,
        invalid_utf8=invalid_utf8,
    )


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            b"6,339,5140900,-;NET: Registered protocol family 10\n",
            _record("NET: Registered protocol family 10", sequence=339, usec=5140900),
        ),
        (
            b"4,1234,123456789,-;NVRM: Xid (PCI:0000:3b:00): 79, pid=0, GPU has fallen off the bus."
            b"\n",
            _record(
                "NVRM: Xid (PCI:0000:3b:00): 79, pid=0, GPU has fallen off the bus.",
                priority=4,
                sequence=1234,
                usec=123456789,
            ),
        ),
        (
            b"7,160,424069,-;pci_root PNP0A03:00: host bridge window [io  0x0000-0x0cf7]\n"
            b" SUBSYSTEM=acpi\n DEVICE=+acpi:PNP0A03:00\n",
            _record(
                "pci_root PNP0A03:00: host bridge window [io  0x0000-0x0cf7]",
                priority=7,
                sequence=160,
                usec=424069,
                fields={"SUBSYSTEM": "acpi", "DEVICE": "+acpi:PNP0A03:00"},
            ),
        ),
        (
            b"6,2,3,c;first fragment\n",
            _record("first fragment", sequence=2, usec=3, continued=True),
        ),
        (b"6,2,3,+;more of it\n", _record("more of it", sequence=2, usec=3, continued=True)),
        # written to /dev/kmsg with <3>: the kernel makes the facility "user" (1), 1*8+3 = 11
        (
            b"11,346,2168879284,-;hw test\n",
            _record("hw test", priority=3, facility=1, sequence=346, usec=2168879284),
        ),
        (
            b"30,7,8,-;systemd[1]: started\n",
            _record("systemd[1]: started", priority=6, facility=3, sequence=7, usec=8),
        ),
        # newline and backslash escaped by the kernel; a literal "\x0a" in the text stays literal
        (
            b"3,5,6,-;line one\\x0aline two \\x5cx0a end\n",
            _record("line one\nline two \\x0a end", priority=3, sequence=5, usec=6),
        ),
        (
            b"4,1,2,-;caf\\xc3\\xa9 \\x09tab\n",
            _record("caf\u00e9 \ttab", priority=4, sequence=1, usec=2),
        ),
        (
            b"4,1,2,-;bad \\xff byte\n",
            _record("bad \ufffd byte", priority=4, sequence=1, usec=2, invalid_utf8=True),
        ),
        (
            b"3,5,6,-,caller=T123;with caller id\n",
            _record("with caller id", priority=3, sequence=5, usec=6),
        ),
        (b"6,1,2,-;no final newline", _record("no final newline", sequence=1, usec=2)),
        (b"6,1,2,-;\n", _record("", sequence=1, usec=2)),
        (
            b"6,1,2,-;semi;colons;kept\n NOEQUALS\n K=v=w\n",
            _record("semi;colons;kept", sequence=1, usec=2, fields={"K": "v=w"}),
        ),
    ],
)
def test_parses_real_record_shapes(data: bytes, expected: KmsgRecord) -> None:
    assert parse_kmsg_record(data, boot_time=BOOT) == expected


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\n",
        b"no prefix at all\n",
        b"6,339;too few fields\n",
        b"x,1,2,-;not a number\n",
        b"-1,2,3,-;negative\n",
        b"6,3 39,2,-;space in a number\n",
        b"6,,2,-;empty sequence\n",
        b"6,1,2;flags missing\n",
        b"6,1,2,-\n",
        b"\xff\xfe,1,2,-;junk prefix\n",
    ],
)
def test_malformed_records_give_none(data: bytes) -> None:
    assert parse_kmsg_record(data, boot_time=BOOT) is None


def test_long_messages_are_cut_at_the_cap() -> None:
    record = parse_kmsg_record(b"6,1,2,-;" + b"x" * 100 + b"\n", boot_time=BOOT, max_message=10)
    assert record is not None
    assert record.message == "x" * 10
    assert record.truncated


_PIECES = [b"6", b"12", b",", b";", b"-", b"c", b"\\x", b"0a", b"zz", b"\n", b" ", b"=", b"\xff"]


@given(
    data=st.binary(max_size=600) | st.lists(st.sampled_from(_PIECES), max_size=40).map(b"".join),
    boot_time=st.floats(min_value=0, max_value=4e9),
)
def test_no_bytes_make_the_parser_raise(data: bytes, boot_time: float) -> None:
    record = parse_kmsg_record(data, boot_time=boot_time, max_message=50)
    if record is not None:
        assert 0 <= record.priority <= 7
        assert record.facility >= 0
        assert len(record.message) <= 50
        assert record.timestamp >= boot_time


# ------------------------------------------------------------------ the source on a FIFO


@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[tuple[str, Callable[[bytes], None], Callable[[], None]]]:
    """A FIFO with a writer already attached (so the source does not see end of file)."""
    path = tmp_path / "kmsg"
    os.mkfifo(path)
    writer = os.open(path, os.O_RDWR | os.O_NONBLOCK)
    closed = False

    def write(data: bytes) -> None:
        os.write(writer, data)

    def hang_up() -> None:
        nonlocal closed
        closed = True
        os.close(writer)

    yield str(path), write, hang_up
    if not closed:
        os.close(writer)


async def _collect(source: KmsgSource, count: int, within: float = 5.0) -> list[Batch]:
    """Batches until ``count`` lines arrived (or the source ended)."""
    batches: list[Batch] = []
    async with asyncio.timeout(within), contextlib.aclosing(source.batches()) as stream:
        async for batch in stream:
            batches.append(batch)
            if sum(len(b.lines) for b in batches) >= count:
                break
    return batches


@pytest.fixture
async def opened() -> AsyncIterator[list[KmsgSource]]:
    """Sources to close after the test."""
    sources: list[KmsgSource] = []
    yield sources
    for source in sources:
        await source.close()


async def test_reads_records_from_a_fifo_in_batches(
    fifo: tuple[str, Callable[[bytes], None], Callable[[], None]], opened: list[KmsgSource]
) -> None:
    path, write, _ = fifo
    source = KmsgSource(path, start="start", boot_time=BOOT, batch_max=2)
    opened.append(source)
    assert isinstance(source, LogSource)
    await source.open()
    write(b"".join(b"6,%d,%d,-;message %d\n" % (i, i * 1000, i) for i in range(1, 6)))
    batches = await _collect(source, 5)
    assert [len(b.lines) for b in batches] == [2, 2, 1]
    assert [line for b in batches for line in b.lines] == [f"message {i}" for i in range(1, 6)]
    assert [t for b in batches for t in b.timestamps or []] == [
        BOOT + i / 1000 for i in range(1, 6)
    ]
    assert source.stats.lines == 5
    assert source.stats.lost == 0
    assert source.name == f"kmsg {path}"


async def test_overrun_counts_the_sequence_gap_as_lost_and_reading_goes_on(
    fifo: tuple[str, Callable[[bytes], None], Callable[[], None]], opened: list[KmsgSource]
) -> None:
    path, write, _ = fifo
    calls = 0

    def read(fd: int, size: int) -> bytes:
        """os.read, failing once as /dev/kmsg does when the ring overwrote the next record."""
        nonlocal calls
        calls += 1
        if calls == 2:
            raise OSError(errno.EPIPE, os.strerror(errno.EPIPE))
        return os.read(fd, size)

    source = KmsgSource(path, start="start", boot_time=BOOT, read=read)
    opened.append(source)
    await source.open()
    write(b"6,1,10,-;one\n6,2,20,-;two\n")
    first = await _collect(source, 2)
    write(b"6,7,70,-;seven\n")
    second = await _collect(source, 1)
    assert [line for b in first + second for line in b.lines] == ["one", "two", "seven"]
    assert source.stats.lost == 4
    assert source.stats.extra["overruns"] == 1
    assert "4 records lost" in source.stats.last_error


async def test_malformed_records_are_counted_and_skipped(
    fifo: tuple[str, Callable[[bytes], None], Callable[[], None]], opened: list[KmsgSource]
) -> None:
    path, write, _ = fifo
    source = KmsgSource(path, start="start", boot_time=BOOT)
    opened.append(source)
    await source.open()
    write(b"garbage without prefix\n6,1,1,-;good\n6,x,1,-;bad sequence\n6,2,2,-;also good\n")
    batches = await _collect(source, 2)
    assert [line for b in batches for line in b.lines] == ["good", "also good"]
    assert source.stats.errors == 2
    assert "malformed kmsg record" in source.stats.last_error


async def test_end_of_file_ends_the_batches_and_flushes_an_unfinished_record(
    fifo: tuple[str, Callable[[bytes], None], Callable[[], None]], opened: list[KmsgSource]
) -> None:
    path, write, hang_up = fifo
    source = KmsgSource(path, boot_time=BOOT)  # start="end": a FIFO has nothing to skip
    opened.append(source)
    await source.open()
    write(b"6,1,1,-;complete\n6,2,2,-;cut short")
    hang_up()
    batches = await _collect(source, 99)
    assert [line for b in batches for line in b.lines] == ["complete", "cut short"]


async def test_close_ends_a_waiting_reader(
    fifo: tuple[str, Callable[[bytes], None], Callable[[], None]],
) -> None:
    path, _, _ = fifo
    source = KmsgSource(path, boot_time=BOOT)
    await source.open()
    reader = asyncio.create_task(_collect(source, 1))
    await asyncio.sleep(0.05)
    await source.close()
    assert await asyncio.wait_for(reader, 2) == []
    await source.close()  # twice is harmless


async def test_open_names_the_path_it_cannot_open(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-kmsg"
    with pytest.raises(HealthwatchError, match=str(missing)):
        await KmsgSource(str(missing), boot_time=BOOT).open()
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    with pytest.raises(HealthwatchError, match="Not a directory"):
        await KmsgSource(str(not_a_dir / "kmsg"), boot_time=BOOT).open()


async def test_batches_before_open_is_an_error() -> None:
    with pytest.raises(HealthwatchError, match="before open"):
        await anext(KmsgSource("/dev/kmsg", boot_time=BOOT).batches())


def test_boot_time_comes_from_the_proc_under_host_root(tmp_path: Path) -> None:
    clock = ManualClock(wall=1_700_000_500.0)
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc" / "stat").write_text("cpu  1 2 3\nbtime 1699999000\nprocesses 5\n")
    assert boot_time_of(str(tmp_path), clock) == 1_699_999_000.0  # no uptime: btime
    (tmp_path / "proc" / "uptime").write_text("100.25 180.00\n")
    assert boot_time_of(str(tmp_path), clock) == 1_700_000_399.75  # uptime is finer
    (tmp_path / "proc" / "uptime").write_text("garbage\n")
    (tmp_path / "proc" / "stat").write_text("cpu 1\n")
    with pytest.raises(HealthwatchError, match="boot time"):
        boot_time_of(str(tmp_path), clock)


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="start"):
        KmsgSource(start="middle")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="batch_max"):
        KmsgSource(batch_max=0)


# ------------------------------------------------------------------ the real /dev/kmsg


def _kmsg_writer() -> int:
    try:
        reader = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK)
        os.close(reader)
        return os.open("/dev/kmsg", os.O_WRONLY)
    except OSError as error:
        reason = f"/dev/kmsg cannot be read and written here ({error}); run as root on Linux"
        print(reason)  # shown with -rs or -s
        pytest.skip(reason)


async def test_real_dev_kmsg_yields_what_was_written_once_in_order(
    opened: list[KmsgSource],
) -> None:
    writer = _kmsg_writer()
    tag = f"healthwatch-test-{uuid.uuid4()}"
    source = KmsgSource()  # the real device, boot time from the real /proc
    opened.append(source)
    try:
        await source.open()
        expected = [f"{tag} message {i}" for i in range(3)]
        for line in expected:  # a fresh writer may write 10 records before rate limiting
            os.write(writer, f"<3>{line}\n".encode())
    finally:
        os.close(writer)
    seen: list[tuple[str, float]] = []
    async with asyncio.timeout(10), contextlib.aclosing(source.batches()) as stream:
        async for batch in stream:
            assert batch.timestamps is not None
            seen += [
                (ln, t) for ln, t in zip(batch.lines, batch.timestamps, strict=True) if tag in ln
            ]
            if len(seen) >= 3:
                break
    assert [line for line, _ in seen] == expected
    now = time.time()
    assert all(abs(now - stamp) < 5 for _, stamp in seen), (now, seen)
    assert source.stats.lost == 0
    # nothing more of ours arrives later (each record exactly once)
    more: list[str] = []
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(0.3), contextlib.aclosing(source.batches()) as stream:
            async for batch in stream:
                more += [line for line in batch.lines if tag in line]
    assert more == []


async def test_real_dev_kmsg_from_the_start_reads_the_oldest_records(
    opened: list[KmsgSource],
) -> None:
    os.close(_kmsg_writer())
    source = KmsgSource(start="start", batch_max=5)
    opened.append(source)
    await source.open()
    batches = await _collect(source, 1)
    assert len(batches[0].lines) == 5
    assert batches[0].timestamps is not None
    assert all(stamp <= time.time() + 5 for stamp in batches[0].timestamps)
    assert source.stats.errors == 0
