"""The embedded default picks the best kernel log there is, and says why."""

from __future__ import annotations

from pathlib import Path

from healthwatch.problems.logmonitor.defaults import default_kernel_monitor


def test_kmsg_first_when_readable(tmp_path: Path) -> None:
    fake_kmsg = tmp_path / "kmsg"
    fake_kmsg.write_text("")
    config, why = default_kernel_monitor(str(tmp_path), kmsg=str(fake_kmsg))
    assert config is not None
    assert (config.source, config.path) == ("kmsg", str(fake_kmsg))
    assert "readable" in why
    assert "KernelDeadlock" in {c.type for c in config.conditions}


def test_syslog_files_under_the_host_root_in_order(tmp_path: Path) -> None:
    log_dir = tmp_path / "var" / "log"
    log_dir.mkdir(parents=True)
    (log_dir / "syslog").write_text("")
    (log_dir / "messages").write_text("")
    config, why = default_kernel_monitor(str(tmp_path), kmsg=str(tmp_path / "no-kmsg"))
    assert config is not None
    assert (config.source, config.path) == ("file", "/var/log/messages")
    assert str(log_dir / "messages") in why
    line = "Nov 22 00:54:04 node-1 kernel: [  412.312198] EXT4-fs error (device sda1): boom"
    assert config.extract_message(line) == "EXT4-fs error (device sda1): boom"
    assert config.parse_timestamp(line) is not None


def test_nothing_readable_is_said_plainly(tmp_path: Path) -> None:
    config, why = default_kernel_monitor(str(tmp_path), kmsg=str(tmp_path / "no-kmsg"))
    assert config is None
    assert why.startswith("no kernel log is readable") and "/var/log/kern.log" in why
