"""Speed on a laptop CPU: batched embedding, prompt caches, prompt-lookup decoding, CLI start-up.

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python bench/bench_speed.py embed  [--bundle DIR] [--corpus DIR] [--max-files N] [--rounds 3]
    OMP_WAIT_POLICY=PASSIVE .venv/bin/python bench/bench_speed.py cache  [--model GGUF] [--rounds 3] [--only repeat|session]
    OMP_WAIT_POLICY=PASSIVE .venv/bin/python bench/bench_speed.py lookup [--model GGUF] [--rounds 3]
    OMP_WAIT_POLICY=PASSIVE .venv/bin/python bench/bench_speed.py startup [--runs 7]
    OMP_WAIT_POLICY=PASSIVE .venv/bin/python bench/bench_speed.py tui --bundle DIR [--runs 5]

Every comparison runs its variants interleaved in the same run (A B C A B C ...) and
reports medians and ratios against the baseline measured alongside, so a loaded
machine slows both sides alike; absolute times are context only. `--model` defaults
to $BASTION_BENCH_LLM, else the configured bundle's chat model (the starter).

embed: chunk texts from the corpus (default: the starter notes) embedded by
  one-at-a-time  llama-cpp-python `Llama.embed([text])`, the embedder as it was (n_ctx 512)
  legacy-32      the old embedder: `Llama.embed(32 texts)` with n_batch 512 (about 2 texts a decode)
  batched        `app.llm.embedder.Embedder` (many sequences per decode), 32 texts a call, as ingest calls it
  torch-minilm   sentence-transformers all-MiniLM-L6-v2 on torch, batch 32
  ingest         the real `ingest()` (load, chunk, embed, store in chroma) with the batched embedder
  each in its own process (so peak RSS is its own; model load time excluded from chunks/s).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# PASSIVE keeps llama.cpp's idle OpenMP threads from spinning (several contexts on 2 cores); it also makes
# small multi-threaded batches several times slower, so `lookup` (and any run with --omp-default) leaves
# the policy as the shell has it, as the app does.
if sys.argv[1:2] != ["lookup"] and "--omp-default" not in sys.argv:
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

EMBED_VARIANTS = ("one-at-a-time", "legacy-32", "batched", "torch-minilm", "ingest")


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


# -- embed ------------------------------------------------------------------------------
def _embedder_spec(bundle_dir: Path | None):
    from app.bundle import load_bundle
    from app.settings import load_settings

    settings = load_settings(**({"bundle": bundle_dir} if bundle_dir else {}))
    bundle = load_bundle(settings.bundle_path())
    e = bundle.manifest.embedder
    return bundle.file(e.path), e


def _chunk_texts(gguf: Path, max_tokens: int, files: list[Path]) -> list[str]:
    from app.knowledge import chunk_document, load_file
    from app.knowledge.chunking import ChunkOptions
    from app.llm.embedder import Embedder

    emb = Embedder(gguf, fingerprint="bench", max_tokens=max_tokens)
    opts = ChunkOptions(max_tokens=min(200, max_tokens - 16), overlap_tokens=32)
    texts = [c.embed_text for f in files for c in chunk_document(load_file(f), count_tokens=emb.count_tokens, options=opts)]
    emb.close()
    return texts


def embed_worker(args) -> dict:
    """One variant in this process: load (untimed), embed every text (timed), report."""
    spec = json.loads(Path(args.spec).read_text())
    texts: list[str] = spec["texts"]
    gguf, max_tokens, variant = Path(spec["gguf"]), int(spec["max_tokens"]), args.variant
    t_load = time.perf_counter()
    if variant in ("one-at-a-time", "legacy-32"):
        import llama_cpp

        from app.llm.native_log import silence_native_logs

        silence_native_logs()
        llm = llama_cpp.Llama(model_path=str(gguf), embedding=True, n_ctx=max_tokens, n_batch=max_tokens,
                              n_ubatch=max_tokens, verbose=False)
        step = 1 if variant == "one-at-a-time" else 32
        run = lambda: [v for i in range(0, len(texts), step) for v in llm.embed(texts[i:i + step], normalize=True, truncate=True)]  # noqa: E731
    elif variant == "batched":
        from app.llm.embedder import BATCH_TOKENS, Embedder

        emb = Embedder(gguf, fingerprint="bench", max_tokens=max_tokens, batch_tokens=spec.get("batch_tokens") or BATCH_TOKENS)
        emb.load()
        run = lambda: [v for i in range(0, len(texts), 32) for v in emb.embed(texts[i:i + 32])]  # noqa: E731
    elif variant == "torch-minilm":
        from sentence_transformers import SentenceTransformer

        from builder.sources import minilm_dir

        st = SentenceTransformer(str(minilm_dir()), device="cpu")
        st.max_seq_length = max_tokens
        run = lambda: st.encode(texts, batch_size=32, normalize_embeddings=True)  # noqa: E731
    elif variant == "ingest":
        from app.knowledge import KnowledgeBase, ingest
        from app.llm.embedder import BATCH_TOKENS, Embedder

        emb = Embedder(gguf, fingerprint="bench", max_tokens=max_tokens, batch_tokens=spec.get("batch_tokens") or BATCH_TOKENS)
        emb.load()
        work = Path(tempfile.mkdtemp(prefix="bench-ingest-"))

        def run():
            kb = KnowledgeBase(work / "kb", name="bench", fingerprint="bench")
            rep = ingest([Path(p) for p in spec["files"]], kb=kb, embedder=emb)
            kb.close()
            return [None] * rep.chunks
    else:
        raise SystemExit(f"unknown variant {variant}")
    load_s = time.perf_counter() - t_load
    t0 = time.perf_counter()
    out = run()
    secs = time.perf_counter() - t0
    return {"variant": variant, "chunks": len(out), "seconds": secs, "chunks_per_s": len(out) / secs,
            "load_s": load_s, "peak_rss_mb": _rss_mb()}


def bench_embed(args) -> dict:
    gguf, spec = _embedder_spec(args.bundle)
    corpus = Path(args.corpus) if args.corpus else ROOT / "app" / "knowledge" / "notes"
    files = sorted(p for p in corpus.rglob("*.md"))[: args.max_files]
    texts = _chunk_texts(gguf, spec.max_tokens, files)
    variants = [v for v in args.variants.split(",") if v]
    with tempfile.TemporaryDirectory() as tmp:
        spec_file = Path(tmp) / "spec.json"
        spec_file.write_text(json.dumps({"texts": texts, "gguf": str(gguf), "max_tokens": spec.max_tokens,
                                         "files": [str(f) for f in files], "batch_tokens": args.batch_tokens}))
        runs: dict[str, list[dict]] = {v: [] for v in variants}
        for r in range(args.rounds):
            for v in variants:
                cmd = [sys.executable, __file__, "_embed-worker", "--variant", v, "--spec", str(spec_file)]
                res = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy())
                if res.returncode != 0:
                    raise SystemExit(f"{v} failed:\n{res.stderr[-3000:]}")
                row = json.loads(res.stdout.strip().splitlines()[-1])
                runs[v].append(row)
                print(f"  round {r + 1} {v:14s} {row['chunks_per_s']:7.1f} chunks/s  rss {row['peak_rss_mb']:.0f} MB",
                      file=sys.stderr)
    summary = {v: {"chunks_per_s": round(_median([x["chunks_per_s"] for x in rows]), 2),
                   "runs": [round(x["chunks_per_s"], 2) for x in rows],
                   "peak_rss_mb": round(max(x["peak_rss_mb"] for x in rows), 1),
                   "load_s": round(_median([x["load_s"] for x in rows]), 2)} for v, rows in runs.items()}
    ratios = {}
    for base in ("one-at-a-time", "legacy-32", "torch-minilm"):
        for v in ("batched", "ingest"):
            if base in summary and v in summary:
                ratios[f"{v}/{base}"] = round(summary[v]["chunks_per_s"] / summary[base]["chunks_per_s"], 2)
    return {"files": len(files), "chunks": len(texts), "corpus": str(corpus), "batch_tokens": args.batch_tokens,
            "variants": summary, "ratios": ratios}


# -- chat: prompt caches and prompt-lookup decoding ---------------------------------------------
QUESTIONS = ("How do I prevent SQL injection in Python code? Quote the sources.",
             "And how should path traversal be prevented when serving user-named files? Quote the sources.")


def _model_path(arg: Path | None) -> Path:
    if arg:
        return Path(arg)
    if os.environ.get("BASTION_BENCH_LLM"):
        return Path(os.environ["BASTION_BENCH_LLM"])
    from app.bundle import load_bundle
    from app.settings import load_settings

    return load_bundle(load_settings().bundle_path()).llm_path


class _NoteHit:
    """A retrieved chunk as the prompt format reads it (text, flags, label)."""

    def __init__(self, text: str, where: str) -> None:
        self.text, self.where, self.flags = text, where, ()

    def label(self) -> str:
        return self.where


def _note_hits(notes: list[Path]) -> list[_NoteHit]:
    """Five numbered sources of ~200 tokens each from the starter notes."""
    return [_NoteHit(" ".join(f.read_text(encoding="utf-8").split()[40:190]), f"{f.name} (lines 5-30)") for f in notes]


BENCH_SYSTEM = "You are Bastion, an offline security assistant."


def _rag_messages(question: str, notes: list[Path], *, history: list[dict] | None = None) -> list[dict]:
    """A RAG prompt in the app's format (history as given: the app sends earlier turns as their plain question)."""
    from app.knowledge.prompt_format import build_rag_messages

    return build_rag_messages(question, _note_hits(notes), system=BENCH_SYSTEM, history=history)


