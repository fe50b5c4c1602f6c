"""Grounded answers on material nobody here wrote: the OWASP WSTG question set.

    nice -n 10 .venv/bin/python bench/eval_answers.py index --bundle DIR   (build/resume the full index, writes CACHE.READY)
    .venv/bin/python bench/eval_answers.py retrieval [--split test|tune|all] [--bundle DIR] [--json]
    .venv/bin/python bench/eval_answers.py answers   [--split test] [--llm GGUF] [--bundle DIR] [--limit N] [--show]

Question set: bench/data/wstg_questions.jsonl (written before tuning): id, lang,
question, files (answering file names), phrase (text the answering chunk holds),
off_topic. Split: sha1(id) odd -> test, even -> tune (deterministic).

The corpus (../shared/devsets/knowledge/wstg/document, or BASTION_WSTG) is ingested
with the bundle's embedder into a knowledge base cached under
BASTION_BENCH_CACHE (default /work/cache/wstg-index), keyed by the embedder
fingerprint; later runs only re-check file hashes.

retrieval: for each variant (naive RRF = no glossary, no second stage; full =
the shipped retriever), context-hit@4 (a top-4 chunk after the floor comes from an
answering file and holds the phrase), file-hit@5 (an answering file in the top 5),
refused (off-topic: nothing passes the floor), per language.

answers: the bundle's chat model (or --llm / BASTION_BENCH_LLM, e.g. the
yardstick) answers every question through `app.knowledge.answer`; per answer:
has >= 1 supported citation, unsupported citations left (0 by construction),
citations the model wrote that were removed, extractive, loop-stopped,
finish_reason, seconds. The same prompt is also sent through a bare
llama-cpp-python `create_chat_completion` (llama.cpp default sampling) for the
median time comparison and to count how often the bare model loops.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
if "--prompt-lookup" not in sys.argv:  # timing decoding: llama.cpp's threads as the app runs them (no policy set)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

QUESTIONS = ROOT / "bench/data/wstg_questions.jsonl"
CORPUS = Path(os.environ.get("BASTION_WSTG", ROOT.parent / "shared/devsets/knowledge/wstg/document"))
CACHE = Path(os.environ.get("BASTION_BENCH_CACHE", "/work/cache/wstg-index"))


def split_of(qid: str) -> str:
    """sha1(id) odd -> test: the one rule, shared with the builder's held-out eval."""
    from builder.eval_questions import split_of as rule

    return rule(qid)


