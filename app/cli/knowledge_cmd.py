"""`bastion ingest`, `bastion search` and `bastion kb list|remove`: knowledge bases from the shell."""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer

DEFAULT_KB = "default"

kb_app = typer.Typer(help="Manage your knowledge bases.", no_args_is_help=True)


def register(cli: typer.Typer) -> None:
    cli.command("ingest")(ingest_cmd)
    cli.command("search")(search_cmd)
    cli.add_typer(kb_app, name="kb")


def _embedder(bundle: Optional[Path]):
    from app.errors import BundleError
    from app.runtime import make_embedder, open_bundle
    from app.settings import load_settings

    settings = load_settings(**({"bundle": bundle} if bundle else {}))
    b = open_bundle(settings)
    emb = make_embedder(settings, b)
    if emb is None:
        raise BundleError(f"bundle {b.root} has no embedder, so it cannot index or search documents",
                          hint="use a bundle with an embedder (the starter bundle has one)")
    return settings, b, emb


def ingest_cmd(
    paths: List[Path] = typer.Argument(..., help="Files or folders to add or sync."),
    kb: str = typer.Option(DEFAULT_KB, "--kb", help="Knowledge base to sync into (created if new)."),
    as_json: bool = typer.Option(False, "--json", help="Print the ingest report as JSON."),
    bundle: Optional[Path] = typer.Option(None, "--bundle", help="Bundle whose embedder indexes the documents."),
    max_file_mb: Optional[float] = typer.Option(
        None, "--max-file-mb", min=0.001,
        help="Skip files larger than this many MB (default: setting retrieval.max_file_mb, else 10 MB text, 100 MB PDF)."),
) -> None:
    """Add new files, re-embed changed ones, remove deleted ones; safe to interrupt and re-run."""
    import threading

    from app.errors import BastionError
    from app.knowledge import KnowledgeBase, ingest, list_knowledge_bases

    missing = [p for p in paths if not p.expanduser().exists()]
    if missing:
        raise BastionError(f"{', '.join(str(p) for p in missing)}: no such file or folder; nothing was ingested",
                           hint="check the path (`ls` it), then run `bastion ingest PATH` again")
    settings, _b, emb = _embedder(bundle)
    url = settings.retrieval.chroma_url
    limit_mb = max_file_mb or settings.retrieval.max_file_mb
    existed = any(i.name == kb for i in list_knowledge_bases(url=url))
    base = KnowledgeBase.open_user(kb, fingerprint=emb.fingerprint, dim=None, create=True, url=url)
    cancel = threading.Event()
    max_bytes = int(limit_mb * 1_000_000) if limit_mb else None
    try:
        if as_json:
            report = ingest(paths, kb=base, embedder=emb, cancel=cancel, max_file_bytes=max_bytes)
        else:
            report = _ingest_with_bar(paths, base, emb, cancel, max_bytes)
    except KeyboardInterrupt:
        typer.echo("Interrupted: finished files are kept; run the same command again to resume.", err=True)
        raise typer.Exit(130)
    finally:
        base.close()
    useless = not (report.added or report.updated or report.unchanged or report.removed)
    if useless and not existed:  # do not leave an empty knowledge base behind
        from app.knowledge import remove_knowledge_base

        remove_knowledge_base(kb, url=url)
    if as_json:
        typer.echo(json.dumps(report.as_dict(), indent=2, ensure_ascii=False))
    else:
        typer.echo(f"{kb}: {report.summary()}")
        for path, reason in report.skipped:
            typer.echo(f"  skipped {path}: {reason}")
        for path, n in report.repeats:
            typer.echo(f"  {path}: {n} repeated chunk(s) indexed once")
    if useless and not report.cancelled:
        why = f"all {len(report.skipped)} file(s) were skipped (reasons above)" if report.skipped else "no files found"
        raise BastionError(f"nothing was ingested into {kb!r}: {why}",
                           hint="give files Bastion can read (text, Markdown, code, HTML, PDF, JSON)")


def _ingest_with_bar(paths, base, emb, cancel, max_file_bytes):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from app.knowledge import ingest

    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("files · {task.fields[chunks]} chunks · {task.fields[rate]:.1f} chunks/s"),
                  TimeElapsedColumn(), transient=False) as bar:
        task = bar.add_task("ingest", total=None, chunks=0, rate=0.0)

        def on_progress(p) -> None:
            bar.update(task, completed=p.files_done, total=p.files_total, chunks=p.chunks, rate=p.chunks_per_s)

        return ingest(paths, kb=base, embedder=emb, progress=on_progress, cancel=cancel, max_file_bytes=max_file_bytes)


