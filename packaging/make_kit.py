#!/usr/bin/env python3
"""Make the offline install kit from this checkout (same as `builder kit`).

    python packaging/make_kit.py --out DIR [--bundle PATH | --no-bundle] [--extras serve] [--tar]

Run it on a connected machine with the same OS, CPU architecture and Python
version as the air-gapped laptop. See packaging/README.md.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from builder.commands_kit import kit  # noqa: E402

if __name__ == "__main__":
    import typer

    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.command()(kit)
    from app.errors import BastionError

    try:
        app()
    except BastionError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        sys.exit(1)