def load_questions(split: str) -> list[dict]:
    rows = [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    for r in rows:
        r["split"] = split_of(r["id"])
    return [r for r in rows if split == "all" or r["split"] == split]


def open_bundle_parts(bundle_dir: Path | None):
    from app.bundle import load_bundle
    from app.runtime import make_embedder
    from app.settings import load_settings

    settings = load_settings(**({"bundle": bundle_dir} if bundle_dir else {}))
    bundle = load_bundle(settings.bundle_path())
    return settings, bundle, make_embedder(settings, bundle)


def wstg_kb(embedder, *, sync: bool = True, report: list | None = None):
    """The WSTG knowledge base for this embedder (ingested once, then only re-checked; `sync=False`: as it is).

    `report`: a list that receives the IngestReport when synced."""
    from app.knowledge import KnowledgeBase, ingest

    if not CORPUS.is_dir():
        raise SystemExit(f"WSTG corpus not found at {CORPUS} (set BASTION_WSTG)")
    import fcntl

    path = CACHE / embedder.fingerprint[:16]
    path.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    with open(path.with_suffix(".lock"), "w") as lock:  # one ingest at a time; others wait, then only re-check
        fcntl.flock(lock, fcntl.LOCK_EX)
        kb = KnowledgeBase(path, name="wstg", fingerprint=embedder.fingerprint)
        rep = ingest([CORPUS], kb=kb, embedder=embedder, base=CORPUS) if sync else None
        added = len(rep.added) if rep else 0
        if report is not None and rep:
            report.append(rep)
    print(f"# index {path}: {kb.count()} chunks ({added} files added, {time.perf_counter() - t0:.1f}s)", file=sys.stderr)
    return kb


def indexed_files(kb) -> set[str]:
    """File names whose every chunk is in the index."""
    return {Path(src).name for src, st in kb.file_states().items() if st.complete}


def context_hit(hits, q: dict, k: int = 4) -> bool:
    phrase = q["phrase"].lower()
    return any(Path(h.source).name in q["files"] and phrase in f"{h.heading}\n{h.text}".lower() for h in hits[:k])


def file_hit(hits, q: dict, k: int = 5) -> bool:
    return any(Path(h.source).name in q["files"] for h in hits[:k])


def eval_retrieval(retriever, questions: list[dict], *, show: bool = False) -> dict:
    rows = []
    for q in questions:
        hits = retriever.search(q["question"], k=5)
        if q.get("off_topic"):
            rows.append({"lang": q["lang"], "off_topic": True, "refused": not hits})
            if show and hits:
                print(f"  NOT REFUSED {q['id']}: {[h.source for h in hits[:2]]}")
            continue
        r = {"lang": q["lang"], "off_topic": False, "ctx": context_hit(hits, q), "file": file_hit(hits, q)}
        rows.append(r)
        if show and not (r["ctx"] and r["file"]):
            print(f"  MISS {q['id']} ctx={r['ctx']} file={r['file']}: " +
                  "; ".join(f"{Path(h.source).name}›{h.heading[-30:]}" for h in hits[:5]))
    return summarize(rows)


def summarize(rows: list[dict]) -> dict:
    def agg(rs):
        ans = [r for r in rs if not r["off_topic"]]
        off = [r for r in rs if r["off_topic"]]
        return {"questions": len(ans), "context_hit@4": round(sum(r["ctx"] for r in ans) / len(ans), 3) if ans else None,
                "file_hit@5": round(sum(r["file"] for r in ans) / len(ans), 3) if ans else None,
                "off_topic": len(off), "refused": sum(r["refused"] for r in off)}
    out = agg(rows)
    out["by_lang"] = {lang: agg([r for r in rows if r["lang"] == lang]) for lang in sorted({r["lang"] for r in rows})}
    return out


def cmd_retrieval(args) -> int:
    from app.knowledge import Retriever

    settings, bundle, emb = open_bundle_parts(args.bundle)
    kb = wstg_kb(emb, sync=not args.no_sync)
    questions = load_questions(args.split)
    have = indexed_files(kb)
    missing = [q["id"] for q in questions if q["files"] and not set(q["files"]) & have]
    if missing:
        print(f"# PARTIAL INDEX: {len(have)} files indexed; {len(missing)} questions skipped (answering file not "
              f"indexed yet): {missing}", file=sys.stderr)
        questions = [q for q in questions if q["id"] not in missing]
    report = {}
    for name, kw in (("naive-rrf", {"expand": False, "second_stage": False}),
                     ("glossary", {"expand": True, "second_stage": False}),
                     ("full", {})):
        r = Retriever([kb], embedder=emb, **kw)
        t0 = time.perf_counter()
        report[name] = eval_retrieval(r, questions, show=args.show and name == "full")
        report[name]["seconds_per_query"] = round((time.perf_counter() - t0) / max(len(questions), 1), 3)
    kb.close()
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"split={args.split}  ({QUESTIONS.name})")
        for name, m in report.items():
            print(f"{name:<10} ctx@4 {m['context_hit@4']}  file@5 {m['file_hit@5']}  off-topic refused "
                  f"{m['refused']}/{m['off_topic']}  ({m['questions']} answerable, {m['seconds_per_query']}s/query)")
            for lang, lm in m["by_lang"].items():
                print(f"   {lang}: ctx@4 {lm['context_hit@4']}  file@5 {lm['file_hit@5']}  n={lm['questions']}"
                      f"  refused {lm['refused']}/{lm['off_topic']}")
    return 0


def _bare_call(llm, messages: list[dict], max_tokens: int) -> tuple[float, str, str]:
    t0 = time.perf_counter()
    out = llm.create_chat_completion(messages=messages, max_tokens=max_tokens, temperature=0.2, seed=0)
    return time.perf_counter() - t0, out["choices"][0]["message"]["content"] or "", out["choices"][0]["finish_reason"]


def unfetchable_sources(kb, page: int = 200) -> set[str]:
    """Sources with a chunk chroma cannot return with its embedding."""
    metas = {i: m for i, m, _ in kb._scan(include=["metadatas"])}
    ids = list(metas)
    bad: set[str] = set()
    for k in range(0, len(ids), page):
        batch = ids[k:k + page]
        try:
            kb.fetch(batch)
            continue
        except Exception:
            pass
        for cid in batch:
            try:
                kb.fetch([cid])
            except Exception:
                bad.add(str(metas[cid].get("source", "")))
    return bad


