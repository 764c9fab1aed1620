"""PNG charts of `vac scada history --plot` and `vac scada profile --plot`: pressures on a log
axis (decades), clock time or DCUM on x."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vac.errors import UsageError
from vac.search.scada_history import HistoryPoint, ProfilePoint
from vac.timegrammar import parse_iso_utc


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise UsageError("--plot needs matplotlib", hint="pip install matplotlib") from None
    return plt


def plot_history(dpe: str, points: list[HistoryPoint], target: Path, log_y: bool) -> None:
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(10, 4.5))
    shown = [(parse_iso_utc(p.at), p.value) for p in points if p.value is not None]
    axes.step([t for t, _ in shown], [v for _, v in shown], where="post", marker=".", markersize=3)
    if log_y and all(v > 0 for _, v in shown):
        axes.set_yscale("log")
    axes.set_xlabel("source time (UTC)")
    axes.set_ylabel("value (mbar)" if dpe.endswith(".PR") else "value")
    axes.set_title(f"{dpe}: {len(shown):,} changes")
    axes.grid(True, which="both", alpha=0.3)
    figure.autofmt_xdate()
    figure.tight_layout()
    figure.savefig(target, dpi=110)
    plt.close(figure)


def plot_profile(title: str, points: list[ProfilePoint], target: Path) -> None:
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(12, 4.5))
    shown = [p for p in points if p.value > 0]
    axes.scatter([p.dcum for p in shown], [p.value for p in shown], s=6)
    axes.set_yscale("log")
    axes.set_xlabel("DCUM (m)")
    axes.set_ylabel("pressure (mbar)")
    axes.set_title(title)
    axes.grid(True, which="both", alpha=0.3)
    figure.tight_layout()
    figure.savefig(target, dpi=110)
    plt.close(figure)
