"""Typed configuration: loaders, validation and the parsers of durations and addresses.

Config is parsed once, at the edge, into frozen objects; every error names the
file (or flag), the line, the field and the bad value.
"""

from healthwatch.config.addresses import ListenAddress, parse_listen
from healthwatch.config.agent import AgentConfig, ConfigFile, default_state_dir, load_config
from healthwatch.config.durations import format_duration, parse_duration

__all__ = [
    "AgentConfig",
    "ConfigFile",
    "ListenAddress",
    "default_state_dir",
    "format_duration",
    "load_config",
    "parse_duration",
    "parse_listen",
]