def _lean(question: str, hits: list[_NoteHit], budget: int, eng) -> list:
    """The notes as retrieval hits, cut to `budget` tokens around the question as `bastion ask` cuts them."""
    from app.knowledge.lean import lean_hits
    from app.knowledge.retrieval import Hit

    as_hits = [Hit(id=h.where, text=h.text, source=h.where.split(" ")[0], heading="", start_line=5, end_line=30,
                   score=1.0) for h in hits]
    return lean_hits(question, as_hits, budget_tokens=budget, count_tokens=eng.count_tokens)


def _engine(model: Path, n_ctx: int, **cfg):
    from app.llm.engine import EngineConfig, LlamaEngine

    eng = LlamaEngine(model, EngineConfig(n_ctx=n_ctx, temperature=0.0, **cfg))
    t = time.perf_counter()
    eng.load()
    return eng, time.perf_counter() - t


def _ttft(eng, msgs, *, reset: bool = False, max_tokens: int = 8) -> tuple[float, str, int]:
    if reset:
        eng.load().reset()  # forget the live context: the whole prompt is evaluated again
    gen = eng.chat(msgs, max_tokens=max_tokens, temperature=0.0)
    text = gen.result()
    return gen.stats.ttft_s or float("nan"), text, gen.stats.prompt_tokens


