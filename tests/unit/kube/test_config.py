"""Connection config: in-cluster service account files, kubeconfig files, and their errors."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from healthwatch.kube.config import KubeConnection, from_url, in_cluster
from healthwatch.kube.kubeconfig import autodetect, from_kubeconfig, kubeconfig_path
from healthwatch.model.errors import ConfigError

ENV = {"KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"}
CA_DATA = base64.b64encode(b"-----BEGIN CERTIFICATE-----\n").decode()


def service_account(tmp_path: Path, *, namespace: str | None = "monitoring") -> Path:
    directory = tmp_path / "serviceaccount"
    directory.mkdir()
    (directory / "token").write_text("secret-token\n")
    (directory / "ca.crt").write_text("-----BEGIN CERTIFICATE-----\n")
    if namespace is not None:
        (directory / "namespace").write_text(namespace)
    return directory


def test_in_cluster_reads_the_service_account(tmp_path: Path) -> None:
    directory = service_account(tmp_path)
    connection = in_cluster(account_dir=directory, environ=ENV)
    assert connection.server == "https://10.96.0.1:443"
    assert connection.namespace == "monitoring"
    assert connection.token_file == directory / "token"
    assert connection.ca_file == directory / "ca.crt"
    assert connection.token is None  # read from the file on use, so rotation is seen
    assert connection.source == "in-cluster"


def test_in_cluster_ipv6_host_and_default_namespace(tmp_path: Path) -> None:
    directory = service_account(tmp_path, namespace=None)
    env = {"KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "6443"}
    connection = in_cluster(account_dir=directory, environ=env)
    assert connection.server == "https://[fd00::1]:6443"
    assert connection.namespace == "default"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set"),
        ({"KUBERNETES_SERVICE_HOST": "h", "KUBERNETES_SERVICE_PORT": "http"}, "not a port: 'http'"),
        ({"KUBERNETES_SERVICE_HOST": "h", "KUBERNETES_SERVICE_PORT": "70000"}, "not a port"),
        ({"KUBERNETES_SERVICE_HOST": "a b", "KUBERNETES_SERVICE_PORT": "443"}, "not a valid URL"),
    ],
)
def test_in_cluster_bad_environment(tmp_path: Path, env: dict[str, str], message: str) -> None:
    directory = service_account(tmp_path)
    with pytest.raises(ConfigError, match=message):
        in_cluster(account_dir=directory, environ=env)


@pytest.mark.parametrize("broken", ["missing token", "empty token", "binary ca", "huge token"])
def test_in_cluster_bad_files_name_the_file(tmp_path: Path, broken: str) -> None:
    directory = service_account(tmp_path)
    if broken == "missing token":
        (directory / "token").unlink()
        expected = "token"
    elif broken == "empty token":
        (directory / "token").write_text("  \n")
        expected = "token"
    elif broken == "binary ca":
        (directory / "ca.crt").write_bytes(b"\xff\xfe\x00")
        expected = "ca.crt"
    else:
        (directory / "token").write_text("x" * 70_000)
        expected = "token"
    with pytest.raises(ConfigError, match=f"in-cluster config: .*{expected}"):
        in_cluster(account_dir=directory, environ=ENV)


def test_from_url_checks_the_url() -> None:
    connection = from_url("http://127.0.0.1:8001/", namespace="ns", token="t")
    assert connection == KubeConnection(
        server="http://127.0.0.1:8001",
        namespace="ns",
        source="url http://127.0.0.1:8001",
        token="t",
        trust_env=False,
    )
    assert "token=" not in repr(connection)  # secrets stay out of logs
    for bad in ("ftp://host", "http://", "127.0.0.1:8001", "http://h:99999", "http://h/?a=1"):
        with pytest.raises(ConfigError, match="Kubernetes API URL"):
            from_url(bad)


KUBECONFIG = """\
apiVersion: v1
kind: Config
preferences: {}
current-context: dev
clusters:
  - name: dev-cluster
    cluster:
      server: https://api.example:6443
      certificate-authority: certs/ca.crt
  - name: other
    cluster:
      server: http://127.0.0.1:8080
      insecure-skip-tls-verify: true
users:
  - name: dev-user
    user:
      token: abc
  - name: cert-user
    user:
      client-certificate-data: {data}
      client-key-data: {data}
contexts:
  - name: dev
    context: {cluster: dev-cluster, user: dev-user, namespace: team}
  - name: other
    context: {cluster: other, user: cert-user}
