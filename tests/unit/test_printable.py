"""Outside text reaches a terminal as text: controls and direction overrides escaped."""

from __future__ import annotations

from vac.printable import printable


def test_controls_and_direction_overrides_are_escaped_and_the_rest_kept() -> None:
    hostile = "a\x1b[2Jb\x1b]8;;http://x\x07c\x9bd\x00e\x7ff\u202eg\u2066h\ti\nj\rk"
    assert printable(hostile) == "a\\x1b[2Jb\\x1b]8;;http://x\\x07c\\x9bd\\x00e\\x7ff\\u202eg\\u2066h\\ti\\nj\\rk"
    kept = "VGPB_1.PR 2.5e-10 mbar é ü ﻣﺮﺣﺒﺎ e\u0301\u0301 [bold]x[/] C:\\WinCC"
    assert printable(kept) == kept


def test_newlines_can_be_kept_and_long_text_is_cut() -> None:
    assert printable("one\x1b\ntwo", keep_newlines=True) == "one\\x1b\ntwo"
    cut = printable("x" * 1_000_000, limit=80)
    assert len(cut) == 80 and cut.endswith("…")
