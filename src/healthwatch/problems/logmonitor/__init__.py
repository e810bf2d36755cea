"""The log monitor: kernel and system logs, matched against rules, into events and conditions."""
