#!/usr/bin/env python3
"""How many DPEs of a WinCC OA streaming config get a ring position from their names, and which
do not (vac.records.positions). Prints a summary, then every name without a position.

    .venv/bin/python scripts/lhc_positions.py [data/winccoa/LHC_KafkaStream.config] [--json]
"""

from __future__ import annotations

import collections
import json
import sys
from pathlib import Path

from vac.records.positions import position_of

DEFAULT = Path(__file__).resolve().parents[1] / "data" / "winccoa" / "LHC_KafkaStream.config"


def main(argv: list[str]) -> int:
    paths = [arg for arg in argv if not arg.startswith("--")]
    path = Path(paths[0]) if paths else DEFAULT
    names = [entry["sourceDPE"] for entry in json.loads(path.read_bytes()) if isinstance(entry, dict)]
    positions = {name: position_of(name) for name in names}
    unplaced = sorted(name for name, position in positions.items() if position is None)
    placed = [position for position in positions.values() if position is not None]
    summary = {
        "dpes": len(names),
        "placed": len(placed),
        "unplaced": len(unplaced),
        "by_sector": dict(sorted(collections.Counter(p.sector for p in placed).items())),
        "by_mainpart": dict(sorted(collections.Counter(p.mainpart for p in placed).items())),
    }
    if "--json" in argv:
        print(json.dumps({**summary, "unplaced_names": unplaced}, indent=1))
        return 0
    print(f"{path}: {summary['placed']:,} of {summary['dpes']:,} DPEs placed, {summary['unplaced']:,} not")
    print("by sector:  ", "  ".join(f"{k} {v}" for k, v in summary["by_sector"].items()))
    print("by mainpart:", "  ".join(f"{k} {v}" for k, v in summary["by_mainpart"].items()))
    print("without a position:")
    for name in unplaced:
        print(" ", name)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
