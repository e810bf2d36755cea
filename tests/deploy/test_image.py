"""The container image definition parses and says what the manifests rely on.

No image can be built here (no registry access), so the Dockerfile is read by a small
parser: known instructions only, continuation lines joined, exec-form arguments valid
JSON. The tests then hold it to its promises: the slim Python base, the wheel built from
this repository, a non-root user, the entry point the manifests call, a state directory
where ``healthwatch status`` in the pod finds the agent, and a build context that
carries the sources but not the work tree's caches. ``docker build --check`` runs too
when a Docker daemon answers.
"""

from __future__ import annotations

import fnmatch
import json
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass

import pytest

from tests.deploy.manifests import ROOT, container, find, rendered

INSTRUCTIONS = frozenset(
    {"FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME"}
    | {"USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL"}
)


class DockerfileError(Exception):
    """A Dockerfile this parser refuses."""


@dataclass(frozen=True)
class Instruction:
    keyword: str
    value: str
    line: int

    def exec_form(self) -> list[str]:
        """The JSON array of an exec-form instruction."""
        try:
            parsed = json.loads(self.value)
        except json.JSONDecodeError as error:
            raise DockerfileError(f"line {self.line}: not exec form: {error}") from None
        if not isinstance(parsed, list) or not all(isinstance(p, str) for p in parsed):
            raise DockerfileError(f"line {self.line}: exec form must be a list of strings")
        return parsed


def parse_dockerfile(text: str) -> list[Instruction]:
    """Instructions in order; comments dropped, continuation lines joined."""
    instructions: list[Instruction] = []
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue  # comment lines inside a continuation are dropped, as BuildKit does
        if not pending:
            start = number
        pending += (" " if pending else "") + line.removesuffix("\\").strip()
        if line.endswith("\\"):
            continue
        keyword, _, value = pending.partition(" ")
        if keyword.upper() not in INSTRUCTIONS or keyword != keyword.upper():
            raise DockerfileError(f"line {start}: unknown instruction {keyword!r}")
        instructions.append(Instruction(keyword, value.strip(), start))
        pending = ""
    if pending:
        raise DockerfileError(f"line {start}: the file ends inside a continuation")
    return instructions


def _final_stage(instructions: list[Instruction]) -> list[Instruction]:
    last = max(i for i, ins in enumerate(instructions) if ins.keyword == "FROM")
    return instructions[last:]


def _dockerfile() -> list[Instruction]:
    return parse_dockerfile((ROOT / "Dockerfile").read_text())


def test_dockerfile_builds_the_wheel_on_python_311_slim_and_runs_as_65532() -> None:
    instructions = _dockerfile()
    bases = [i.value for i in instructions if i.keyword == "FROM"]
    assert bases == ["python:3.11-slim AS build", "python:3.11-slim"]
    runs = " ".join(i.value for i in instructions if i.keyword == "RUN")
    assert "pip wheel" in runs and "/wheels/healthwatch-*.whl" in runs
    assert "--constraint /tmp/constraints.txt" in runs
    final = _final_stage(instructions)
    users = [i.value for i in final if i.keyword == "USER"]
    assert users == ["65532:65532"]
    assert any(i.value.startswith("--from=build ") for i in final if i.keyword == "COPY")


def test_entry_point_and_health_check_use_the_installed_command() -> None:
    final = {i.keyword: i for i in _final_stage(_dockerfile())}
    assert final["ENTRYPOINT"].exec_form() == ["healthwatch"]
    assert final["CMD"].exec_form() == ["run"]
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert "healthwatch" in scripts
    check = final["HEALTHCHECK"].value.split(" CMD ", 1)[1]
    argv = Instruction("CMD", check, 0).exec_form()
    assert argv[:3] == ["healthwatch", "probe", "http://127.0.0.1:9801"]
    done = subprocess.run(
        [sys.executable, "-m", "healthwatch", *argv[1:2], "--help"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    for option in (a for a in argv[3:] if a.startswith("--")):
        assert option in done.stdout, option
    assert final["EXPOSE"].value.split() == ["9800", "9801", "9802"]


def test_default_state_directory_is_where_the_manifests_keep_state() -> None:
    env = " ".join(i.value for i in _final_stage(_dockerfile()) if i.keyword == "ENV")
    assert "XDG_STATE_HOME=/var/lib" in env  # so `healthwatch status` in a pod finds the agent
    agent = find(rendered("base"), "DaemonSet", "healthwatch-agent")
    assert "--state-dir=/var/lib/healthwatch" in container(agent)["args"]
    controller = find(rendered("controller"), "ConfigMap", "healthwatch-controller")
    assert "state_dir: /var/lib/healthwatch" in controller["data"]["controller.yaml"]


def _ignored(path: str, patterns: list[str]) -> bool:
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        bare = pattern.removeprefix("!").removeprefix("**/")
        parts = path.split("/")
        hit = any(fnmatch.fnmatch("/".join(parts[: n + 1]), bare) for n in range(len(parts)))
        hit = hit or any(fnmatch.fnmatch(part, bare) for part in parts if pattern.startswith("**/"))
        if hit:
            ignored = not negate
    return ignored


def test_build_context_holds_the_sources_and_not_the_work_tree_caches() -> None:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    copied = [
        source
        for i in _dockerfile()
        if i.keyword == "COPY" and not i.value.startswith("--from")
        for source in i.value.split()[:-1]
    ]
    assert copied
    for source in copied:
        assert (ROOT / source).exists(), source
        assert not _ignored(source, patterns), source
        if (ROOT / source).is_dir():
            assert not _ignored(f"{source}/healthwatch/__init__.py", patterns), source
    for cache in (".git", ".venv", "tests/deploy/test_image.py", "src/x/__pycache__/a.pyc"):
        assert _ignored(cache, patterns), cache


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("FROM python:3.11-slim\nRUNN echo\n", "unknown instruction"),
        ("FROM python:3.11-slim\nrun echo\n", "unknown instruction"),
        ("FROM python:3.11-slim\nRUN echo \\\n", "ends inside a continuation"),
    ],
)
def test_parser_refuses_malformed_dockerfiles(text: str, problem: str) -> None:
    with pytest.raises(DockerfileError, match=problem):
        parse_dockerfile(text)


def test_exec_form_must_be_a_json_list_of_strings() -> None:
    with pytest.raises(DockerfileError, match="not exec form"):
        Instruction("CMD", "[healthwatch, run]", 3).exec_form()
    with pytest.raises(DockerfileError, match="list of strings"):
        Instruction("CMD", '["run", 1]', 3).exec_form()


def test_docker_build_check_when_a_daemon_answers() -> None:
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("docker is not installed: the Dockerfile is checked by the parser only")
    info = subprocess.run([docker, "info"], capture_output=True, timeout=20, check=False)
    if info.returncode != 0:
        pytest.skip("no Docker daemon answers: the Dockerfile is checked by the parser only")
    done = subprocess.run(
        [docker, "build", "--check", str(ROOT)], capture_output=True, timeout=300, check=False
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:].decode(errors="replace")
