"""PNG plots of probe runs: latency by percentile for each run and, for a sweep, latency
against rate beside the means the 2020 thesis measured for its two designs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vac.errors import UsageError
from vac.probe.stats import RunResult

# ../shared/CONTEXT.md: mean delay (ms) at 50 / 500 / 5,000 / 10,000 msg/s, one consumer.
THESIS_RATES = (50, 500, 5_000, 10_000)
THESIS_MEANS_MS = {
    "WinCC OA Kafka driver (thesis, mean)": (1_001, 1_269, 3_619, 4_888),
    "WinCC OA CTRL extension (thesis, mean)": (770, 1_236, 2_211, 3_080),
}


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise UsageError("--plot needs matplotlib", hint="pip install matplotlib") from None
    return plt


def write_plot(results: list[RunResult], target: Path) -> None:
    plt = _pyplot()
    sweep = len(results) > 1
    figure, axes = plt.subplots(1, 2 if sweep else 1, figsize=(13 if sweep else 7, 5), squeeze=False)
    curves = axes[0][0]
    for result in results:
        points = [(p, ms) for p, ms in result.percentile_curve if p < 100.0]
        if not points:
            continue
        # x: 1 / (1 - p): the tail spreads out, as in HdrHistogram's own plots.
        label = f"{result.requested_rate:,.0f}/s" + ("" if result.invalid_reason is None else " (invalid)")
        curves.plot([1 / (1 - p / 100) for p, _ in points], [ms for _, ms in points], marker=".", label=label)
    ticks = [50, 90, 99, 99.9, 99.99, 99.999]
    curves.set_xscale("log")
    curves.set_xticks([1 / (1 - p / 100) for p in ticks], [f"{p:g}%" for p in ticks])
    curves.set_yscale("log")
    curves.set_xlabel("percentile")
    curves.set_ylabel("latency (ms)")
    curves.set_title(f"vac probe latency --path {results[0].path}: latency by percentile")
    curves.grid(True, which="both", alpha=0.3)
    curves.legend()
    if sweep:
        by_rate = axes[0][1]
        rates = [r.requested_rate for r in results]
        for name, style in (("mean", "o-"), ("p50", "s-"), ("p99", "^-"), ("max", "v:")):
            by_rate.plot(rates, [r.latency_ms[name] for r in results], style, label=f"vac {name}")
        for label, means in THESIS_MEANS_MS.items():
            by_rate.plot(THESIS_RATES, means, "x--", label=label)
        by_rate.set_xscale("log")
        by_rate.set_yscale("log")
        by_rate.set_xlabel("rate (messages/s)")
        by_rate.set_ylabel("latency (ms)")
        by_rate.set_title("latency against rate: vac beside the thesis's two designs")
        by_rate.grid(True, which="both", alpha=0.3)
        by_rate.legend(fontsize="small")
    figure.tight_layout()
    figure.savefig(target, dpi=110)
    plt.close(figure)