def bench_cache(args) -> dict:
    """TTFT of (a) a repeated one-shot ask through the disk cache (fresh engine, as a new process would
    be) and (b) the second question of a session (live context + RAM cache), each against the same
    prompt evaluated from scratch in the same round.

    (b) is timed with the app's layout (plain history: turn 1 sent again as its bare question, so
    only the system prompt is a shared prefix) and with the "kept sources" layout (turn 1's user
    message exactly as it was sent, sources included, so turn 2's prompt extends turn 1's prompt and
    answer and only turn 2 is evaluated), same answer, same round. Session 2 of issue 18 built the
    kept-sources layout into the app, measured it slower here (turn 2's new sources are evaluated
    either way, and later in the context, where attention costs more), and took it out again."""
    from app.knowledge.prompt_format import build_rag_messages, format_sources, user_turn
    from app.llm.prompt_cache import make_prompt_cache

    model = _model_path(args.model)
    notes = sorted((ROOT / "app" / "knowledge" / "notes").glob("*.md"))
    q1 = _rag_messages(QUESTIONS[0], notes[:5])
    n_prompt = None
    tmp = Path(tempfile.mkdtemp(prefix="bench-kv-"))
    keys = [] if args.only == "session" else ["uncached_q1", "repeat_ask_disk"]
    layouts = [{"app": "", "kept": "_kept_sources", "lean": "_lean"}[x] for x in args.layouts.split(",")]
    if "" not in layouts:
        layouts.insert(0, "")  # the app layout's uncached prompt is every ratio's baseline
    keys += [] if args.only == "repeat" else [f"{w}_q2{layout}" for layout in layouts for w in ("uncached", "session")]
    rows: dict[str, list[float]] = {k: [] for k in keys}
    loads, prompt_tokens = [], {}
    session, _ = _engine(model, args.n_ctx, prompt_cache=make_prompt_cache("ram", fingerprint="bench", n_ctx=args.n_ctx))
    plain, _ = _engine(model, args.n_ctx)
    a1 = None
    for r in range(args.rounds):
        if args.only != "session":
            # (a) one-shot ask twice, each in a fresh engine with the disk cache; baseline: the plain engine reset.
            disk_root = tmp / f"disk{r}"
            for i in range(2):
                eng, load_s = _engine(model, args.n_ctx, prompt_cache=make_prompt_cache("disk", fingerprint="bench", n_ctx=args.n_ctx, root=disk_root))
                loads.append(load_s)
                t, _, n_prompt = _ttft(eng, q1)
                eng.close()
                if i == 1:
                    rows["repeat_ask_disk"].append(t)
            rows["uncached_q1"].append(_ttft(plain, q1, reset=True)[0])
        if args.only == "repeat":
            continue
        # (b) a session: q1 answered, then q2 with q1 and its answer as history (as the TUI and serve keep it).
        for layout in layouts:
            hits1, hits2 = _note_hits(notes[:5]), _note_hits(notes[5:10])
            if layout == "_lean":  # the app with a bundle source budget: each turn's sources cut (app.knowledge.lean)
                hits1 = _lean(QUESTIONS[0], hits1, args.context_tokens, session)
                hits2 = _lean(QUESTIONS[1], hits2, args.context_tokens, session)
            m1 = build_rag_messages(QUESTIONS[0], hits1, system=BENCH_SYSTEM)
            session.load().reset()
            session.load().set_cache(make_prompt_cache("ram", fingerprint="bench", n_ctx=args.n_ctx))  # no q2 from an earlier round
            _, answer1, _ = _ttft(session, m1, max_tokens=48)
            a1 = a1 or answer1
            asked = user_turn(format_sources(hits1)[0], QUESTIONS[0]) if layout == "_kept_sources" else QUESTIONS[0]
            history = [{"role": "user", "content": asked}, {"role": "assistant", "content": answer1}]
            q2 = build_rag_messages(QUESTIONS[1], hits2, system=BENCH_SYSTEM, history=history)
            t, _, prompt_tokens["q2" + layout] = _ttft(session, q2)
            rows["session_q2" + layout].append(t)
            rows["uncached_q2" + layout].append(_ttft(plain, q2, reset=True)[0])
        print(f"  round {r + 1}: " + ", ".join(f"{k} {v[-1]:.2f}s" for k, v in rows.items()), file=sys.stderr)
    session.close()
    plain.close()
    import shutil

    shutil.rmtree(tmp, ignore_errors=True)
    med = {k: round(_median(v), 3) for k, v in rows.items()}
    ratios = {}
    if "uncached_q1" in med:
        ratios["repeat_ask_disk/uncached"] = round(med["repeat_ask_disk"] / med["uncached_q1"], 3)
    if "session_q2" in med:
        ratios["session_q2/uncached_q2"] = round(med["session_q2"] / med["uncached_q2"], 3)
    if "session_q2_kept_sources" in med:
        ratios["kept sources: session_q2/uncached_q2 (its own, longer, full prompt)"] = round(
            med["session_q2_kept_sources"] / med["uncached_q2_kept_sources"], 3)
        ratios["kept sources: session_q2/app layout session_q2"] = round(med["session_q2_kept_sources"] / med["session_q2"], 3)
    if "session_q2_lean" in med:
        ratios[f"lean {args.context_tokens}: session_q2/uncached_q2 (the full prompt)"] = round(
            med["session_q2_lean"] / med["uncached_q2"], 3)
        ratios[f"lean {args.context_tokens}: uncached_q2/uncached_q2 (cut alone)"] = round(
            med["uncached_q2_lean"] / med["uncached_q2"], 3)
    return {"model": str(model), "prompt_tokens_q1": n_prompt, "prompt_tokens_q2": prompt_tokens, "rounds": args.rounds,
            "load_avg_1min": round(os.getloadavg()[0], 2), "ttft_median_s": med, "ttft_all_s": rows,
            "model_load_median_s": round(_median(loads), 2) if loads else None, "ratios": ratios,
            "first_answer": (a1 or "")[:200]}


