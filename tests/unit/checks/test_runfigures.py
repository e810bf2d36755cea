"""Run figures: one duration histogram and one retry counter per kind and namespace."""

from __future__ import annotations

from healthwatch.checks.runfigures import RunFigures
from healthwatch.checks.spec import build_checks
from healthwatch.model.checks import CheckResult


def _result(check_id: str, *, ok: bool, duration: float, attempts: int) -> CheckResult:
    return CheckResult(
        check_id=check_id,
        run_id="r",
        started_at=0.0,
        duration=duration,
        ok=ok,
        errors=() if ok else ("boom",),
        attempts=attempts,
    )


def test_durations_and_saving_retries_are_counted_per_kind_and_namespace() -> None:
    specs = build_checks(
        [
            {"name": "a", "kind": "tcp", "host": "127.0.0.1", "port": 1},
            {"name": "b", "kind": "tcp", "host": "127.0.0.1", "port": 2},
            {"name": "c", "namespace": "shop", "kind": "exec", "argv": ["/bin/true"]},
        ],
        source="test",
    )
    figures = RunFigures()
    figures.observe(specs[0], _result("default/a", ok=True, duration=0.02, attempts=2))
    figures.observe(specs[1], _result("default/b", ok=False, duration=3.0, attempts=2))
    figures.observe(specs[2], _result("shop/c", ok=True, duration=0.004, attempts=1))
    durations, retries = figures.families({"node": "n"})
    by_key = {(s.labels["kind"], s.labels["namespace"]): s for s in durations.samples}
    tcp = by_key[("tcp", "default")]
    assert tcp.value == 2 and abs(tcp.sum - 3.02) < 1e-9
    assert dict(tcp.buckets)[0.025] == 1 and dict(tcp.buckets)[5.0] == 2
    assert by_key[("exec", "shop")].labels["node"] == "n"
    saved = {(s.labels["kind"], s.labels["namespace"]): s.value for s in retries.samples}
    assert saved == {("tcp", "default"): 1, ("exec", "shop"): 0}  # a failed retry saves nothing