def cmd_index(args) -> int:
    """Build (or resume) the full WSTG index; when every corpus file is complete, write CACHE.READY."""
    from app.knowledge.loaders import iter_files

    _settings, _bundle, emb = open_bundle_parts(args.bundle)
    reps: list = []
    # An ingest killed mid-write can leave chroma's vector segment damaged (chunks without a vector, or
    # every read failing); deleting from it fails too, so a damaged index is moved aside and this command
    # exits 2: run it again (a new process: chroma caches its client per path) to rebuild from scratch.
    try:
        kb = wstg_kb(emb, sync=True, report=reps)
        broken = unfetchable_sources(kb)
        why = f"{len(broken)} files have chunks without a stored vector, e.g. {sorted(broken)[:3]}" if broken else ""
        if broken:
            kb.close()
    except Exception as exc:  # chromadb raises its own InternalError family
        why = str(exc)
    if why:
        where = CACHE / emb.fingerprint[:16]
        aside = where.with_name(f"{where.name}.broken-{int(time.time())}")
        where.rename(aside)
        print(f"# damaged index ({why}); moved it to {aside}: run this command again to rebuild", file=sys.stderr)
        return 2
    want = {Path(f).relative_to(CORPUS).as_posix() for f in iter_files(CORPUS)}
    have = {src for src, st in kb.file_states().items() if st.complete}
    skipped = {src: why for src, why in reps[0].skipped} if reps else {}
    chunks = kb.count()
    kb.close()
    missing = sorted(want - have - set(skipped))
    print(f"# {len(have)}/{len(want)} files complete, {len(skipped)} skipped by the loader {skipped}, {chunks} chunks;"
          f" missing: {missing[:10]}", file=sys.stderr)
    if missing:
        return 1
    home = f"BASTION_HOME={os.environ['BASTION_HOME']} " if os.environ.get("BASTION_HOME") else ""
    cmd = f"{home}nice -n 10 .venv/bin/python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]])
    from datetime import datetime, timezone

    marker = CACHE.with_name(CACHE.name + ".READY")
    tmp = marker.with_suffix(".tmp")
    tmp.write_text(f"complete {datetime.now(timezone.utc):%Y-%m-%d %H:%M UTC}\ncommand (in /work/main): {cmd}\n"
                   f"corpus: {CORPUS}\nindex: {CACHE / emb.fingerprint[:16]}\nembedder fingerprint: {emb.fingerprint}\n"
                   f"files: {len(have)}/{len(want)} indexed; skipped by the loader: {skipped or 'none'}\nchunks: {chunks}\n", encoding="utf-8")
    tmp.replace(marker)
    print(marker.read_text(encoding="utf-8"))
    return 0


def _answers_report(rows: list[dict], args) -> dict:
    answerable = [r for r in rows if not r["off_topic"]]
    off = [r for r in rows if r["off_topic"]]
    ok = [r for r in answerable if r["supported_citations"] >= 1]
    gen = [r for r in answerable if not r["refused"]]
    return {
        "answerable": len(answerable),
        "with_supported_citation": len(ok), "share_with_supported_citation": round(len(ok) / max(len(answerable), 1), 3),
        "generated_not_extractive": sum(1 for r in ok if not r["extractive"]),
        "extractive": sum(1 for r in answerable if r["extractive"]),
        "model_citations_removed": sum(r["removed"] for r in rows),
        "answers_with_uncited_sentences": sum(1 for r in answerable if r["uncited_sentences"]),
        "fully_cited": sum(1 for r in ok if not r["uncited_sentences"]),
        "share_fully_cited": round(sum(1 for r in ok if not r["uncited_sentences"]) / max(len(answerable), 1), 3),
        "loop_stopped": sum(1 for r in rows if r["finish"] == "loop"),
        "looping_shown_answers": sum(1 for r in rows if r["shown_loops"]),
        "truncated": sum(1 for r in rows if r["finish"] == "length"),
        "bare_looping": sum(1 for r in gen if r.get("bare_loops")),
        "bare_truncated": sum(1 for r in gen if r.get("bare_finish") == "length"),
        "off_topic": len(off), "off_topic_refused": sum(r["refused"] for r in off),
        "refused_answerable": sum(1 for r in answerable if r["refused"]),
        "median_s": round(statistics.median([r["seconds"] for r in gen]), 2) if gen else None,
        "median_bare_s": round(statistics.median([r["bare_seconds"] for r in gen]), 2) if gen and not args.no_bare else None,
        "cites_answering_file": sum(1 for r in answerable if r["cites_answering_file"]),
        "median_prompt_tokens": statistics.median([r["prompt_tokens"] for r in gen]) if gen else None,
        "median_tokens_per_s": round(statistics.median([r["tokens_per_s"] for r in gen if r["tokens_per_s"]] or [0]), 2) if gen else None,
        "median_ttft_s": round(statistics.median([r["ttft_s"] for r in gen if r["ttft_s"] is not None] or [0]), 2) if gen else None,
        "rows": rows,
    }