def bench_lookup(args) -> dict:
    """Greedy grounded answers with and without prompt-lookup decoding, interleaved: tokens/s and identical text.

    Three engines on the same model: plain decoding with the default attention kernel (the app before issue
    18's third session), plain decoding as the app runs it now with prompt-lookup off (flash attention for
    batch-exact weight types: the text lookup must reproduce) and prompt-lookup.
    Two questions over different starter notes; tokens/s counts completion tokens after the first.
    OMP_WAIT_POLICY is left as the caller's shell has it (the app sets none), unlike the other subcommands."""
    model = _model_path(args.model)
    notes = sorted((ROOT / "app" / "knowledge" / "notes").glob("*.md"))
    prompts = [_rag_messages(QUESTIONS[0], notes[:5]), _rag_messages(QUESTIONS[1], notes[5:10])]
    engines = {"plain_default_attn": _engine(model, args.n_ctx, exact_batches=False)[0], "plain": _engine(model, args.n_ctx)[0],
               "lookup": _engine(model, args.n_ctx, prompt_lookup=args.draft)[0]}
    rows: dict[str, list[dict]] = {k: [] for k in engines}
    texts: dict[str, list[set[str]]] = {k: [set() for _ in prompts] for k in engines}
    for r in range(args.rounds):
        for q, msgs in enumerate(prompts):
            for name, eng in engines.items():
                eng.load().reset()
                gen = eng.chat(msgs, max_tokens=args.max_tokens, temperature=0.0)
                texts[name][q].add(gen.result())
                st = gen.stats
                rows[name].append({"tps": st.tokens_per_s, "ttft": st.ttft_s, "n": st.completion_tokens, "q": q})
                print(f"  round {r + 1} q{q + 1} {name}: {st.tokens_per_s:.2f} tok/s, ttft {st.ttft_s:.2f}s, "
                      f"{st.completion_tokens} tokens", file=sys.stderr)
    drafter = engines["lookup"].load().draft_model
    status = engines["lookup"].lookup
    for eng in engines.values():
        eng.close()
    med = {k: {"tokens_per_s": round(_median([x["tps"] for x in v]), 2), "ttft_s": round(_median([x["ttft"] for x in v]), 2),
               "tokens": [x["n"] for x in v[: len(prompts)]]} for k, v in rows.items()}
    same = all(texts["plain"][q] == texts["lookup"][q] and len(texts["lookup"][q]) == 1 for q in range(len(prompts)))
    return {"model": str(model), "draft_tokens": args.draft, "rounds": args.rounds, "variants": med,
            "lookup_status": status.reason if status else None, "lookup_probe_s": round(status.probe_s, 2) if status else None,
            "drafted_tokens": getattr(drafter, "drafted", None), "kept_tokens": getattr(drafter, "kept", None),
            "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "(unset)"),
            "identical_greedy_text_lookup_vs_plain": same,
            "identical_greedy_text_plain_vs_plain_default_attn": all(texts["plain"][q] == texts["plain_default_attn"][q] for q in range(len(prompts))),
            "ratios": {"lookup/plain tokens_per_s": round(med["lookup"]["tokens_per_s"] / med["plain"]["tokens_per_s"], 3),
                       "lookup/plain_default_attn tokens_per_s": round(med["lookup"]["tokens_per_s"] / med["plain_default_attn"]["tokens_per_s"], 3),
                       "plain/plain_default_attn tokens_per_s": round(med["plain"]["tokens_per_s"] / med["plain_default_attn"]["tokens_per_s"], 3),
                       "lookup/plain ttft": round(med["lookup"]["ttft_s"] / med["plain"]["ttft_s"], 3)},
            "answers": [sorted(t)[0][:300] for t in texts["plain"]]}


