"""Grounded answers on material nobody here wrote: the OWASP WSTG question set.

    nice -n 10 .venv/bin/python bench/eval_answers.py index --bundle DIR   (build/resume the full index, writes CACHE.READY)
    .venv/bin/python bench/eval_answers.py retrieval [--split test|tune|all] [--bundle DIR] [--json]
    .venv/bin/python bench/eval_answers.py answers   [--split test] [--llm GGUF] [--bundle DIR] [--limit N] [--show]

    .venv/bin/python bench/eval_answers.py answers --split test --with-notes --no-bare --out bench/results/X.jsonl
    .venv/bin/python bench/eval_answers.py score bench/results/X.jsonl [--show]   (the issue-25 answer figures)
    .venv/bin/python bench/eval_answers.py entail --bundle DIR [--judge-all] [--no-judge]   (aligner false accepts)

Question set: bench/data/wstg_questions.jsonl (written before tuning): id, lang,
question, files (answering file names), phrase (text the answering chunk holds),
off_topic, key (the key fact: alternatives, each a case-insensitive string or "re:"
and a regular expression, written by reading the answering passage; the shown answer
must hold one). Split: sha1(id) odd -> test, even -> tune (deterministic).

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


def _time_first_piece(ans) -> list[float]:
    """A list that gets the wall time of the model's first text piece once `ans` is iterated (empty: none came).

    The answer streams from its `Generation`; this wraps that iterator, leaving text, stats and cancel as
    they are, so "first shown sentence vs the model's first token" is measured on one answer (issue 27)."""
    gen, seen = getattr(ans, "_gen", None), []
    if gen is None:
        return seen

    class Timed:
        def __getattr__(self, name):
            return getattr(gen, name)

        def __iter__(self):
            for piece in gen:
                if not seen and piece:
                    seen.append(time.perf_counter())
                yield piece

    ans._gen = Timed()
    return seen


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
    kbs = [kb]
    if args.with_notes:  # as `ask` searches: the bundle's own notes next to the user's knowledge base
        from app.knowledge.registry import open_bundle_index

        notes = open_bundle_index(bundle, fingerprint=emb.fingerprint)
        kbs += [notes] if notes is not None else []
    retriever = Retriever(kbs, embedder=emb)
    questions = [q for q in load_questions(args.split) if not q["files"] or set(q["files"]) & have]
    if args.ids:
        questions = [q for q in questions if q["id"] in set(args.ids.split(","))]
    questions = questions[: args.limit or None]
    out_f = open(args.out, "w", encoding="utf-8") if args.out else None
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
                         context_tokens=budget, entail=not args.no_entail,
                         contrast=True if args.contrast else None)
            first_token = _time_first_piece(ans)
            first_shown = None
            for _piece in ans:  # as the CLI streams it: when does the reader see the first sentence?
                if first_shown is None and _piece.strip():
                    first_shown = time.perf_counter() - t0
            secs = time.perf_counter() - t0
            first_token_s = (first_token[0] - t0) if first_token else None
            row = {"id": q["id"], "lang": q["lang"], "off_topic": bool(q.get("off_topic")), "seconds": round(secs, 2),
                   "refused": not ans.hits, "finish": ans.finish_reason, "extractive": ans.extractive,
                   "supported_citations": len(ans.citations), "removed": ans.removed_citations,
                   "uncited_sentences": ans.unsupported_sentences, "warnings": [c for c, _ in ans.warnings],
                   "prompt_tokens": ans.stats.prompt_tokens, "ttft_s": ans.stats.ttft_s,
                   "first_token_s": round(first_token_s, 3) if first_token_s is not None else None,
                   "first_shown_s": round(first_shown, 3) if first_shown is not None else None,
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
            if out_f is not None:  # everything the reader saw, for scoring (`score`) and reading by hand
                out_f.write(json.dumps({
                    "id": q["id"], "lang": q["lang"], "split": q["split"], "off_topic": bool(q.get("off_topic")),
                    "question": q["question"], "files": q["files"], "variant": key, "entail": not args.no_entail,
                    "seconds": round(secs, 2), "refused": not ans.hits, "text": ans.text, "raw_text": ans.raw_text,
                    "first_token_s": row["first_token_s"], "first_shown_s": row["first_shown_s"],
                    "extractive": ans.extractive, "replaced": ans.replaced, "sentences": ans.shown_sentences,
                    "entailment_calls": ans.entailment_calls, "entailment_s": round(ans.entailment_seconds, 2),
                    "finish": ans.finish_reason, "completion_tokens": ans.stats.completion_tokens,
                    "prompt_tokens": ans.stats.prompt_tokens, "warnings": [c for c, _ in ans.warnings],
                    "retrieved": [{"n": n, "source": h.source, "heading": h.heading, "kb": h.kb}
                                  for n, h in enumerate(ans.hits, 1)],
                    "citations": [{"n": c.n, "source": c.hit.source, "heading": c.hit.heading, "kb": c.hit.kb,
                                   "spans": c.spans, "sentences": c.sentences} for c in ans.citations]},
                    ensure_ascii=False) + "\n")
                out_f.flush()
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
    if out_f is not None:
        out_f.close()
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


def holds_key(text: str, q: dict) -> bool | None:
    """Whether `text` holds the question's key fact: any of its alternatives (a case-insensitive string, or a
    regular expression written "re:..."); None when the question has no key fact."""
    keys = q.get("key") or []
    if not keys:
        return None
    low = text.lower()
    return any(re.search(k[3:], text, re.I) if k.startswith("re:") else k.lower() in low for k in keys)


def _right_file(source: str, q: dict) -> bool:
    return Path(source).name in {Path(f).name for f in q["files"]}


def score_records(recs: list[dict], questions: dict[str, dict]) -> dict:
    """The issue's answer figures over answer records (`answers --out`), scored with the current question set."""
    from app.knowledge.answer import UNSUPPORTED_MARK

    ans = [r for r in recs if not r["off_topic"]]
    off = [r for r in recs if r["off_topic"]]
    rows = []
    for r in ans:
        q = questions[r["id"]]
        supported_text = " ".join(s["text"] for s in r["sentences"] if s["status"] in ("supported", "quoted"))
        right = bool(r["citations"]) and all(_right_file(c["source"], q) for c in r["citations"])
        key_shown = holds_key(r["text"], q)
        key_supported = holds_key(supported_text, q)
        own = not r["refused"] and not r["extractive"]
        rows.append({"id": r["id"], "own_words": own, "key_shown": key_shown, "key_supported": key_supported,
                     "right_files": right, "any_right_file": any(_right_file(c["source"], q) for c in r["citations"]),
                     "target": bool(own and key_supported and right)})
    keyed = [x for x in rows if x["key_shown"] is not None]
    shown = [s for r in ans if not r["refused"] for s in r["sentences"]]
    claims = [s for s in shown if s["status"] in ("supported", "unsupported", "quoted")]
    unsup = [s for s in shown if s["status"] == "unsupported"]
    marks_in_text = sum(r["text"].count(UNSUPPORTED_MARK) for r in ans)
    gen = [r for r in ans if not r["refused"]]

    def share(n, d):
        return round(n / d, 3) if d else None

    out = {
        "answerable": len(ans), "with_key_fact_field": len(keyed),
        "own_words_key_fact_right_files": f"{sum(x['target'] for x in keyed)}/{len(keyed)}",
        "own_words_key_fact_right_files_rate": share(sum(x["target"] for x in keyed), len(keyed)),
        "own_words": sum(x["own_words"] for x in rows),
        "key_fact_in_shown_answer": f"{sum(bool(x['key_shown']) for x in keyed)}/{len(keyed)}",
        "key_fact_in_shown_answer_rate": share(sum(bool(x["key_shown"]) for x in keyed), len(keyed)),
        "key_fact_in_a_supported_or_quoted_sentence": f"{sum(bool(x['key_supported']) for x in keyed)}/{len(keyed)}",
        "every_citation_right_file": sum(x["right_files"] for x in rows),
        "some_citation_right_file": sum(x["any_right_file"] for x in rows),
        "extractive": sum(r["extractive"] for r in ans), "extractive_share": share(sum(r["extractive"] for r in ans), len(ans)),
        "replaced_after_partial": sum(bool(r.get("replaced")) for r in ans),
        "refused_answerable": sum(r["refused"] for r in ans),
        "shown_claim_sentences": len(claims), "shown_unsupported": len(unsup),
        "shown_unsupported_share": share(len(unsup), len(claims)),
        "unsupported_marked": f"{sum(s['marked'] for s in unsup)}/{len(unsup)}", "marks_in_text": marks_in_text,
        "entailed_sentences_shown": sum(1 for s in shown if s.get("entailed")),
        "off_topic_refused": {lang: f"{sum(r['refused'] for r in off if r['lang'] == lang)}/"
                                    f"{sum(1 for r in off if r['lang'] == lang)}" for lang in sorted({r['lang'] for r in off})},
        "off_topic_not_refused": [r["id"] for r in off if not r["refused"]],
        "seconds_per_answer_median": round(statistics.median([r["seconds"] for r in gen]), 1) if gen else None,
        "seconds_per_answer_mean": round(statistics.mean([r["seconds"] for r in gen]), 1) if gen else None,
        "entailment_s_mean": round(statistics.mean([r["entailment_s"] for r in gen]), 1) if gen else None,
        "entailment_calls_mean": round(statistics.mean([r["entailment_calls"] for r in gen]), 2) if gen else None,
        **first_shown_figures(gen),
        "per_question": rows,
    }
    return out


