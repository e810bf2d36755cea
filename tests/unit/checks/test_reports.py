"""RunRegistry: which reports are accepted, and the v3 status codes for the rest."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from healthwatch.aio.clock import ManualClock
from healthwatch.checks.reports import Report, RunRegistry, parse_report

OK = b'{"OK": true, "Errors": []}'


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def runs(clock: ManualClock) -> RunRegistry:
    return RunRegistry(clock=clock)


async def test_accepted_report_completes_the_waiting_run(
    runs: RunRegistry, clock: ManualClock
) -> None:
    run = runs.open_run("default/a", deadline=clock.time() + 30)
    uuid.UUID(run, version=4)
    waiter = asyncio.create_task(runs.wait(run))
    await asyncio.sleep(0)
    clock.advance(2)
    assert runs.submit(run, b'{"OK": false, "Errors": ["disk full"]}', header_uuid=run) == (
        200,
        "report accepted",
    )
    assert await waiter == Report(ok=False, errors=("disk full",), received_at=clock.time())
    assert not runs.is_open(run)


async def test_second_report_is_gone(runs: RunRegistry, clock: ManualClock) -> None:
    run = runs.open_run("default/a", deadline=clock.time() + 30)
    assert runs.submit(run, OK, header_uuid=None)[0] == 200
    assert runs.submit(run, OK, header_uuid=None)[0] == 410  # before the waiter woke
    report = await runs.wait(run)
    assert report is not None and report.ok
    assert runs.submit(run, OK, header_uuid=run)[0] == 410  # after


async def test_unknown_uuid_is_bad_request(runs: RunRegistry, clock: ManualClock) -> None:
    runs.open_run("default/a", deadline=clock.time() + 30)
    status, message = runs.submit(str(uuid.uuid4()), OK, header_uuid=None)
    assert status == 400 and "invalid or expired" in message


async def test_header_naming_another_run_is_bad_request(
    runs: RunRegistry, clock: ManualClock
) -> None:
    first = runs.open_run("default/a", deadline=clock.time() + 30)
    second = runs.open_run("default/b", deadline=clock.time() + 30)
    assert runs.submit(first, OK, header_uuid=second)[0] == 400
    assert runs.is_open(first) and runs.is_open(second)


async def test_report_after_the_deadline_is_gone(runs: RunRegistry, clock: ManualClock) -> None:
    run = runs.open_run("default/a", deadline=clock.time() + 5)
    clock.advance(5)
    assert runs.submit(run, OK, header_uuid=run)[0] == 410
    assert await runs.wait(run) is None
    assert runs.submit(run, OK, header_uuid=run)[0] == 410


async def test_wait_returns_none_when_the_deadline_passes(
    runs: RunRegistry, clock: ManualClock
) -> None:
    run = runs.open_run("default/a", deadline=clock.time() + 0.05)
    assert await runs.wait(run) is None
    assert runs.submit(run, OK, header_uuid=None)[0] == 410


async def test_cancelled_waiter_finishes_the_run(runs: RunRegistry, clock: ManualClock) -> None:
    run = runs.open_run("default/a", deadline=clock.time() + 30)
    waiter = asyncio.create_task(runs.wait(run))
    await asyncio.sleep(0)
    waiter.cancel()
    await asyncio.gather(waiter, return_exceptions=True)
    assert runs.submit(run, OK, header_uuid=None)[0] == 410


async def test_finished_uuids_are_bounded(clock: ManualClock) -> None:
    runs = RunRegistry(clock=clock, keep_finished=2)
    done = []
    for _ in range(3):
        run = runs.open_run("default/a", deadline=clock.time() + 1)
        clock.advance(1)
        assert await runs.wait(run) is None
        done.append(run)
    assert runs.submit(done[0], OK, header_uuid=None)[0] == 400  # forgotten
    assert [runs.submit(r, OK, header_uuid=None)[0] for r in done[1:]] == [410, 410]


async def test_expired_runs_nobody_waits_for_are_swept(
    runs: RunRegistry, clock: ManualClock
) -> None:
    old = runs.open_run("default/a", deadline=clock.time() + 1)
    clock.advance(2)
    runs.open_run("default/b", deadline=clock.time() + 1)
    assert not runs.is_open(old)
    assert runs.submit(old, OK, header_uuid=None)[0] == 410


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"OK": true}', (True, ())),
        (b'{"ok": true, "errors": []}', (True, ())),
        (b'{"Ok": true, "Errors": null, "extra": {"x": 1}}', (True, ())),
        (b'{"OK": false, "Errors": ["a", "b"]}', (False, ("a", "b"))),
        (b"", "body is not valid JSON"),
        (b"{", "body is not valid JSON"),
        (b"\xff\xfe", "body is not valid JSON"),
        (b"[true]", "body must be a JSON object"),
        (b'{"Errors": []}', 'missing "OK"'),
        (b'{"OK": "true"}', '"OK" must be true or false'),
        (b'{"OK": 1}', '"OK" must be true or false'),
        (b'{"OK": false, "Errors": [1]}', '"Errors" must be a list of strings'),
        (b'{"OK": false, "Errors": "x"}', '"Errors" must be a list of strings'),
        (b'{"OK": false, "Errors": []}', '"OK": false needs at least one error'),
        (b'{"OK": false, "Errors": [" "]}', "errors must not be blank"),
        (b'{"OK": true, "Errors": ["x"]}', '"OK": true must not carry errors'),
        (b"[" * 100_000, "body is not valid JSON"),
    ],
)
def test_parse_report(body: bytes, expected: object) -> None:
    assert parse_report(body) == expected


async def test_malformed_body_is_bad_request_and_run_stays_open(
    runs: RunRegistry, clock: ManualClock
) -> None:
    run = runs.open_run("default/a", deadline=clock.time() + 30)
    status, message = runs.submit(run, b'{"OK": false}', header_uuid=run)
    assert status == 400 and "at least one error" in message
    assert runs.submit(run, OK, header_uuid=run)[0] == 200


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None)
@given(body=st.binary(max_size=200) | _json_values.map(lambda v: json.dumps(v).encode()))
def test_random_bodies_never_raise(body: bytes) -> None:
    async def scenario() -> tuple[int, str]:
        clock = ManualClock()
        runs = RunRegistry(clock=clock)
        run = runs.open_run("default/a", deadline=clock.time() + 30)
        return runs.submit(run, body, header_uuid=None)

    status, message = asyncio.run(scenario())
    assert status in (200, 400) and message
