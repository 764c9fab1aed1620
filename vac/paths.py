"""Where vac keeps state, caches and user configuration.

Paths come from functions, never from import-time globals. When run as root (the machines
here, and most servers) state and cache live under /var: Elasticsearch refuses to run as
root, so `vac local` runs it as an unprivileged user, and that user must be able to reach
its files, which it cannot inside root's 0700 home.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "vac"


def running_as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def default_state_dir() -> Path:
    # A systemd service with StateDirectory= (`vac service`): the directory systemd made for
    # it, writable although the rest of the system is read-only to the service.
    systemd_state = os.environ.get("STATE_DIRECTORY", "").split(":")[0]
    if systemd_state:
        return Path(systemd_state)
    if running_as_root():
        return Path("/var/lib") / APP_NAME
    return Path(platformdirs.user_state_dir(APP_NAME))


def default_cache_dir() -> Path:
    if running_as_root():
        return Path("/var/cache") / APP_NAME
    return Path(platformdirs.user_cache_dir(APP_NAME))


def user_config_file() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME)) / "vac.yaml"
