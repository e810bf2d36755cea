"""The configuration reference: generated from the config types, committed, and kept current.

If the first test fails, a config struct changed: run
``.venv/bin/python -m healthwatch.reference --write`` and commit the two files.
"""

from __future__ import annotations

import enum
import json
from pathlib import Path
from typing import Any, Literal

import jsonschema_rs
import msgspec
import msgspec.inspect as mi
import pytest
import yaml

from healthwatch.checks.spec import CheckEntry
from healthwatch.config.agent import ConfigFile, load_config
from healthwatch.reference import (
    SECTIONS,
    agent_file_type,
    audit,
    configuration_markdown,
    configuration_schema,
    describe,
    generated_files,
    stale_files,
    write_files,
)
from healthwatch.reference.__main__ import main
from healthwatch.reference.descriptions import struct_info
from healthwatch.reference.markdown import HEADER, anchor, default_text, type_text
from healthwatch.reference.sourcenotes import clean_text, source_notes

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "docs" / "reference"
REGENERATE = "run `.venv/bin/python -m healthwatch.reference --write` to update it"


class Colour(enum.Enum):
    RED = "red"


class Sample(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A struct to read notes from (its source is this file)."""

    documented: int = 1
    """Said in a docstring, with ``code`` and a :class:`~pkg.mod.Thing`."""
    commented: str = "x"  # said in a comment
    directive: str = "y"  # pragma: no cover - a directive for a tool, not a description
    bare: bool = False
    wait: str | float | int = 30.0
    shade: Colour = Colour.RED
    kind: Literal["a", "b"] = "a"
    items: list[str] = msgspec.field(default_factory=list)
    needed: str


def _field(cls: type, name: str) -> mi.Field:
    return next(f for f in struct_info(cls).fields if f.name == name)


@pytest.mark.parametrize("name", sorted(generated_files()))
def test_committed_file_is_current(name: str) -> None:
    committed = REFERENCE / name
    assert committed.is_file(), f"{committed} is missing: {REGENERATE}"
    assert committed.read_text(encoding="utf-8") == generated_files()[name], (
        f"{committed} is out of date: {REGENERATE}"
    )


def test_every_field_has_a_description_and_every_table_entry_a_field() -> None:
    assert audit([section.spec for section in SECTIONS]) == []


def test_every_section_of_the_file_is_covered() -> None:
    covered = [f.name for f in struct_info(agent_file_type()).fields]
    assert sorted(covered) == sorted(f.name for f in msgspec.structs.fields(ConfigFile))
    assert covered == [section.key for section in SECTIONS]


def test_every_field_of_every_section_is_a_row_of_its_table() -> None:
    page = configuration_markdown()
    assert page.startswith(HEADER)
    for section in SECTIONS:
        assert f'<a id="{anchor(section.key)}"></a>' in page
        for field in struct_info(section.spec).fields:
            assert f"| `{field.encode_name}` |" in page, (section.key, field.encode_name)
    anchors = [line for line in page.splitlines() if line.startswith("<a id=")]
    assert len(anchors) == len(set(anchors))


def test_the_schema_is_valid_and_judges_files_as_the_loader_does(tmp_path: Path) -> None:
    schema = configuration_schema()
    assert jsonschema_rs.meta.is_valid(schema)
    validator = jsonschema_rs.validator_for(schema)
    good: dict[str, Any] = {
        "agent": {"listen": "127.0.0.1:0", "drain": "1s"},
        "checks": [{"name": "web", "kind": "http", "url": "http://127.0.0.1:1/"}],
        "stats_monitor": False,
        "gpu": {"enabled": "auto", "fatal_xids": [79]},
    }
    bad_files: list[dict[str, Any]] = [
        {"agent": {"listne": "127.0.0.1:0"}},  # unknown key
        {"checks": [{"name": "web", "kind": "gopher"}]},  # not a kind
        {"checks": [{"kind": "http"}]},  # no name
        {"stats_monitor": "on"},  # neither a mapping nor a boolean
        {"service_monitors": [{"component": "kubelet", "enable_repair": "yes please"}]},
    ]
    assert list(validator.iter_errors(good)) == []
    path = tmp_path / "good.yaml"
    path.write_text(yaml.safe_dump(good), encoding="utf-8")
    assert load_config(str(path)).checks is not None
    for bad in bad_files:
        assert list(validator.iter_errors(bad)), bad
    properties = schema["$defs"]["CheckEntry"]["properties"]
    assert properties["timeout"]["description"] == describe(CheckEntry, "timeout")


def test_schema_file_is_plain_json() -> None:
    text = generated_files()["config.schema.json"]
    assert json.loads(text)["title"] == "healthwatch agent configuration"
    assert text.endswith("}\n")


def test_source_notes_read_docstrings_and_comments_but_not_directives() -> None:
    notes = source_notes(Sample)
    assert notes["documented"] == "Said in a docstring, with `code` and a `Thing`."
    assert notes["commented"] == "said in a comment"
    assert "directive" not in notes
    assert "bare" not in notes


def test_a_struct_without_source_has_no_notes() -> None:
    made = msgspec.defstruct("Made", [("x", int)])
    assert source_notes(made) == {}
    assert source_notes(int) == {}


def test_clean_text_makes_one_line_of_markdown() -> None:
    assert clean_text("  ``a``\n   and :func:`b.c`\n") == "`a` and `c`"


def test_audit_names_fields_without_a_description() -> None:
    found = audit([Sample])
    assert any("Sample.bare: no description" in p for p in found)
    assert not any("Sample.documented:" in p for p in found)


def test_types_and_defaults_read_as_people_write_them() -> None:
    links: dict[type, str] = {Sample: "sample"}
    assert type_text(_field(Sample, "wait").type, links) == "duration"
    assert type_text(_field(Sample, "kind").type, links) == "`a` \\| `b`"
    assert type_text(_field(Sample, "shade").type, links) == "`red`"
    assert type_text(_field(Sample, "items").type, links) == "list of strings"
    assert default_text(_field(Sample, "wait")) == "`30s`"
    assert default_text(_field(Sample, "items")) == "`[]`"
    assert default_text(_field(Sample, "needed")) == "**required**"
    assert default_text(_field(Sample, "shade")) == "`red`"
    assert default_text(_field(Sample, "bare")) == "`false`"


def test_anchors_are_plain_ids() -> None:
    assert anchor("checks[].maintenance[]") == "checks-maintenance"
    assert anchor("stats_monitor.thresholds.*") == "stats_monitor-thresholds-each"


def test_the_command_writes_checks_and_prints(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "reference"
    assert main(["--check", str(target)]) == 1
    assert "out of date" in capsys.readouterr().err
    assert main(["--write", str(target)]) == 0
    assert sorted(p.name for p in target.iterdir()) == sorted(generated_files())
    assert stale_files(target) == []
    assert main(["--check", str(target)]) == 0
    (target / "configuration.md").write_text("edited by hand\n", encoding="utf-8")
    assert stale_files(target) == ["configuration.md"]
    capsys.readouterr()
    assert main([]) == 0
    assert capsys.readouterr().out == generated_files()["configuration.md"]
    assert main(["--schema"]) == 0
    assert json.loads(capsys.readouterr().out) == configuration_schema()
    assert [p.name for p in write_files(target)] == list(generated_files())
