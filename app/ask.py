"""One question, one answer: the library behind `bastion ask` (no UI here).

With knowledge on (the default) the answer is grounded in the bundle's index plus
the user's knowledge bases (or only the ones named in `kbs`) and cites them as
[n], every citation checked against its source (`app.knowledge.answer`); with
nothing relevant found it says so. Without any index (or with
`use_knowledge=False`) it answers plainly. Warnings (`extractive`, `uncited`,
`citations-removed`, `truncated`, `loop-stopped`) and the finish reason are part
of the result.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Callable

from app.chat import build_messages
from app.errors import BundleError
from app.prompts import context_tokens_for, load_prompts
from app.runtime import make_embedder, make_engine, open_bundle
from app.settings import Settings

log = logging.getLogger(__name__)


def run_ask(
    question: str,
    *,
    settings: Settings,
    max_tokens: int | None = None,
    use_knowledge: bool = True,
    on_piece: Callable[[str], None] | None = None,
    kbs: list[str] | None = None,
    on_status: Callable[[str], None] | None = None,
) -> dict:
    """Answer `question` from the configured bundle; stream pieces to `on_piece`.

    `kbs` names the knowledge bases to search ("bundle" = the bundle's own index);
    None searches what the settings say. `on_status` gets a line per slow step before the first
    piece (loading the model, searching, reading the sources into the model). Returns a JSON-ready dict: question,
    answer, sources (the supported citations: n, path, heading, lines, score, kb,
    spans, sentences), retrieved (every source given to the model), source_lines
    (ready to print), warnings ("code: message" strings), finish_reason, extractive,
    citations_removed, model, bundle, timings.
    """
    bundle = open_bundle(settings) if settings.engine.kind == "local" else _maybe_bundle(settings)
    engine = make_engine(settings, bundle, prompt_cache="disk")  # a repeated question skips its prefill
    prompts = load_prompts(bundle.prompts_path if bundle else None)
    status = on_status or (lambda line: None)
    if hasattr(engine, "load"):  # a remote engine has nothing to load
        status(f"loading model {engine.name} …")
        engine.load()
        status(f"model loaded in {engine.load_seconds or 0:.1f}s")
    retriever, warnings = _retriever(settings, bundle, kbs) if use_knowledge else (None, [])
    try:
        if retriever is None:
            gen = engine.chat(build_messages(question, system=prompts.chat_system), max_tokens=max_tokens)
            hits, citations = [], []
        else:
            from app.knowledge import answer

            status("searching knowledge …")
            gen = answer(question, engine=engine, retriever=retriever, system=prompts.chat_system,
                         max_tokens=max_tokens, k=settings.retrieval.k,
                         context_tokens=context_tokens_for(prompts, settings))
        stats = getattr(gen, "stats", None)
        read = f"{len(gen.hits)} source(s), " if retriever is not None else ""
        status(f"reading {read}{stats.prompt_tokens if stats else '?'} prompt tokens …")
        for piece in gen:
            if on_piece:
                on_piece(piece)
        if retriever is not None:
            hits, citations = gen.hits, gen.citations
    finally:
        if retriever is not None:
            retriever.close()
    sources = [{**_source(c.n, c.hit), "spans": c.spans, "sentences": c.sentences} for c in citations]
    retrieved = [_source(n, h) for n, h in enumerate(hits, 1)]
    warnings = warnings + list(gen.stats.warnings)
    return {
        "question": question,
        "answer": gen.text,
        "sources": sources,
        "retrieved": retrieved,
        "source_lines": _source_lines(sources, retrieved, grounded=retriever is not None, warnings=warnings),
        "warnings": warnings,
        "finish_reason": gen.stats.finish_reason,
        "extractive": bool(getattr(gen, "extractive", False)),
        "citations_removed": int(getattr(gen, "removed_citations", 0)),
        # each shown sentence with its status: supported (cited and checked) / unsupported (marked inline) / quoted
        "sentences": list(getattr(gen, "shown_sentences", [])),
        "model": engine.name,
        "bundle": str(bundle.root) if bundle else None,
        "timings": asdict(gen.stats),
    }


def _retriever(settings: Settings, bundle, names: list[str] | None = None):
    """A Retriever over the bundle index + user KBs, or (None, warnings) when there is nothing to search."""
    if bundle is None:
        return None, []
    embedder = make_embedder(settings, bundle)
    if embedder is None:
        return None, [f"bundle {bundle.root} has no embedder: answering without knowledge"]
    from app.knowledge import Retriever, open_knowledge

    from app.knowledge.registry import BUNDLE_COLLECTION, open_bundle_index

    if names:
        user = [n for n in dict.fromkeys(names) if n != BUNDLE_COLLECTION]
        if user:
            kbs, warnings = open_knowledge(settings, bundle, embedder, names=user, use_bundle=BUNDLE_COLLECTION in names)
        else:
            kb = open_bundle_index(bundle, fingerprint=embedder.fingerprint)
            kbs, warnings = ([kb] if kb is not None else []), []
    else:
        kbs, warnings = open_knowledge(settings, bundle, embedder)
    if not kbs:
        return None, warnings + ["no knowledge index (bundle or `bastion ingest`): answering without sources"]
    from app.knowledge.cross_encoder import bundle_reranker

    return Retriever(kbs, embedder=embedder, min_score=settings.retrieval.min_score or None,
                     reranker=bundle_reranker(bundle)), warnings


def _source(n: int, hit) -> dict:
    return {"n": n, "path": hit.source, "heading": hit.heading, "lines": hit.lines,
            "start_line": hit.start_line, "end_line": hit.end_line, "score": hit.score, "kb": hit.kb,
            "flags": list(hit.flags)}


def _source_lines(sources: list[dict], retrieved: list[dict], *, grounded: bool, warnings: list[str]) -> list[str]:
    lines = [f"Warning: {w}" for w in warnings]
    fmt = lambda s: f"[{s['n']}] {s['path']}{' › ' + s['heading'] if s['heading'] else ''} (lines {s['lines']}) score {s['score']:.2f}"  # noqa: E731
    if sources:
        lines.append("Sources (each supports the sentences that cite it):")
        for s in sources:
            lines.append("  " + fmt(s))
            for span in s.get("spans", [])[:1]:
                span = " ".join(span.split())
                lines.append(f"      \u201c{span[:160]}{'…' if len(span) > 160 else ''}\u201d")
    elif retrieved:
        lines.append("Retrieved (no sentence of the answer is supported by them):")
        lines.extend("  " + fmt(s) for s in retrieved)
    elif grounded:
        lines.append("Sources: none relevant found.")
    return lines


def _maybe_bundle(settings: Settings):
    try:
        return open_bundle(settings)
    except BundleError:
        return None