def first_shown_figures(recs: list[dict]) -> dict:
    """First shown sentence vs the model's first token, per answer (issue 27: median <= 1.5x)."""
    timed = [r for r in recs if r.get("first_token_s") and r.get("first_shown_s") is not None]
    ratios = sorted(r["first_shown_s"] / r["first_token_s"] for r in timed)
    if not ratios:
        return {}
    return {"first_token_s_median": round(statistics.median([r["first_token_s"] for r in timed]), 2),
            "first_shown_s_median": round(statistics.median([r["first_shown_s"] for r in timed]), 2),
            "first_shown_over_first_token_median": round(statistics.median(ratios), 3),
            "first_shown_within_1_5x": f"{sum(x <= 1.5 for x in ratios)}/{len(ratios)}"}


def cmd_score(args) -> int:
    """Score answer records (`answers --out FILE`) against the current question set's key facts."""
    questions = {q["id"]: q for q in load_questions("all")}
    report = {}
    for path in args.records:
        recs = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
        for variant in sorted({r["variant"] for r in recs}):
            sel = [r for r in recs if r["variant"] == variant and (args.split == "all" or r["split"] == args.split)]
            report[f"{path.name}:{variant}"] = score_records(sel, questions)
    if not args.show:
        for v in report.values():
            v.pop("per_question")
    print(json.dumps(report, indent=2, ensure_ascii=False))
    return 0


