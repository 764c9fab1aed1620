"""The `vac` console script. `vac --version` is answered here, before typer and the CLI load:
it needs nothing else, and scripts and shells ask it often."""

from __future__ import annotations

import sys


def entry_point() -> None:
    if sys.argv[1:] == ["--version"]:
        from vac import __version__

        sys.stdout.write(f"vac {__version__}\n")
        return
    from commands.main import run

    sys.exit(run())