# -- startup --------------------------------------------------------------------------------
def bench_startup(args) -> dict:
    """CLI start-up wall times, interleaved, against a bare `python -c pass` (interpreter start).

    `bastion --help` prints the stored root help; `bastion ask --help` goes through Typer (plain help);
    `typer rich root help` renders the root help the way it was before (Typer with Rich) as the old baseline.
    """
    exe = Path(sys.executable).with_name("bastion")
    old = ("import sys; sys.argv = ['bastion', '--help']; from app.cli.commands import cli; "
           "cli.rich_markup_mode = 'rich'; from app.entrypoint import run_guarded; run_guarded(cli)")
    cmds = {"python -c pass": [sys.executable, "-c", "pass"], "bastion --help": [str(exe), "--help"],
            "bastion ask --help": [str(exe), "ask", "--help"], "typer rich root help (old)": [sys.executable, "-c", old]}
    runs: dict[str, list[float]] = {k: [] for k in cmds}
    env = dict(os.environ, COLUMNS="100")
    for _ in range(args.runs):
        for k, cmd in cmds.items():
            t = time.perf_counter()
            subprocess.run(cmd, capture_output=True, check=True, env=env)
            runs[k].append(time.perf_counter() - t)
    med = {k: round(_median(v), 3) for k, v in runs.items()}
    return {"runs": args.runs, "load_avg_1min": round(os.getloadavg()[0], 2), "median_s": med,
            "all_s": {k: [round(x, 3) for x in v] for k, v in runs.items()},
            "help_vs_old_ratio": round(med["bastion --help"] / med["typer rich root help (old)"], 3),
            "help_minus_interpreter_s": round(med["bastion --help"] - med["python -c pass"], 3)}