WRONG = ROOT / "bench/data/wstg_wrong_sentences.jsonl"


def wrong_rows(split: str) -> list[dict]:
    """The wrong-sentence rows of `split`, each with its source paragraph, heading and original sentence.

    The set stores no corpus text: a row names the file, the paragraph's first line and the sentence's
    index (bench/build_wrong_sentences.py); the original is checked against its sha1."""
    from bench.build_wrong_sentences import _SENT, paragraphs

    rows = [json.loads(x) for x in WRONG.read_text(encoding="utf-8").splitlines() if x.strip()]
    rows = [r for r in rows if split == "all" or r["split"] == split]
    cache: dict[str, tuple[dict, list[str]]] = {}
    out = []
    for r in rows:
        if r["file"] not in cache:
            path = CORPUS / r["file"]
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
            cache[r["file"]] = (dict(paragraphs(path)), lines)
        paras, lines = cache[r["file"]]
        para = paras.get(r["line"])
        if para is None:
            raise SystemExit(f"{WRONG}: row {r['id']}: no paragraph at {r['file']}:{r['line']} (corpus changed? "
                             "rebuild with bench/build_wrong_sentences.py)")
        sents = [x for x in _SENT.split(para) if 8 <= len(x.split()) <= 40 and "http" not in x and "`" not in x]
        orig = sents[r["sentence_index"]] if r["sentence_index"] < len(sents) else ""
        if hashlib.sha1(orig.encode()).hexdigest() != r["original_sha1"]:
            raise SystemExit(f"{WRONG}: row {r['id']}: the sentence at {r['file']}:{r['line']} "
                             f"#{r['sentence_index']} no longer matches its sha1 (rebuild the set)")
        heading = next((ln.lstrip("#").strip() for ln in reversed(lines[:r["line"] - 1]) if ln.startswith("#")), "")
        out.append({**r, "passage": para, "heading": heading, "original": orig})
    return out


def align_one(sentence: str, hit, *, embedder, judge, contrast: bool = False) -> dict:
    """The aligner as `Answer` runs it: the Grounder's lexical check, then (for an unsupported claim) the
    entailment judge on the candidates that pass the hard vetoes."""
    from app.knowledge.entailment import Entailment
    from app.knowledge.grounding import Grounder

    g = Grounder([hit], embedder=embedder)
    cs = g.fix(sentence)
    out = {"claim": cs.claim, "lexical": cs.supported, "candidates": len(cs.candidates), "judge_calls": 0,
           "entailed": False, "judge_s": 0.0}
    if cs.claim and not cs.supported and judge is not None:
        ent = Entailment(judge, contrast=contrast)
        for cand in cs.candidates:
            if ent.stated(sentence, cand.passage, cand.heading):
                out["entailed"] = True
                break
        out.update(judge_calls=ent.calls, judge_s=round(ent.seconds, 2),
                   judge_errors=[v.error for v in ent.verdicts if v.error])
    out["accepted"] = out["lexical"] or out["entailed"]
    return out


