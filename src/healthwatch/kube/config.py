"""Where the API server is and how to authenticate to it, decided once at start-up.

Three sources give one frozen :class:`KubeConnection`:

- :func:`in_cluster`: the pod's service account (token, CA certificate and
  namespace files under ``/var/run/secrets/kubernetes.io/serviceaccount``) and
  ``KUBERNETES_SERVICE_HOST`` / ``KUBERNETES_SERVICE_PORT``;
- :func:`from_kubeconfig` (in ``kubeconfig``): a kubeconfig file, from a path,
  ``KUBECONFIG`` or ``~/.kube/config``;
- :func:`from_url`: an explicit base URL, for tests and local proxies.

:func:`healthwatch.kube.kubeconfig.autodetect` picks in-cluster when the
service variables are set, the kubeconfig otherwise. Every problem is a
:class:`ConfigError` naming the file or variable and the bad value. Nothing
here imports the Kubernetes client.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from healthwatch.model.errors import ConfigError

__all__ = [
    "SERVICE_ACCOUNT_DIR",
    "KubeConnection",
    "check_server_url",
    "from_url",
    "in_cluster",
]

SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
"""Where the kubelet mounts a pod's service-account token, CA certificate and namespace."""
_MAX_SECRET_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class KubeConnection:
    """Everything needed to open a connection to one API server, already validated."""

    server: str
    """Base URL of the API server (``https://10.96.0.1:443``)."""
    namespace: str = "default"
    """Namespace used when a call on a namespaced kind names none."""
    source: str = ""
    """Where this came from (``in-cluster``, ``kubeconfig FILE context NAME``), for logs."""
    ca_file: Path | None = None
    """PEM file of the certificate authorities trusted for the server."""
    ca_data: str | None = field(default=None, repr=False)
    """Base64 PEM of the certificate authorities (kubeconfig ``certificate-authority-data``)."""
    insecure: bool = False
    """Skip verification of the server's certificate (kubeconfig ``insecure-skip-tls-verify``)."""
    token: str | None = field(default=None, repr=False)
    """Bearer token."""
    token_file: Path | None = None
    """File holding the bearer token; read again when the server answers 401 (token rotation)."""
    client_cert_file: Path | None = None
    """PEM client certificate file."""
    client_key_file: Path | None = None
    """PEM client key file."""
    client_cert_data: str | None = field(default=None, repr=False)
    """Base64 PEM client certificate."""
    client_key_data: str | None = field(default=None, repr=False)
    """Base64 PEM client key."""
    username: str | None = None
    """Basic-auth user name."""
    password: str | None = field(default=None, repr=False)
    """Basic-auth password."""
    proxy: str | None = None
    """HTTP proxy URL (kubeconfig ``proxy-url``)."""
    trust_env: bool = True
    """Honour ``HTTPS_PROXY`` / ``NO_PROXY`` and ``SSL_CERT_FILE`` from the environment."""


def check_server_url(url: str, *, where: str) -> str:
    """``url`` without a trailing slash when it is an http(s) URL with a host; else ConfigError."""
    if not url.isprintable() or any(char.isspace() for char in url):
        raise ConfigError(f"{where}: not a valid URL (spaces or control characters): {url!r:.200}")
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises on a port out of range or not a number
    except ValueError as error:
        raise ConfigError(f"{where}: not a valid URL ({error}): {url!r:.200}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"{where}: expected an http:// or https:// URL with a host, got {url!r:.200}"
        )
    if parts.query or parts.fragment:
        raise ConfigError(
            f"{where}: the server URL must not have a query or fragment: {url!r:.200}"
        )
    return url.rstrip("/")


def from_url(
    url: str,
    *,
    namespace: str = "default",
    token: str | None = None,
    ca_file: str | os.PathLike[str] | None = None,
    insecure: bool = False,
) -> KubeConnection:
    """A connection to an explicit base URL (a local proxy, or a fake API server in tests).

    The environment's proxy settings are ignored: the URL is used as given.
    """
    server = check_server_url(url, where="Kubernetes API URL")
    return KubeConnection(
        server=server,
        namespace=namespace,
        source=f"url {server}",
        token=token,
        ca_file=Path(ca_file) if ca_file is not None else None,
        insecure=insecure,
        trust_env=False,
    )


def _read_secret(path: Path, *, what: str) -> str:
    try:
        with path.open("rb") as handle:
            data = handle.read(_MAX_SECRET_BYTES + 1)
    except OSError as error:
        raise ConfigError(
            f"in-cluster config: cannot read the service-account {what} {path}: "
            f"{error.strerror or error}"
        ) from None
    if len(data) > _MAX_SECRET_BYTES:
        raise ConfigError(f"in-cluster config: {path} is larger than {_MAX_SECRET_BYTES} bytes")
    try:
        text = data.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise ConfigError(f"in-cluster config: {path} is not UTF-8 text") from None
    if not text:
        raise ConfigError(f"in-cluster config: the service-account {what} {path} is empty")
    return text


def in_cluster(
    *,
    account_dir: str | os.PathLike[str] = SERVICE_ACCOUNT_DIR,
    environ: Mapping[str, str] | None = None,
) -> KubeConnection:
    """The connection a pod gets from its service account; ConfigError naming what is missing."""
    env = os.environ if environ is None else environ
    host = env.get("KUBERNETES_SERVICE_HOST", "").strip()
    port_text = env.get("KUBERNETES_SERVICE_PORT", "").strip()
    if not host or not port_text:
        raise ConfigError(
            "in-cluster config: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set "
            "(is this running in a pod?)"
        )
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ConfigError(
            f"in-cluster config: KUBERNETES_SERVICE_PORT is not a port: {port_text!r}"
        )
    directory = Path(account_dir)
    token_file = directory / "token"
    ca_file = directory / "ca.crt"
    _read_secret(token_file, what="token")
    _read_secret(ca_file, what="CA certificate")
    namespace_file = directory / "namespace"
    namespace = _read_secret(namespace_file, what="namespace") if namespace_file.exists() else ""
    shown_host = f"[{host}]" if ":" in host and not host.startswith("[") else host
    server = check_server_url(
        f"https://{shown_host}:{int(port_text)}", where="in-cluster config: KUBERNETES_SERVICE_HOST"
    )
    return KubeConnection(
        server=server,
        namespace=namespace or "default",
        source="in-cluster",
        ca_file=ca_file,
        token_file=token_file,
    )
