"""``python -m healthwatch.reference``: print, write or check the configuration reference.

- no arguments: the Markdown page on standard output
  (``python -m healthwatch.reference > docs/reference/configuration.md``);
- ``--schema``: the JSON Schema on standard output;
- ``--write [DIR]``: both files into DIR (default ``docs/reference``);
- ``--check [DIR]``: exit 1, naming the files, when those in DIR are not current.

Exit status 2 when the reference is incomplete (a field without a description).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from healthwatch.reference.descriptions import audit
from healthwatch.reference.files import DEFAULT_DIRECTORY, generated_files, stale_files, write_files
from healthwatch.reference.sections import SECTIONS

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Run the command; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m healthwatch.reference", description=__doc__.splitlines()[0]
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--schema", action="store_true", help="print the JSON Schema instead")
    mode.add_argument("--write", nargs="?", const=DEFAULT_DIRECTORY, type=Path, metavar="DIR")
    mode.add_argument("--check", nargs="?", const=DEFAULT_DIRECTORY, type=Path, metavar="DIR")
    args = parser.parse_args(argv)
    problems = audit([section.spec for section in SECTIONS])
    if problems:
        for problem in problems:
            print(f"error: {problem}", file=sys.stderr)
        return 2
    if args.write is not None:
        for path in write_files(args.write):
            print(f"wrote {path}", file=sys.stderr)
        return 0
    if args.check is not None:
        stale = stale_files(args.check)
        for name in stale:
            print(
                f"{args.check / name} is out of date; run: python -m healthwatch.reference --write",
                file=sys.stderr,
            )
        return 1 if stale else 0
    files = generated_files()
    sys.stdout.write(files["config.schema.json" if args.schema else "configuration.md"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
