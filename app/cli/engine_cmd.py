"""`bastion engine status|stop`: the resident engine that keeps the model loaded between commands."""

from __future__ import annotations

import json

import typer

engine_app = typer.Typer(help="Show or stop the resident engine (the model kept loaded between commands).",
                         no_args_is_help=True, rich_markup_mode=None)


def register(cli: typer.Typer) -> None:
    cli.add_typer(engine_app, name="engine")


@engine_app.command("status")
def status(as_json: bool = typer.Option(False, "--json", help="Print the engine's state as JSON.")) -> None:
    """Whether an engine runs for this BASTION_HOME: pid, model, socket, idle timeout."""
    from app.llm.resident.client import engine_status

    hello = engine_status()
    if as_json:
        typer.echo(json.dumps({"running": hello is not None, **(hello or {})}, indent=2))
        return
    if hello is None:
        typer.echo("no resident engine running (the next ask, analyze, UI or serve starts one; "
                   "engine.resident = false turns it off)")
        return
    loaded = f"loaded in {hello['load_seconds']:.1f}s" if hello.get("loaded") and hello.get("load_seconds") else "loading"
    typer.echo(f"resident engine pid {hello['pid']}: {hello['name']} ({loaded}), n_ctx {hello['n_ctx']}, "
               f"exits after {hello['idle_s']:.0f}s idle\n  socket {hello['socket']}")


@engine_app.command("stop")
def stop() -> None:
    """Stop the resident engine (it frees the model's memory; the next command starts a fresh one)."""
    from app.llm.resident.client import stop_engine

    hello = stop_engine()
    typer.echo(f"stopped resident engine pid {hello['pid']}" if hello else "no resident engine running")
