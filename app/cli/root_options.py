"""What the root `bastion` options set up before any command (read by `main` and the Typer app alike)."""

from __future__ import annotations


def apply_root_options(*, verbose: bool = False, bundle: str | None = None) -> None:
    """What `bastion [-v] [--bundle B]` sets up before any command: logging, the bundle, the network guard."""
    import logging

    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if bundle:
        import os

        os.environ["BASTION_BUNDLE"] = bundle  # the strongest settings source every command reads
    if not verbose:  # library chatter (pypdf's "ignoring wrong pointing object") is not for users
        logging.getLogger("pypdf").setLevel(logging.ERROR)
    from app.flags import env_flag

    if env_flag("BASTION_OFFLINE"):  # true/1/yes/on arm it; a value that is none of those is an error
        from app.netguard import block_network

        block_network()
