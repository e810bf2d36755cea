"""Reading a kubeconfig file into a :class:`KubeConnection`, with errors that name file and field.

The file is parsed once into frozen structs that know every field of the
kubeconfig v1 format and refuse unknown ones (a typo such as ``sever:`` is an
error, not a silent default). Fields the client cannot honour are refused by
name rather than ignored: credential plugins (``exec``), ``auth-provider``,
impersonation (``as``...) and ``tls-server-name``. Relative paths are resolved
against the file's directory, and referenced files must exist.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from healthwatch.config.yamlfile import convert, load_yaml
from healthwatch.kube.config import (
    SERVICE_ACCOUNT_DIR,
    KubeConnection,
    check_server_url,
    in_cluster,
)
from healthwatch.model.errors import ConfigError

__all__ = ["autodetect", "from_kubeconfig", "kubeconfig_path"]


class _Cluster(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    server: str
    certificate_authority: str | None = msgspec.field(name="certificate-authority", default=None)
    certificate_authority_data: str | None = msgspec.field(
        name="certificate-authority-data", default=None
    )
    insecure_skip_tls_verify: bool = msgspec.field(name="insecure-skip-tls-verify", default=False)
    tls_server_name: str | None = msgspec.field(name="tls-server-name", default=None)
    proxy_url: str | None = msgspec.field(name="proxy-url", default=None)
    disable_compression: bool = msgspec.field(name="disable-compression", default=False)
    extensions: list[Any] | None = None


class _User(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    client_certificate: str | None = msgspec.field(name="client-certificate", default=None)
    client_certificate_data: str | None = msgspec.field(
        name="client-certificate-data", default=None
    )
    client_key: str | None = msgspec.field(name="client-key", default=None)
    client_key_data: str | None = msgspec.field(name="client-key-data", default=None)
    token: str | None = None
    token_file: str | None = msgspec.field(name="tokenFile", default=None)
    username: str | None = None
    password: str | None = None
    impersonate: str | None = msgspec.field(name="as", default=None)
    impersonate_uid: str | None = msgspec.field(name="as-uid", default=None)
    impersonate_groups: list[str] | None = msgspec.field(name="as-groups", default=None)
    impersonate_extra: dict[str, Any] | None = msgspec.field(name="as-user-extra", default=None)
    auth_provider: dict[str, Any] | None = msgspec.field(name="auth-provider", default=None)
    exec: dict[str, Any] | None = None
    extensions: list[Any] | None = None


class _Context(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    cluster: str
    user: str | None = None
    namespace: str | None = None
    extensions: list[Any] | None = None


class _NamedCluster(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    name: str
    cluster: _Cluster


class _NamedUser(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    name: str
    user: _User = msgspec.field(default_factory=_User)


class _NamedContext(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    name: str
    context: _Context


class _Kubeconfig(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    api_version: str | None = msgspec.field(name="apiVersion", default=None)
    kind: str | None = None
    preferences: dict[str, Any] | None = None
    clusters: list[_NamedCluster] = msgspec.field(default_factory=list)
    users: list[_NamedUser] = msgspec.field(default_factory=list)
    contexts: list[_NamedContext] = msgspec.field(default_factory=list)
    current_context: str | None = msgspec.field(name="current-context", default=None)
    extensions: list[Any] | None = None


_Named = TypeVar("_Named", _NamedCluster, _NamedUser, _NamedContext)
_UNSUPPORTED_USER = {
    "exec": "credential plugins are not supported; use a token, a token file or client certs",
    "auth_provider": "auth providers are not supported; use a token or client certificates",
    "impersonate": "impersonation is not supported",
    "impersonate_uid": "impersonation is not supported",
    "impersonate_groups": "impersonation is not supported",
    "impersonate_extra": "impersonation is not supported",
}
_WIRE_NAMES = {
    "auth_provider": "auth-provider",
    "impersonate": "as",
    "impersonate_uid": "as-uid",
    "impersonate_groups": "as-groups",
    "impersonate_extra": "as-user-extra",
}


class _Reader:
    """Turns one parsed file into a connection, naming file, line and field in every error."""

    def __init__(self, file: Path, lines: dict[str, int]) -> None:
        self.file = file
        self.lines = lines

    def fail(self, field: str, message: str) -> ConfigError:
        line = self.lines.get(field) or self.lines.get(field.rpartition(".")[0])
        place = f"{self.file}:{line}" if line else str(self.file)
        return ConfigError(f"{place}: {field}: {message}")

    def path(self, field: str, value: str) -> Path:
        path = Path(value).expanduser()
        if not path.is_absolute():
            path = self.file.parent / path
        if not path.is_file():
            raise self.fail(field, f"no such file: {str(path)!r}")
        return path

    def base64(self, field: str, value: str) -> str:
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise self.fail(field, "not valid base64") from None
        return value

    def pick(self, items: list[_Named], name: str, *, field: str, what: str) -> tuple[int, _Named]:
        found = [(index, item) for index, item in enumerate(items) if item.name == name]
        if not found:
            known = ", ".join(sorted(item.name for item in items)) or "none"
            raise self.fail(field, f"no {what} named {name!r} (known: {known})")
        if len(found) > 1:
            raise self.fail(field, f"{len(found)} {what}s are named {name!r}")
        return found[0]

    def connection(self, config: _Kubeconfig, context_name: str | None) -> KubeConnection:
        name = context_name or config.current_context
        if not name:
            raise self.fail("current-context", "not set, and no context was chosen")
        field = "current-context" if context_name is None else "contexts"
        c_index, named = self.pick(config.contexts, name, field=field, what="context")
        context = named.context
        ctx_field = f"contexts[{c_index}].context"
        k_index, named_cluster = self.pick(
            config.clusters, context.cluster, field=f"{ctx_field}.cluster", what="cluster"
        )
        cluster = named_cluster.cluster
        where = f"clusters[{k_index}].cluster"
        if cluster.tls_server_name:
            raise self.fail(f"{where}.tls-server-name", "not supported")
        server = check_server_url(cluster.server, where=f"{self.file}: {where}.server")
        options: dict[str, Any] = {
            "server": server,
            "namespace": context.namespace or "default",
            "source": f"kubeconfig {self.file} context {name}",
            "insecure": cluster.insecure_skip_tls_verify,
        }
        if cluster.proxy_url:
            options["proxy"] = check_server_url(cluster.proxy_url, where=f"{where}.proxy-url")
        if cluster.certificate_authority:
            options["ca_file"] = self.path(
                f"{where}.certificate-authority", cluster.certificate_authority
            )
        if cluster.certificate_authority_data:
            options["ca_data"] = self.base64(
                f"{where}.certificate-authority-data", cluster.certificate_authority_data
            )
        if context.user:
            u_index, named_user = self.pick(
                config.users, context.user, field=f"{ctx_field}.user", what="user"
            )
            options.update(self.user(named_user.user, f"users[{u_index}].user"))
        return KubeConnection(**options)

    def user(self, user: _User, where: str) -> dict[str, Any]:
        for attribute, message in _UNSUPPORTED_USER.items():
            if getattr(user, attribute) is not None:
                raise self.fail(f"{where}.{_WIRE_NAMES.get(attribute, attribute)}", message)
        options: dict[str, Any] = {"token": user.token, "username": user.username}
        options["password"] = user.password
        if user.token_file:
            options["token_file"] = self.path(f"{where}.tokenFile", user.token_file)
        if bool(user.client_certificate or user.client_certificate_data) != bool(
            user.client_key or user.client_key_data
        ):
            raise self.fail(
                where, "a client certificate needs a client key, and a key a certificate"
            )
        if user.client_certificate:
            options["client_cert_file"] = self.path(
                f"{where}.client-certificate", user.client_certificate
            )
        if user.client_key:
            options["client_key_file"] = self.path(f"{where}.client-key", user.client_key)
        if user.client_certificate_data:
            options["client_cert_data"] = self.base64(
                f"{where}.client-certificate-data", user.client_certificate_data
            )
        if user.client_key_data:
            options["client_key_data"] = self.base64(
                f"{where}.client-key-data", user.client_key_data
            )
        if (user.username is None) != (user.password is None):
            raise self.fail(where, "username and password go together")
        return options


def kubeconfig_path(environ: Mapping[str, str] | None = None) -> Path:
    """The kubeconfig to read: the first entry of ``KUBECONFIG``, else ``~/.kube/config``."""
    env = os.environ if environ is None else environ
    listed = [entry for entry in env.get("KUBECONFIG", "").split(os.pathsep) if entry]
    if listed:
        return Path(listed[0]).expanduser()
    home = env.get("HOME")
    return (Path(home) if home else Path.home()) / ".kube" / "config"


def from_kubeconfig(
    path: str | os.PathLike[str] | None = None,
    *,
    context: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> KubeConnection:
    """The connection of ``context`` (default: ``current-context``) in a kubeconfig file."""
    file = Path(path) if path is not None else kubeconfig_path(environ)
    data, lines = load_yaml(file)
    if data is None:
        raise ConfigError(f"{file}: the kubeconfig is empty")
    config = convert(data, _Kubeconfig, source=str(file), lines=lines)
    return _Reader(file, lines).connection(config, context)


def autodetect(
    *,
    kubeconfig: str | os.PathLike[str] | None = None,
    context: str | None = None,
    account_dir: str | os.PathLike[str] = SERVICE_ACCOUNT_DIR,
    environ: Mapping[str, str] | None = None,
) -> KubeConnection:
    """In-cluster config when running in a pod and no kubeconfig is named, else the kubeconfig."""
    env = os.environ if environ is None else environ
    if kubeconfig is None and env.get("KUBERNETES_SERVICE_HOST"):
        return in_cluster(account_dir=account_dir, environ=env)
    return from_kubeconfig(kubeconfig, context=context, environ=env)