def _tmux_first_paint(cmd: str, env: dict, marker, *, timeout: float = 120.0) -> tuple[float, float]:
    """Start `cmd` in a fresh 120x36 tmux session; seconds until `marker(screen)` and until the model is ready."""
    import uuid

    session = f"bench-{uuid.uuid4().hex[:8]}"
    envs = " ".join(f"{k}={v}" for k, v in env.items())
    t0 = time.perf_counter()
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "120", "-y", "36", f"env {envs} {cmd}; sleep 30"], check=True)
    paint = ready = float("nan")
    try:
        while time.perf_counter() - t0 < timeout:
            screen = subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True).stdout
            now = time.perf_counter() - t0
            if paint != paint and marker(screen):
                paint = now
            if "ready │" in screen:
                ready = now
                break
            time.sleep(0.01)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
        time.sleep(0.3)
    return paint, ready


def bench_tui(args) -> dict:
    """`bastion` (the TUI) cold start to first paint and to model ready, in tmux, interleaved with a
    bare Textual app's first paint (python + `import textual` + one Static) as the baseline."""
    import shutil

    if not shutil.which("tmux"):
        return {"skipped": "tmux not installed"}
    exe = Path(sys.executable).with_name("bastion")
    bundle = (args.bundle or Path(os.environ.get("BASTION_BUNDLE", ""))).resolve()
    bare = ("from textual.app import App; from textual.widgets import Static\n"
            "class A(App):\n    def compose(self):\n        yield Static('BARE-PAINTED')\nA().run()")
    script = Path(tempfile.mkdtemp(prefix="bench-tui-")) / "bare.py"
    script.write_text(bare)
    paint: dict[str, list[float]] = {"bastion": [], "bare textual app": []}
    ready: list[float] = []
    for _ in range(args.runs):
        home = Path(tempfile.mkdtemp(prefix="bench-tui-home-"))
        (home / "config.toml").write_text(f'bundle = "{bundle}"\n[engine]\nn_ctx = 2048\n')
        p, r = _tmux_first_paint(str(exe), {"BASTION_HOME": home, "BASTION_OFFLINE": "1", "TERM": "xterm-256color",
                                            "BASTION_TRUST__ALLOW_UNSIGNED": "1"},
                                 lambda s: "History" in s and "tok/s" in s)
        paint["bastion"].append(p)
        ready.append(r)
        p, _ = _tmux_first_paint(f"{sys.executable} {script}", {"TERM": "xterm-256color"}, lambda s: "BARE-PAINTED" in s,
                                 timeout=30)
        paint["bare textual app"].append(p)
        shutil.rmtree(home, ignore_errors=True)
    med = {k: round(_median(v), 3) for k, v in paint.items()}
    return {"runs": args.runs, "load_avg_1min": round(os.getloadavg()[0], 2), "first_paint_median_s": med,
            "first_paint_all_s": {k: [round(x, 3) for x in v] for k, v in paint.items()},
            "model_ready_median_s": round(_median(ready), 3),
            "paint_vs_bare_ratio": round(med["bastion"] / med["bare textual app"], 3)}


