"""One log record over the log screen: the whole of it, with its continuation lines, between
its neighbours in its file."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, cast

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.widgets import DETAIL_CHARS, LEVEL_STYLES, lines
from vac.printable import printable

if TYPE_CHECKING:
    from tui.app import VacDash


class LogDetail(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,enter", "dismiss", "Close", id="detail.close")]

    def __init__(self, doc: dict[str, Any]) -> None:
        super().__init__()
        self.doc = doc

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="detail"):
            yield Static(id="record")
            yield Static("Esc closes", classes="hint")

    def on_mount(self) -> None:
        before, after = cast("VacDash", self.app).state.logs.neighbours(self.doc)
        text = Text()
        for doc in before:
            text.append(lines(doc.get("message", "")) + "\n", style="dim")
        text.append(
            lines(self.doc.get("message", "")) + "\n", style="bold " + LEVEL_STYLES.get(str(self.doc.get("level")), "")
        )
        for doc in after:
            text.append(lines(doc.get("message", "")) + "\n", style="dim")
        fields = {k: v for k, v in self.doc.items() if k != "message"}
        text.append("\n" + "\n".join(printable(f"{k}: {v}", DETAIL_CHARS) for k, v in fields.items()))
        self.query_one("#record", Static).update(text)
