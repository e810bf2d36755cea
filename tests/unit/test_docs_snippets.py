"""Every agent config shown in the docs loads, as ``healthwatch validate`` would load it.

A ```` ```yaml ```` block under ``docs/`` is an agent config when its first key is a
section of the agent's file (``checks:``, ``gpu:`` ...). Each one is written to a
temporary directory and run through ``load_config``, ``configured_daemons`` and
``configured_checks``, and checked against the generated JSON Schema. A block that
only sketches a file (with ``...`` or ``…`` standing for what is left out) is
marked by the line ``<!-- yaml: partial -->`` right above its fence; YAML that is
not an agent config but starts with such a key (a chart's values) is marked
``<!-- yaml: other -->``.

What a snippet needs from the machine is provided in the temporary directory:
plugin paths that do not exist here become executable stubs, and every
``${NAME}`` an alert route reads from the environment is set to a URL.
"""

from __future__ import annotations

import json
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

import jsonschema_rs
import msgspec
import pytest
import yaml

from healthwatch.agent_checks import configured_checks
from healthwatch.agent_problems import configured_daemons
from healthwatch.config.agent import ConfigFile, load_config
from healthwatch.model.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
SCHEMA = DOCS / "reference" / "config.schema.json"
SECTIONS = frozenset(f.encode_name for f in msgspec.structs.fields(ConfigFile))
_FENCE = re.compile(r"^(\s*)```(\w*)\s*$")
_MARKER = re.compile(r"^<!--\s*yaml:\s*(partial|other)\s*-->$")
_KEY = re.compile(r"^([A-Za-z_][\w-]*):")
_VARIABLE = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_PLUGIN_PATH = re.compile(r"\bpath:\s*(/[^\s,}\]]+)")


@dataclass(frozen=True, slots=True)
class Snippet:
    """One fenced YAML block of a page."""

    page: str
    line: int
    text: str
    marker: str | None

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"

    @property
    def first_key(self) -> str | None:
        for line in self.text.splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                found = _KEY.match(line)
                return found.group(1) if found else None
        return None


def yaml_blocks(page: str, text: str) -> list[Snippet]:
    """Every ```` ```yaml ```` block of ``text`` with the marker line above it, if any."""
    lines = text.splitlines()
    found: list[Snippet] = []
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None or opening.group(2) != "yaml":
            index += 1
            continue
        end = next(
            (j for j in range(index + 1, len(lines)) if lines[j].strip() == "```"), len(lines)
        )
        above = next((lines[j].strip() for j in range(index - 1, -1, -1) if lines[j].strip()), "")
        marked = _MARKER.match(above)
        body = textwrap.dedent("\n".join(lines[index + 1 : end]))
        found.append(Snippet(page, index + 1, body, marked.group(1) if marked else None))
        index = end + 1
    return found


def _all_blocks() -> list[Snippet]:
    return [
        block
        for path in sorted(DOCS.rglob("*.md"))
        for block in yaml_blocks(str(path.relative_to(ROOT)), path.read_text(encoding="utf-8"))
    ]


BLOCKS = _all_blocks()
AGENT_CONFIGS = [b for b in BLOCKS if b.marker is None and b.first_key in SECTIONS]


def _provide(snippet: Snippet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The snippet's text, with what it needs from this machine made in ``tmp_path``."""
    text = snippet.text
    for name in _VARIABLE.findall(text):
        monkeypatch.setenv(name, "https://hooks.example.invalid/services/T0/B0/secret")
    for path in dict.fromkeys(_PLUGIN_PATH.findall(text)):
        if "plugin_monitors" in text and not Path(path).exists():
            stub = tmp_path / "plugins" / Path(path).name
            stub.parent.mkdir(exist_ok=True)
            stub.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
            stub.chmod(0o755)
            text = text.replace(path, str(stub))
    return text


def test_the_docs_show_agent_configs() -> None:
    pages = {snippet.page for snippet in AGENT_CONFIGS}
    assert len(AGENT_CONFIGS) >= 10, [s.where for s in AGENT_CONFIGS]
    assert {"docs/checks.md", "docs/problems.md", "docs/gpu.md"} <= pages


def load_snippet(snippet: Snippet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Load ``snippet`` as the agent would (ConfigError if it is wrong); the schema's errors."""
    path = tmp_path / "agent.yaml"
    path.write_text(_provide(snippet, tmp_path, monkeypatch), encoding="utf-8")
    config = load_config(str(path))
    configured_daemons(config)
    configured_checks(config)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    validator = jsonschema_rs.validator_for(json.loads(SCHEMA.read_text(encoding="utf-8")))
    return [f"{list(e.instance_path)}: {e.message}" for e in validator.iter_errors(data)]


@pytest.mark.parametrize("snippet", AGENT_CONFIGS, ids=lambda s: s.where)
def test_agent_config_snippet_loads(
    snippet: Snippet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    errors = load_snippet(snippet, tmp_path, monkeypatch)
    assert errors == [], f"{snippet.where}: the schema refuses what the loader accepts"


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("checks:\n  - {name: web, kind: http}\n", "checks[0].url: an http check needs a url"),
        ("gpu: {interval: -5s}\n", "gpu.interval: a duration must not be negative"),
        ("agent: {listen: nowhere}\n", "agent.listen: expected HOST:PORT"),
        ("log_monitors: [...]\n", "log_monitors[0]: Expected `object`"),
    ],
)
def test_a_wrong_snippet_fails_with_the_loaders_error(
    text: str, error: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ConfigError, match=re.escape(error)):
        load_snippet(Snippet("docs/page.md", 1, text, None), tmp_path, monkeypatch)


def test_what_a_snippet_needs_is_provided(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = textwrap.dedent(
        """\
        alerting:
          routes: [{name: chat, kind: slack, url: "${CHAT_HOOK}"}]
        plugin_monitors:
          - name: ntp
            rules: [{type: temporary, reason: NoSync, path: /nonexistent/check_ntp.sh}]
        """
    )
    monkeypatch.delenv("CHAT_HOOK", raising=False)
    assert load_snippet(Snippet("docs/page.md", 1, text, None), tmp_path, monkeypatch) == []
    assert (tmp_path / "plugins" / "check_ntp.sh").stat().st_mode & 0o111


@pytest.mark.parametrize(
    "snippet", [b for b in BLOCKS if b.marker == "partial"], ids=lambda s: s.where
)
def test_a_partial_snippet_says_what_it_leaves_out(snippet: Snippet) -> None:
    assert "..." in snippet.text or "…" in snippet.text, (
        f"{snippet.where} is marked partial but has no ... placeholder: make it load instead"
    )


def test_blocks_are_found_with_their_markers() -> None:
    page = textwrap.dedent(
        """\
        text
        <!-- yaml: partial -->

        ```yaml
        checks: [...]
        ```
        - item:

          ```yaml
          gpu: false
          ```
        ```sh
        echo not yaml
        ```
        ```yaml
        # a comment first
        agent: {}
        """
    )
    blocks = yaml_blocks("page.md", page)
    assert [(b.line, b.marker, b.first_key) for b in blocks] == [
        (4, "partial", "checks"),
        (9, None, "gpu"),
        (15, None, "agent"),
    ]
    assert blocks[1].text == "gpu: false"