# -- main ---------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("embed", help="chunks/s: batched vs one-at-a-time vs torch MiniLM, peak RSS")
    e.add_argument("--bundle", type=Path, default=None)
    e.add_argument("--corpus", type=Path, default=None, help="folder of Markdown files (default: the starter notes)")
    e.add_argument("--max-files", type=int, default=None)
    e.add_argument("--rounds", type=int, default=3)
    e.add_argument("--batch-tokens", type=int, default=None)
    e.add_argument("--variants", default=",".join(EMBED_VARIANTS))
    w = sub.add_parser("_embed-worker")
    w.add_argument("--variant", required=True)
    w.add_argument("--spec", required=True)
    c = sub.add_parser("cache", help="TTFT: repeated one-shot ask (disk cache) and second question in a session")
    lk = sub.add_parser("lookup", help="tokens/s with prompt-lookup decoding vs plain, identical greedy text")
    for p in (c, lk):
        p.add_argument("--model", type=Path, default=None, help="GGUF (default: $BASTION_BENCH_LLM, else the bundle's)")
        p.add_argument("--rounds", type=int, default=2)
        p.add_argument("--n-ctx", type=int, default=4096)
    c.add_argument("--only", choices=("repeat", "session"), default=None, help="time only (a) or only (b)")
    c.add_argument("--context-tokens", type=int, default=400, help="source budget of the lean layout (the starter's)")
    c.add_argument("--layouts", default="app,kept,lean", help="session layouts to time: app (earlier turns as their "
                   "question), kept (with their sources), lean (app layout, sources cut to --context-tokens)")
    lk.add_argument("--draft", type=int, default=10, help="tokens drafted per step")
    lk.add_argument("--max-tokens", type=int, default=160)
    su = sub.add_parser("startup", help="`bastion --help` (and `ask --help`, the old Rich help) median wall time vs a bare interpreter start")
    su.add_argument("--runs", type=int, default=7)
    tu = sub.add_parser("tui", help="`bastion` TUI first paint (tmux) vs a bare Textual app, medians")
    tu.add_argument("--bundle", type=Path, default=None, help="bundle directory (default: $BASTION_BUNDLE)")
    tu.add_argument("--runs", type=int, default=5)
    for p in (e, c, lk, su, tu):
        p.add_argument("--json", action="store_true")
        p.add_argument("--omp-default", action="store_true", help="leave OMP_WAIT_POLICY unset (the app's "
                       "setting) instead of PASSIVE (read before llama.cpp loads)")
    args = ap.parse_args(argv)
    if args.cmd == "_embed-worker":
        print(json.dumps(embed_worker(args)))
        return 0
    result = {"embed": bench_embed, "cache": bench_cache, "lookup": bench_lookup, "startup": bench_startup, "tui": bench_tui}[args.cmd](args)
    print(json.dumps(result, indent=None if args.json else 2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
