"""The kube package's public names, and that its light parts do not import the client library."""

from __future__ import annotations

import subprocess
import sys

import healthwatch.kube


def test_every_public_name_resolves() -> None:
    assert len(set(healthwatch.kube.__all__)) == len(healthwatch.kube.__all__)
    for name in healthwatch.kube.__all__:
        assert getattr(healthwatch.kube, name) is not None
    assert dir(healthwatch.kube) == sorted(healthwatch.kube.__all__)


def test_errors_config_and_kinds_do_not_import_the_client() -> None:
    code = (
        "import sys\n"
        "from healthwatch.kube import KubeConflict, NODE, RetryPolicy, autodetect, from_url\n"
        "import healthwatch.kube.kubeconfig\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('lightkube', 'httpx2'))\n"
        "assert not heavy, heavy\n"
        "from healthwatch.kube import KubeClient\n"
        "assert 'lightkube' in sys.modules\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
