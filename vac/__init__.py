"""vac: the vacuum control system's operator suite (core library).

The core owns all policy and all talk to Kafka, Elasticsearch and the local stack. It never
imports the front ends (typer, textual, rich), never prints and never exits: `commands/` and
`tui/` stay thin over it.
"""

from __future__ import annotations

__version__ = "0.1.0"
