"""vac.heap: the dashboard's hand-back of freed memory works on glibc and does nothing elsewhere."""

from __future__ import annotations

import platform

import pytest

from vac import heap


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's malloc only")
def test_on_glibc_the_freed_heap_goes_back_and_the_arenas_are_bounded() -> None:
    garbage = [bytearray(200_000) for _ in range(200)]  # 40 MB from malloc, then freed
    del garbage
    assert heap.limit_arenas(2) is True
    assert isinstance(heap.trim(), bool)  # True when pages went back; never an exception


def test_without_glibc_both_calls_do_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    heap._libc.cache_clear()
    monkeypatch.setattr(heap.ctypes.util, "find_library", lambda name: None)
    try:
        assert heap.limit_arenas() is False
        assert heap.trim() is False
    finally:
        heap._libc.cache_clear()  # the next caller finds the real one again
