"""The configuration reference, generated from the config types so that it cannot drift.

``docs/reference/configuration.md`` (a table per section and nested mapping:
field, type, default, meaning) and ``docs/reference/config.schema.json`` (the
JSON Schema of the agent's file, for editors) are built from the ``msgspec``
structs the loaders convert the file into. Types and defaults come from
``msgspec.inspect`` and ``msgspec.json.schema``. Field texts come from the
source: attribute docstrings and line comments are not kept at run time, so the
declaring module is parsed with :mod:`ast`; fields documented nowhere in the
source take their text from this package's own tables (``texts_agent``,
``texts_problems``), which the test suite keeps exact (see :func:`audit`).

Regenerate with ``python -m healthwatch.reference --write``; the test
``tests/unit/test_reference.py`` fails when the committed files differ.
"""

from __future__ import annotations

from healthwatch.reference.descriptions import audit, describe
from healthwatch.reference.files import OUTPUTS, generated_files, stale_files, write_files
from healthwatch.reference.markdown import configuration_markdown
from healthwatch.reference.schema import configuration_schema, schema_text
from healthwatch.reference.sections import SECTIONS, Section, agent_file_type

__all__ = [
    "OUTPUTS",
    "SECTIONS",
    "Section",
    "agent_file_type",
    "audit",
    "configuration_markdown",
    "configuration_schema",
    "describe",
    "generated_files",
    "schema_text",
    "stale_files",
    "write_files",
]
