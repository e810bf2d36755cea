"""Alerts of synthetic checks: notifications and their delivery to Alertmanager, Slack, webhooks.

A check's threshold state (:mod:`healthwatch.checks.state`) decides when an
alert fires and resolves; this package turns each transition into a
:class:`Notification`, renders it for each route (:mod:`.alertmanager`,
:mod:`.slack`, :mod:`.webhook` with :mod:`.template`) and delivers it with
retries (:mod:`.delivery`, :mod:`.dispatcher`). Routes are configured in
:mod:`healthwatch.checks.alertspec`.

Import from the modules themselves: this package's ``__init__`` imports nothing,
because :mod:`healthwatch.checks.alertspec` (imported by the check spec) needs
:mod:`.template` while :mod:`.delivery` needs the routes of ``alertspec``.
"""
