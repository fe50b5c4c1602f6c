"""The error boundary both console scripts (bastion, builder) share: user-fixable errors are one message, exit 1."""

from __future__ import annotations

import sys
from typing import Callable


def run_guarded(main: Callable[[], object]) -> None:
    """Call `main`; `BastionError` and pydantic's ValidationError print `Error: …` and exit 1.

    Anything else is a bug and keeps its traceback. pydantic is not imported here (it costs ~30 ms
    on every start, `--help` included): an error can only be its ValidationError once it is loaded.
    """
    from app.errors import BastionError

    try:
        main()
    except BastionError as exc:
        _say(f"Error: {exc}")
        sys.exit(1)
    except Exception as exc:
        pydantic = sys.modules.get("pydantic")
        if pydantic is None or not isinstance(exc, pydantic.ValidationError):
            raise
        _say(f"Error: invalid input: {exc}")
        sys.exit(1)
    except KeyboardInterrupt:
        _say("Interrupted.")
        sys.exit(130)


def _say(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()
