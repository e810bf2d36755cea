"""Synthetic checks: probes run on a schedule whose results are judged by conditions.

So far this package holds the foundations: the conditions language
(``status == 200``, ``latency < 300ms``), a small, safe expression language compiled
once at load time (:mod:`healthwatch.checks.expressions`), the one scheduler for
every check (:mod:`healthwatch.checks.scheduler`) and the runners of the http, tcp, tls
and exec kinds (:mod:`healthwatch.checks.runners`). The check spec, the run engine and
the agent wiring come next.
"""