"""


def write_kubeconfig(tmp_path: Path, text: str = KUBECONFIG) -> Path:
    (tmp_path / "certs").mkdir(exist_ok=True)
    (tmp_path / "certs" / "ca.crt").write_text("-----BEGIN CERTIFICATE-----\n")
    path = tmp_path / "config"
    path.write_text(text.replace("{data}", CA_DATA))
    return path


def test_kubeconfig_current_context(tmp_path: Path) -> None:
    connection = from_kubeconfig(write_kubeconfig(tmp_path))
    assert connection.server == "https://api.example:6443"
    assert connection.namespace == "team"
    assert connection.token == "abc"
    assert connection.ca_file == tmp_path / "certs" / "ca.crt"  # relative to the file
    assert connection.source.endswith("context dev")


def test_kubeconfig_named_context(tmp_path: Path) -> None:
    connection = from_kubeconfig(write_kubeconfig(tmp_path), context="other")
    assert connection.server == "http://127.0.0.1:8080"
    assert connection.insecure
    assert connection.namespace == "default"
    assert connection.client_cert_data == CA_DATA
    assert connection.token is None


def test_kubeconfig_from_environment(tmp_path: Path) -> None:
    path = write_kubeconfig(tmp_path)
    env = {"KUBECONFIG": f"{path}:/nonexistent/second"}
    assert kubeconfig_path(env) == path
    assert from_kubeconfig(environ=env).server == "https://api.example:6443"
    assert kubeconfig_path({"HOME": str(tmp_path)}) == tmp_path / ".kube" / "config"


def test_autodetect_prefers_in_cluster_then_kubeconfig(tmp_path: Path) -> None:
    directory = service_account(tmp_path)
    assert autodetect(account_dir=directory, environ=ENV).source == "in-cluster"
    path = write_kubeconfig(tmp_path)
    assert autodetect(kubeconfig=path, account_dir=directory, environ=ENV).namespace == "team"
    assert autodetect(environ={"KUBECONFIG": str(path)}).namespace == "team"


def replace(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            ("server: https://api.example:6443", "sever: https://api.example:6443"),
            r"config:\d+: .*clusters\[0\]\.cluster.*sever",
        ),
        (("token: abc", "token: [1, 2]"), r"config:\d+: .*users\[0\]\.user\.token"),
        (
            ("token: abc", "exec: {command: aws}"),
            r"config:\d+: users\[0\]\.user\.exec: credential plugins are not supported",
        ),
        (("token: abc", "auth-provider: {name: gcp}"), r"users\[0\]\.user\.auth-provider"),
        (("token: abc", "as: admin"), r"users\[0\]\.user\.as: impersonation"),
        (
            ("current-context: dev", "current-context: prod"),
            r"config:4: current-context: no context named 'prod' \(known: dev, other\)",
        ),
        (
            ("cluster: dev-cluster,", "cluster: nowhere,"),
            r"contexts\[0\]\.context\.cluster: no cluster named 'nowhere'",
        ),
        (("user: dev-user,", "user: nobody,"), r"contexts\[0\]\.context\.user: no user named"),
        (("https://api.example:6443", "api.example:6443"), r"clusters\[0\]\.cluster\.server"),
        (
            ("certs/ca.crt", "certs/missing.crt"),
            r"clusters\[0\]\.cluster\.certificate-authority: no such file",
        ),
        (
            ("client-key-data: {data}", "client-key-data: '%%%'"),
            r"users\[1\]\.user\.client-key-data: not valid base64",
        ),
        (("client-key-data: {data}", "username: u"), r"users\[1\]\.user: a client certificate"),
        (("current-context: dev\n", ""), r"current-context: not set"),
        (("clusters:", "clusters: 5\nx:"), r"config"),
    ],
)
def test_kubeconfig_errors_name_file_and_field(
    tmp_path: Path, edit: tuple[str, str], message: str
) -> None:
    text = replace(KUBECONFIG, *edit)
    path = write_kubeconfig(tmp_path, text)
    context = "other" if "users\\[1\\]" in message else None
    with pytest.raises(ConfigError, match=message) as caught:
        from_kubeconfig(path, context=context)
    assert str(path) in str(caught.value)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "the kubeconfig is empty"),
        ("clusters: [\n", "invalid YAML"),
        ("- a list\n", "Expected `object`"),
        (b"\xff\xfe", "not UTF-8"),
    ],
)
def test_malformed_kubeconfig_files(tmp_path: Path, content: str | bytes, message: str) -> None:
    path = tmp_path / "config"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(ConfigError, match=message) as caught:
        from_kubeconfig(path)
    assert str(path) in str(caught.value)


def test_missing_kubeconfig(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        from_kubeconfig(tmp_path / "absent")
