"""vac's WinCC OA log parser in compiled code (see native/src/lib.rs)."""

from collections.abc import Callable

MAX_LINE_PIECE: int

Document = tuple[int, int, str, list[str] | None, bytes]
"""(end, offset, @timestamp, tags or None, JSON of the document)."""

class WinccoaDocuments:
    def __init__(
        self,
        utc_second: Callable[[str], str | None],
        max_lines: int,
        max_bytes: int,
        fields_json: bytes,
        host_json: bytes,
        file_json: bytes,
        key: str,
    ) -> None: ...
    def feed(self, buffer: bytes, base: int, last: bool, ingested: str) -> tuple[list[Document], int, int]: ...
    def flush(self, ingested: str) -> list[Document]: ...
    @property
    def pending_offset(self) -> int | None: ...
