"""Noticing changed files by polling: content counts, touches and brief absences do not."""

from __future__ import annotations

import os
from pathlib import Path

from healthwatch.agent_reload import FileWatch
from healthwatch.config.yamlfile import MAX_CONFIG_BYTES


def test_a_content_change_is_reported_once(tmp_path: Path) -> None:
    path = tmp_path / "agent.yaml"
    path.write_text("checks: []\n")
    watch = FileWatch([path, path])
    assert watch.paths == (path,)
    assert watch.changed() == []
    path.write_text("checks: [ ]\n")
    assert watch.changed() == [path]
    assert watch.changed() == []


def test_a_rewrite_with_the_same_bytes_is_no_change(tmp_path: Path) -> None:
    path = tmp_path / "agent.yaml"
    path.write_text("a: 1\n")
    watch = FileWatch([path])
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    replacement = tmp_path / "new.yaml"
    replacement.write_text("a: 1\n")
    assert watch.changed() == []
    replacement.replace(path)  # an atomic replace by an editor or a ConfigMap update
    assert watch.changed() == []


def test_a_missing_file_is_judged_when_it_is_back(tmp_path: Path) -> None:
    path = tmp_path / "agent.yaml"
    path.write_text("a: 1\n")
    watch = FileWatch([path, tmp_path / "never.json"])
    path.unlink()
    assert watch.changed() == []
    path.write_text("a: 1\n")
    assert watch.changed() == []
    path.write_text("a: 2\n")
    assert watch.changed() == [path]


def test_mark_takes_the_files_as_they_are_now(tmp_path: Path) -> None:
    path = tmp_path / "agent.yaml"
    path.write_text("a: 1\n")
    watch = FileWatch([path])
    path.write_text("a: 22\n")
    watch.mark()
    assert watch.changed() == []


def test_a_file_over_the_size_limit_is_not_read_but_still_noticed(tmp_path: Path) -> None:
    path = tmp_path / "agent.yaml"
    path.write_text("a: 1\n")
    watch = FileWatch([path])
    with path.open("ab") as handle:
        handle.truncate(MAX_CONFIG_BYTES + 1)
    assert watch.changed() == [path]  # the reload then rejects it, naming the limit
