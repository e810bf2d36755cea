"""Connecting from a kubeconfig, over TLS, and as a pod would (service-account files)."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
import trustme

from healthwatch.kube import NODE, KubeClient, KubeUnavailable, from_kubeconfig, in_cluster
from healthwatch.testing.kubefake import FakeKubeAPI
from tests.integration.kube.kubekit import FAST


@pytest.fixture
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Connections that honour the environment must not be sent to a proxy in tests."""
    for name in (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)


@pytest.fixture
def authority() -> trustme.CA:
    return trustme.CA()


def server_tls(authority: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    return context


async def test_kubeconfig_written_by_the_fake(tmp_path: Path) -> None:
    async with FakeKubeAPI(token="t0ken") as fake:
        path = fake.write_kubeconfig(tmp_path / "kubeconfig", namespace="kube-system")
        connection = from_kubeconfig(path)
        assert connection.namespace == "kube-system"
        async with KubeClient(connection, policy=FAST) as client:
            await client.create(NODE, {"metadata": {"name": "n1"}})
            assert [n["metadata"]["name"] for n in (await client.list(NODE)).items] == ["n1"]
        assert {r.authorization for r in fake.requests()} == {"Bearer t0ken"}


async def test_tls_with_the_kubeconfig_authority(
    tmp_path: Path, authority: trustme.CA, no_proxy: None
) -> None:
    ca_file = tmp_path / "ca.crt"
    authority.cert_pem.write_to_path(str(ca_file))
    async with FakeKubeAPI(ssl_context=server_tls(authority)) as fake:
        assert fake.url.startswith("https://")
        path = fake.write_kubeconfig(tmp_path / "kubeconfig", ca_file=ca_file)
        async with KubeClient(from_kubeconfig(path), policy=FAST) as client:
            assert (await client.list(NODE)).items == []


async def test_tls_with_an_unknown_authority_fails_cleanly(
    tmp_path: Path, authority: trustme.CA, no_proxy: None
) -> None:
    stranger = tmp_path / "other-ca.crt"
    trustme.CA().cert_pem.write_to_path(str(stranger))
    async with FakeKubeAPI(ssl_context=server_tls(authority)) as fake:
        path = fake.write_kubeconfig(tmp_path / "kubeconfig", ca_file=stranger)
        async with KubeClient(from_kubeconfig(path), policy=FAST) as client:
            with pytest.raises(KubeUnavailable, match="connection failed"):
                await client.list(NODE)


async def test_in_cluster_service_account(
    tmp_path: Path, authority: trustme.CA, no_proxy: None
) -> None:
    account = tmp_path / "serviceaccount"
    account.mkdir()
    (account / "token").write_text("pod-token\n")
    (account / "namespace").write_text("healthwatch")
    authority.cert_pem.write_to_path(str(account / "ca.crt"))
    async with FakeKubeAPI(ssl_context=server_tls(authority), token="pod-token") as fake:
        port = int(fake.url.rsplit(":", 1)[1])
        env = {"KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": str(port)}
        connection = in_cluster(account_dir=account, environ=env)
        async with KubeClient(connection, policy=FAST) as client:
            assert client.namespace == "healthwatch"
            assert (await client.list(NODE)).items == []
        assert fake.requests()[-1].authorization == "Bearer pod-token"
