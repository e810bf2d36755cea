"""Config reload without losing anything: on SIGHUP or a changed config file.

The new config is read and validated in full in a worker thread
(:mod:`.plan`); an invalid one is rejected with every error logged, and the
running config stays. A valid one is applied as a difference (:mod:`.apply`):
unchanged checks and problem daemons are left alone, changed ones keep their
state, history and conditions, removed ones stop. Settings a running agent
cannot change (listeners, state directory, node name ...) are named in the log
and wait for a restart. :class:`Reloader` (:mod:`.reloader`) serializes reloads
and polls the files; :mod:`.watch` tells when a file changed.
"""

from __future__ import annotations

from healthwatch.agent_reload.apply import (
    Applied,
    Changes,
    Running,
    RunningParts,
    apply_plan,
    changes_of,
    snapshot,
)
from healthwatch.agent_reload.plan import (
    RESTART_FIELDS,
    DaemonChanges,
    ReloadPlan,
    ReloadRejectedError,
    daemon_changes,
    prepare,
)
from healthwatch.agent_reload.reloader import OUTCOMES, REJECTED_SHOWN_FOR, Reloader, ReloadRecord
from healthwatch.agent_reload.watch import FileWatch

__all__ = [
    "OUTCOMES",
    "REJECTED_SHOWN_FOR",
    "RESTART_FIELDS",
    "Applied",
    "Changes",
    "DaemonChanges",
    "FileWatch",
    "ReloadPlan",
    "ReloadRecord",
    "ReloadRejectedError",
    "Reloader",
    "Running",
    "RunningParts",
    "apply_plan",
    "changes_of",
    "daemon_changes",
    "prepare",
    "snapshot",
]