def search_cmd(
    query: str = typer.Argument(..., help="What to look for."),
    k: int = typer.Option(5, "-k", "--k", min=1, max=100, help="How many chunks to show."),
    as_json: bool = typer.Option(False, "--json", help="Print hits as JSON."),
    kb: Optional[List[str]] = typer.Option(None, "--kb", help="Search only these knowledge bases (repeatable)."),
    mode: str = typer.Option("hybrid", "--mode", help="hybrid, dense or lexical."),
    no_bundle: bool = typer.Option(False, "--no-bundle", help="Leave out the bundle's own index."),
    bundle: Optional[Path] = typer.Option(None, "--bundle", help="Bundle directory."),
) -> None:
    """Show the ranked chunks a question retrieves, with scores and sources."""
    from app.errors import BastionError
    from app.knowledge import Retriever, open_knowledge
    from app.terminal_text import printable

    if mode not in ("hybrid", "dense", "lexical"):
        raise BastionError(f"--mode {mode!r} is not one of hybrid, dense, lexical", hint="use --mode hybrid")
    settings, b, emb = _embedder(bundle)
    kbs, warnings = open_knowledge(settings, b, emb, names=kb or None, use_bundle=False if (no_bundle or kb) else None)
    for w in warnings:
        typer.echo(f"Warning: {w}", err=True)
    if not kbs:
        raise BastionError("there is no knowledge index to search",
                           hint="add documents with `bastion ingest PATH`, or use a bundle with an index")
    from app.knowledge.cross_encoder import bundle_reranker

    retriever = Retriever(kbs, embedder=emb, min_score=settings.retrieval.min_score or None, reranker=bundle_reranker(b))
    try:
        hits = retriever.search(query, k=k, mode=mode)  # type: ignore[arg-type]
    finally:
        retriever.close()
    if as_json:
        typer.echo(json.dumps({"query": query, "mode": mode, "hits": [h.as_dict() for h in hits]}, indent=2, ensure_ascii=False))
        return
    if not hits:
        typer.echo("Nothing relevant found.")
        return
    for n, h in enumerate(hits, 1):
        dense = f"{h.dense:.2f}" if h.dense is not None else "-"
        lex = f"{h.lexical:.1f}" if h.lexical is not None else "-"
        typer.echo(f"[{n}] {h.score:.3f}  {printable(h.label())}  [{h.kb}; cos {dense}, bm25 {lex}; {'+'.join(h.found_by)}]")
        snippet = " ".join(printable(h.text).split())  # document text: no terminal escapes
        typer.echo(f"     {snippet[:240]}{'…' if len(snippet) > 240 else ''}")


@kb_app.command("list")
def kb_list(as_json: bool = typer.Option(False, "--json", help="Print as JSON.")) -> None:
    """List your knowledge bases with their size."""
    from app.knowledge import list_knowledge_bases
    from app.settings import load_settings

    infos = list_knowledge_bases(url=load_settings().retrieval.chroma_url)
    if as_json:
        typer.echo(json.dumps([i.as_dict() for i in infos], indent=2))
        return
    if not infos:
        typer.echo("No knowledge bases yet: add documents with `bastion ingest PATH [--kb NAME]`.")
        return
    for i in infos:
        if i.error:  # listed so it can be removed; skipped by search and ask
            typer.echo(f"{i.name}\t{i.error}; skipped (remove it with `bastion kb remove {i.name}`)\t{i.location}")
            continue
        typer.echo(f"{i.name}\t{i.files} files\t{i.chunks} chunks\tembedder {i.embedder[:12]}\t{i.location}")


@kb_app.command("remove")
def kb_remove(
    name: str = typer.Argument(..., help="Knowledge base to delete."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Delete a knowledge base (your files are not touched)."""
    from app.errors import BastionError
    from app.knowledge import list_knowledge_bases, remove_knowledge_base
    from app.settings import load_settings

    url = load_settings().retrieval.chroma_url
    names = [i.name for i in list_knowledge_bases(url=url)]
    if name not in names:
        raise BastionError(f"no knowledge base named {name!r}",
                           hint=f"known: {', '.join(names)}" if names else "there are none yet; see `bastion kb list`")
    if not yes:
        typer.confirm(f"Delete knowledge base {name!r}? Your documents stay where they are.", abort=True)
    remove_knowledge_base(name, url=url)
    typer.echo(f"Removed knowledge base {name!r}.")