def cmd_entail(args) -> int:
    """False accepts of the aligner on the wrong-sentence set; true accepts on the unmodified originals."""
    from app.knowledge.entailment import Entailment
    from app.knowledge.retrieval import Hit
    from app.runtime import make_engine

    settings, bundle, emb = open_bundle_parts(args.bundle)
    judge = None if args.no_judge else make_engine(settings, bundle, prompt_cache="off")
    if judge is not None:
        judge.load()
    rows = wrong_rows(args.split)[: args.limit or None]
    recs = []
    t0 = time.perf_counter()
    for r in rows:
        hit = Hit(id=r["id"], text=r["passage"], source=r["file"], heading=r["heading"], start_line=r["line"],
                  end_line=r["line"], score=1.0)
        rec = {"id": r["id"], "kind": r["kind"], "wrong": r["wrong"], "original": r["original"],
               "as_wrong": align_one(r["wrong"], hit, embedder=emb, judge=judge, contrast=args.contrast),
               "as_original": align_one(r["original"], hit, embedder=emb, judge=judge, contrast=args.contrast)}
        if args.judge_all and judge is not None:  # the judge alone, no veto in front of it: its own discrimination
            for key, sent in (("judge_wrong", r["wrong"]), ("judge_original", r["original"])):
                e = Entailment(judge, contrast=args.contrast)
                rec[key] = e.stated(sent, r["passage"], r["heading"])
                rec[key + "_calls"] = [v.stated for v in e.verdicts]
        recs.append(rec)
        if args.show and rec["as_wrong"]["accepted"]:
            print(f"FALSE ACCEPT {r['id']} ({'lexical' if rec['as_wrong']['lexical'] else 'judge'}):\n  wrong: "
                  f"{r['wrong']}\n  orig:  {r['original']}", file=sys.stderr)
    secs = time.perf_counter() - t0

    def rate(sel, key="as_wrong"):
        sel = [x for x in sel if x["as_original"]["claim"]]  # an intro ("... the following:") states nothing to accept
        n = len(sel)
        return {"n": n, "accepted": sum(x[key]["accepted"] for x in sel),
                "rate": round(sum(x[key]["accepted"] for x in sel) / n, 3) if n else None,
                "by_lexical": sum(x[key]["lexical"] for x in sel), "by_judge": sum(x[key]["entailed"] for x in sel),
                "reached_judge": sum(1 for x in sel if x[key]["judge_calls"]),
                "judge_calls": sum(x[key]["judge_calls"] for x in sel)}

    report = {"judge": f"{bundle.root} ({bundle.manifest.name})" if judge else "none (lexical checks only)",
              "contrast": args.contrast, "split": args.split,
              "rows": len(recs), "rows_not_a_claim": sum(1 for x in recs if not x["as_original"]["claim"]),
              "false_accepts": rate(recs),
              "false_accepts_by_kind": {k: rate([x for x in recs if x["kind"] == k]) for k in sorted({x["kind"] for x in recs})},
              "true_accepts_originals": rate(recs, "as_original"),
              "seconds": round(secs, 1),
              "judge_seconds_per_call": round(sum(x[k]["judge_s"] for x in recs for k in ("as_wrong", "as_original")) /
                                              max(1, sum(x[k]["judge_calls"] for x in recs for k in ("as_wrong", "as_original"))), 2)}
    if args.judge_all and judge is not None:
        report["judge_alone"] = {"says_yes_to_wrong": f"{sum(x['judge_wrong'] for x in recs)}/{len(recs)}",
                                 "says_yes_to_original": f"{sum(x['judge_original'] for x in recs)}/{len(recs)}"}
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in recs), encoding="utf-8")
    if judge is not None:
        judge.close()
    print(json.dumps(report, indent=2, ensure_ascii=False))
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=["index", "retrieval", "answers", "entail", "score"])
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
    ap.add_argument("--no-entail", action="store_true", help="answers: the entailment check off (lexical evidence only).")
    ap.add_argument("--with-notes", action="store_true", help="answers: search the bundle's own notes too, as `ask` does.")
    ap.add_argument("--ids", default=None, help="answers: only these question ids (comma-separated).")
    ap.add_argument("records", nargs="*", type=Path, help="score: answer records written by `answers --out`.")
    ap.add_argument("--contrast", action="store_true", help="entail/answers: the judge must also say no to the "
                    "claim's opposite (Entailment.contrast).")
    ap.add_argument("--no-judge", action="store_true", help="entail: the lexical checks only (no entailment judge).")
    ap.add_argument("--judge-all", action="store_true", help="entail: also ask the judge alone about every wrong "
                    "sentence and original (no veto in front of it).")
    ap.add_argument("--out", type=Path, default=None, help="entail/answers: write one JSON record per row here.")
    args = ap.parse_args()
    return {"index": cmd_index, "retrieval": cmd_retrieval, "answers": cmd_answers, "entail": cmd_entail,
            "score": cmd_score}[args.what](args)


if __name__ == "__main__":
    raise SystemExit(main())