def cmd_answers(args) -> int:
    from app.knowledge import Retriever, answer
    from app.knowledge.prompt_format import build_rag_messages
    from app.llm.engine import LoopDetector
    from app.prompts import load_prompts
    from app.runtime import make_engine

    settings, bundle, emb = open_bundle_parts(args.bundle)
    llm_path = args.llm or os.environ.get("BASTION_BENCH_LLM")

    def new_engine(lookup: int):
        if llm_path:  # the same bundle, another chat model (a yardstick)
            from app.llm.engine import EngineConfig, LlamaEngine, Sampling
            from app.prompts import SAMPLING_PRESETS

            return LlamaEngine(Path(llm_path), EngineConfig(n_ctx=settings.engine.n_ctx, max_tokens=args.max_tokens,
                                                            sampling=Sampling(**SAMPLING_PRESETS["default"]),
                                                            prompt_lookup=lookup))
        # no prompt cache: a budget that leaves the prompt unchanged must not be timed as a cache hit
        eng = make_engine(settings, bundle, prompt_cache="off")
        eng.config.prompt_lookup = lookup
        return eng

    lookups = [int(x) for x in args.prompt_lookup.split(",")] if args.prompt_lookup else [settings.engine.prompt_lookup]
    engines = {n: new_engine(n) for n in lookups}
    engine = engines[lookups[0]]
    system = load_prompts(bundle.prompts_path).chat_system
    kb = wstg_kb(emb, sync=not args.no_sync)
    have = indexed_files(kb)
    retriever = Retriever([kb], embedder=emb)
    questions = [q for q in load_questions(args.split) if not q["files"] or set(q["files"]) & have][: args.limit or None]
    for e in engines.values():
        e.load()
    llm = engine.load()
    prompts = load_prompts(bundle.prompts_path)
    budgets = [int(x) for x in args.context_tokens.split(",")] if args.context_tokens else [prompts.context_tokens]
    # variants: each source budget, each prompt-lookup setting; keyed "budget" or "budget/lookupN"
    variants = [(b, n, str(b) if len(lookups) == 1 else f"{b}/lookup{n}") for b in budgets for n in lookups]
    rows = []
    runs: dict[str, list[dict]] = {key: [] for _, _, key in variants}
    cites_out = open(args.citations, "w", encoding="utf-8") if args.citations else None
    for q in questions:
        for budget, lookup, key in variants:  # interleaved per question: each variant sees the same machine load
            rows = runs[key]
            eng = engines[lookup]
            eng.load().reset()  # every answer evaluates its whole prompt (no prefix left from the variant before)
            t0 = time.perf_counter()
            ans = answer(q["question"], engine=eng, retriever=retriever, system=system, max_tokens=args.max_tokens,
                         context_tokens=budget)
            ans.result()
            secs = time.perf_counter() - t0
            row = {"id": q["id"], "lang": q["lang"], "off_topic": bool(q.get("off_topic")), "seconds": round(secs, 2),
                   "refused": not ans.hits, "finish": ans.finish_reason, "extractive": ans.extractive,
                   "supported_citations": len(ans.citations), "removed": ans.removed_citations,
                   "uncited_sentences": ans.unsupported_sentences, "warnings": [c for c, _ in ans.warnings],
                   "prompt_tokens": ans.stats.prompt_tokens, "ttft_s": ans.stats.ttft_s,
                   "tokens_per_s": ans.stats.tokens_per_s, "completion_tokens": ans.stats.completion_tokens,
                   "raw_sha1": hashlib.sha1(ans.raw_text.encode()).hexdigest(),
                   "cites_answering_file": any(Path(c.hit.source).as_posix() in set(q["files"]) or
                                               Path(c.hit.source).name in {Path(f).name for f in q["files"]}
                                               for c in ans.citations)}
            shown = LoopDetector()  # does the text the reader sees repeat itself?
            shown.feed(re.sub(r"\(?https?://[^\s)]*\)?", "", ans.text))  # two quotes may share a link; that is no loop
            shown.flush()
            row["shown_loops"] = shown.looped
            if ans.hits and not args.no_bare:
                msgs = build_rag_messages(q["question"], ans.hits, system=system)
                bare_s, bare_text, bare_finish = _bare_call(llm, msgs, args.max_tokens)
                det = LoopDetector()
                det.feed(bare_text)
                det.flush()
                row.update(bare_seconds=round(bare_s, 2), bare_finish=bare_finish, bare_loops=det.looped)
            rows.append(row)
            if cites_out is not None:  # every citation with its sentence(s) and the cited chunk, for a hand check
                for c in ans.citations:
                    cites_out.write(json.dumps({
                        "id": q["id"], "question": q["question"], "extractive": ans.extractive, "n": c.n,
                        "source": c.hit.source, "heading": c.hit.heading, "sentences": c.sentences, "spans": c.spans,
                        "chunk": c.hit.text}, ensure_ascii=False) + "\n")
                cites_out.flush()
            if args.show:
                print(f"--- {q['id']} budget {budget} ({secs:.1f}s, {row['finish']}, {row['warnings']})\nQ: {q['question']}\nRAW: {ans.raw_text.strip()[:600]}\n"
                      f"FINAL: {ans.text.strip()[:800]}")
                for c in ans.citations:
                    print(f"   [{c.n}] {Path(c.hit.source).name} :: {c.spans[0][:160] if c.spans else ''!r}")
                    for s in c.sentences[:2]:
                        print(f"        <- {s[:160]!r}")
    retriever.close()
    if cites_out is not None:
        cites_out.close()
    per = {key: _answers_report(r, args) for key, r in runs.items()}
    report = {"model": engine.name, "split": args.split, "context_tokens": per}
    if len(lookups) > 1:
        report["prompt_lookup"] = {str(n): e.lookup.reason if e.lookup else "off" for n, e in engines.items()}
    base_key = variants[0][2]
    for _, _, key in variants[1:]:  # same-run ratios against the first variant (the baseline)
        base, p = per[base_key], per[key]
        for fig in ("median_s", "median_prompt_tokens", "median_tokens_per_s"):
            report[f"ratio_{fig}_{key}_vs_{base_key}"] = round(p[fig] / base[fig], 3) if base[fig] and p[fig] else None
        if len(lookups) > 1:  # the same model text with and without prompt-lookup, question by question
            same = sum(a["raw_sha1"] == b["raw_sha1"] for a, b in zip(runs[base_key], runs[key]))
            report[f"identical_raw_text_{key}_vs_{base_key}"] = f"{same}/{len(runs[key])}"
    for e in engines.values():
        e.close()
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        print(json.dumps({k: ({b: {x: y for x, y in v2.items() if x != "rows"} for b, v2 in v.items()} if k == "context_tokens" else v)
                          for k, v in report.items()}, indent=2))
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=["index", "retrieval", "answers"])
    ap.add_argument("--split", default="test", choices=["test", "tune", "all"])
    ap.add_argument("--bundle", type=Path, default=None)
    ap.add_argument("--llm", default=None, help="Another chat GGUF (default: the bundle's; or BASTION_BENCH_LLM).")
    ap.add_argument("--max-tokens", type=int, default=256)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--show", action="store_true", help="Print misses / every answer with its citations.")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--no-bare", action="store_true", help="answers: skip the bare llama-cpp-python comparison call.")
    ap.add_argument("--citations", type=Path, default=None, help="answers: write every citation (sentence, span, "
                    "chunk) as JSON lines here, for a hand check of citation precision.")
    ap.add_argument("--context-tokens", default=None, help="answers: source budgets to compare, e.g. 0,480 (0: whole "
                    "chunks; default: the bundle's prompts.toml); asked interleaved per question, ratios vs the first.")
    ap.add_argument("--prompt-lookup", default=None, help="answers: prompt-lookup settings to compare, e.g. 0,10 "
                    "(0: plain decoding; default: the settings' engine.prompt_lookup)")
    ap.add_argument("--no-sync", action="store_true", help="Use the cached index as it is (skip the ingest check).")
    args = ap.parse_args()
    return {"index": cmd_index, "retrieval": cmd_retrieval, "answers": cmd_answers}[args.what](args)


if __name__ == "__main__":
    raise SystemExit(main())
