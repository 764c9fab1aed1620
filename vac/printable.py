"""Outside text made safe to show to a person: the one helper every human renderer (the
tail's pretty and table lines, the query table, the dashboard, error messages) passes data
through before it reaches a terminal.

Anyone who can write to a topic or a log file chooses these bytes. Raw, an ESC starts a
terminal command (move the cursor, retitle the window, rewrite what is on screen, OSC 8
links), BEL rings, C1 codes act as ESC on some terminals and bidi overrides reverse what a
line appears to say. So they are shown as escapes (`\\x1b`, `\\u202e`) that a person can
read and report. Machine outputs (JSON, jsonl, raw) do not use this: JSON escapes controls
itself, and raw is for pipes.
"""

from __future__ import annotations

import re

# C0 controls, DEL, C1 controls, and the invisible direction marks, embeddings, overrides and
# isolates (Trojan Source: https://trojansource.codes).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_UNSAFE_BUT_NEWLINE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_SHORT = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}
ELLIPSIS = "…"


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    short = _SHORT.get(char)
    if short is not None:
        return short
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str, limit: int | None = None, keep_newlines: bool = False) -> str:
    """`text` with every control and direction character written as an escape; cut to
    `limit` characters (with an ellipsis) first when given, so a 1 MB value costs what a
    screen shows. `keep_newlines`: for views that show a record's lines as lines."""
    if limit is not None and len(text) > limit:
        text = text[: max(limit - 1, 0)] + ELLIPSIS
    unsafe = _UNSAFE_BUT_NEWLINE if keep_newlines else _UNSAFE
    return unsafe.sub(_escape, text)
