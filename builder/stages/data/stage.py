"""`builder data`: read → validate → scrub → filter → dedup → split → mix → write JSONL + report."""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Sequence

from app.atomic import write_text
from app.errors import BastionError
from builder.data import clean, mix, readers
from builder.data.records import Example, Issue, NotForThisStage, RecordError, normalise
from builder.profiles import Profile, profile_config
from builder.rundir import Progress, RunDir, StageResult
from builder.stages.data.summary import DataSummary

log = logging.getLogger(__name__)

SAMPLE_DIR = Path(__file__).resolve().parents[2] / "sample_data"
# The clean sample folders (sample_data/malformed/ holds deliberately broken records for tests).
SAMPLE_INPUTS = ("security", "general", "corpus")
MAX_ISSUES_IN_REPORT = 200


def default_inputs(profile: Profile) -> list[str]:
    if not profile.tiny:
        raise BastionError(f"no --data given for profile {profile.name!r}",
                           hint="pass --data PATH (files or folders; general=PATH for general data)")
    return [str(SAMPLE_DIR / d) for d in SAMPLE_INPUTS]


def _source_name(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def collect(inputs: Sequence[str], *, strict: bool, allow_pickle: bool, max_chars: int
            ) -> tuple[list[Example], list[Issue], list[Path], int]:
    """Read every input; bad records become Issues (or a BastionError under strict).

    Retrieval triplets (query + pos/neg) are counted and left to the embedder stage."""
    other = 0
    examples: list[Example] = []
    issues: list[Issue] = []
    files: list[Path] = []
    for arg in inputs:
        inp = readers.Input.parse(arg)
        if inp.is_hf:
            name = inp.spec[len(readers.HF_PREFIX):]
            streams = [(f"hf:{name}", inp.domain or "security", readers.read_hf(name))]
        else:
            paths = readers.expand(inp, allow_pickle=allow_pickle)
            files += paths
            streams = [(_source_name(p), readers.domain_for(p, inp.domain), readers.read_file(p, max_chars=max_chars))
                       for p in paths]
        for source, domain, stream in streams:
            for line, raw in stream:
                try:
                    if isinstance(raw, readers.BadLine):
                        raise RecordError("-", str(raw))
                    examples.append(normalise(raw, source=source, line=line, domain=domain))
                except NotForThisStage:
                    other += 1
                except RecordError as exc:
                    issue = Issue(source, line, exc.field, str(exc))
                    if strict:
                        raise BastionError(f"bad record at {issue}",
                                           hint="fix or remove that record, or run without --strict to skip bad records") from None
                    issues.append(issue)
    return examples, issues, files, other


def _scrub(ex: Example, counts: Counter) -> None:
    if ex.kind == "corpus":
        ex.text, c = clean.scrub(ex.text)
        counts.update(c)
        return
    for m in ex.messages:
        m["content"], c = clean.scrub(m["content"])
        counts.update(c)


def _write_jsonl(path: Path, examples: list[Example]) -> None:
    write_text(path, "".join(json.dumps(e.to_json(), ensure_ascii=False) + "\n" for e in examples))


def app_tasks(sft: list[Example], corpus: list[Example], profile: Profile, progress: Progress,
              ledger: "Ledger | None" = None) -> tuple[list[Example], dict]:
    """Code-analysis records in the app's review format, plus grounded-answering examples; with counts."""
    from dataclasses import asdict

    from builder.data import grounded, review

    dc, report = profile.data, {}
    if dc.review_format:
        found = [(e, review.labelled_code(e.messages)) for e in sft if e.task == "code_analysis"]
        usable = [(e, r) for e, r in found if r is not None]
        if usable:
            progress(f"data: static analysis of {len(usable)} code-analysis record(s) for app-format review targets")
        msgs, counts = review.build_reviews([r for _, r in usable], n_ctx=profile.max_seq_length)
        unlocated = set()
        for (e, (code, lang, labelled)), m in zip(usable, msgs):
            if m is None:
                unlocated.add(id(e))
                if ledger is not None:
                    ledger.drop(e, "code analysis whose missed weakness has no line (no fixed code to locate it)")
                continue
            e.messages = m
            e.truth = {"code": code, "language": lang, "label": labelled["label"],
                       "cwe": (labelled.get("risk") or {}).get("cwe")}
        no_code = {id(e) for e, r in found if r is None}
        if ledger is not None:
            for e, r in found:
                if r is None:
                    ledger.drop(e, "code analysis without analysable code (no code block, or its language is "
                                   "not one Bastion analyses)")
        sft = [e for e in sft if id(e) not in no_code and id(e) not in unlocated]
        report["review"] = asdict(counts) | {"dropped_without_code": len(no_code)}
    if dc.grounded and dc.max_grounded:
        qa = [(e.messages[-2]["content"], e.messages[-1]["content"], e.source) for e in sft
              if e.task == "chat" and e.domain == "security" and [m["role"] for m in e.messages if m["role"] != "system"]
              == ["user", "assistant"]]
        held_files: set[str] = set()
        held_qs: set[str] = set()
        if profile.eval.questions:  # the eval's test half: never a training answer (builder.eval_questions)
            from builder import eval_questions

            qs = eval_questions.load_questions(profile.eval.questions)
            held_files = eval_questions.held_out_names(qs)
            held_qs = {q.question for q in eval_questions.test_half(qs)}
        items, gc = grounded.build_grounded(qa, [(e.source, e.text) for e in corpus], seed=profile.train.seed,
                                            sources_per_example=dc.sources_per_example,
                                            refusal_fraction=dc.refusal_fraction, max_items=dc.max_grounded,
                                            max_seq_tokens=profile.max_seq_length, held_out_files=held_files,
                                            held_out_questions=held_qs)
        sft = sft + [Example("sft", "generated", "security", f"grounded:{it.kind}:{it.answer_source}", 0,
                             messages=it.messages, task="grounded_answer",
                             truth={"question": it.question, "source": it.answer_source, "refusal": it.refusal,
                                    "in_corpus": it.kind == "heading" or it.from_corpus})
                     for it in items]
        report["grounded"] = asdict(gc) | {"built": len(items)}
        progress(f"data: {len(items)} grounded-answering examples ({gc.refusals} refusals) from "
                 f"{gc.chunks} corpus chunks and {len(qa)} Q&A records"
                 + (f"; {gc.held_out} held out for the eval" if gc.held_out else ""))
    return sft, report


def app_format_hash() -> str:
    """sha256 over the app modules that define the training format: a change there rebuilds the data."""
    import hashlib

    import app.analysis.contract
    import app.analysis.model_layer
    import app.knowledge.prompt_format
    import app.prompts

    h = hashlib.sha256()
    for mod in (app.analysis.contract, app.analysis.model_layer, app.knowledge.prompt_format, app.prompts):
        h.update(Path(mod.__file__).read_bytes())
    return h.hexdigest()


def data_config(profile: Profile, *, strict: bool, allow_pickle: bool) -> dict:
    from builder.eval_questions import file_digest

    return {"profile": profile_config(profile, "data"), "strict": strict, "allow_pickle": allow_pickle,
            "app_format": app_format_hash(), "eval_questions": file_digest(profile.eval.questions)}


def run_data(run: RunDir, profile: Profile, *, inputs: Sequence[str] | None = None, strict: bool = False,
             allow_pickle: bool = False, force: bool = False, progress: Progress = lambda m: None) -> StageResult:
    """The data stage; skipped when its inputs and config are unchanged."""
    inputs = list(inputs) if inputs else default_inputs(profile)
    cfg = data_config(profile, strict=strict, allow_pickle=allow_pickle) | {"inputs": inputs}
    st = run.stage("data")
    hashable = [readers.Input.parse(a).spec for a in inputs if not readers.Input.parse(a).is_hf]
    for a in hashable:  # refuse pickles before hashing anything
        readers.expand(readers.Input(a), allow_pickle=allow_pickle)
    if not force and st.is_fresh(config=cfg, inputs=hashable):
        progress("data: unchanged inputs and config — skipped")
        return st.result()
    dc = profile.data
    progress(f"data: reading {len(inputs)} input(s)")
    examples, issues, files, triplets = collect(inputs, strict=strict, allow_pickle=allow_pickle, max_chars=dc.max_chars)
    st.begin(config=cfg, inputs=hashable)
    read_counts = Counter(e.source for e in examples)
    for i in issues[:20]:
        log.warning("skipped bad record %s", i)

    secrets: Counter = Counter()
    for ex in examples:
        _scrub(ex, secrets)
        ex.lang = clean.language(ex.flat_text())
        ex.code_langs = clean.code_languages(ex.flat_text())

    ledger = Ledger()
    for i in issues:
        ledger.rows.append(LedgerRow(i.file, i.line, "dropped", f"bad record: field {i.field!r}: {i.message}"))
    too_short = [e for e in examples if len(e.flat_text()) < dc.min_chars]
    too_long = [e for e in examples if len(e.flat_text()) > dc.max_chars]
    for e in too_short:
        ledger.drop(e, f"shorter than data.min_chars ({dc.min_chars})")
    for e in too_long:
        ledger.drop(e, f"longer than data.max_chars ({dc.max_chars})")
    bad = {id(e) for e in too_short + too_long}
    examples = [e for e in examples if id(e) not in bad]

    seen: set[str] = set()
    uniq: list[Example] = []
    for ex in examples:
        k = clean.exact_key(ex.kind + "\0" + ex.flat_text())
        if k not in seen:
            seen.add(k)
            uniq.append(ex)
        else:
            ledger.drop(ex, "exact duplicate of an earlier record")
    exact_dups = len(examples) - len(uniq)
    near = set()
    for kind in ("sft", "corpus"):
        group = [e for e in uniq if e.kind == kind]
        near |= {id(group[i]) for i in clean.near_duplicates([e.flat_text() for e in group], dc.near_dup_threshold)}
    kept = [e for e in uniq if id(e) not in near]
    for e in uniq:
        if id(e) in near:
            ledger.drop(e, f"near duplicate (similarity ≥ {dc.near_dup_threshold})")

    sft = [e for e in kept if e.kind == "sft"]
    corpus = [e for e in kept if e.kind == "corpus"]
    sft, tasks = app_tasks(sft, corpus, profile, progress, ledger)
    seed = profile.train.seed
    parts = {}
    for dom in ("security", "general"):
        free = [e for e in sft if e.domain == dom and not e.pinned]
        tr, va = mix.split(free, val_fraction=dc.val_fraction, seed=seed)
        pinned = [e for e in sft if e.domain == dom and e.pinned]  # a record that names its split keeps it
        parts[dom] = (tr + [e for e in pinned if e.pinned == "train"], va + [e for e in pinned if e.pinned == "val"])
    train, rep = mix.mix(parts["security"][0], parts["general"][0], ratio=dc.mix_ratio, seed=seed)
    val, vrep = mix.mix(parts["security"][1], parts["general"][1], ratio=dc.mix_ratio, seed=seed)
    train, review_copies = mix.repeat_task(train, "code_analysis", dc.review_weight, seed=seed)
    if not train:
        raise BastionError("no usable instruction/conversation records left after validation and cleaning",
                           hint=f"{len(issues)} bad record(s) were skipped; see data_report.json or rerun with --strict")
    progress(f"data: {rep.message()}")

    ledger.kept(train, "train")
    ledger.kept(val, "val")
    ledger.kept(corpus, "corpus")
    unused = {id(e) for e in train + val + corpus}
    for e in sft:
        if id(e) not in unused and e.source.split(":", 1)[0] != "grounded":
            ledger.drop(e, "left out by the security:general mix ratio")
    write_text(st.dir / "records.jsonl", ledger.jsonl())
    _write_jsonl(st.dir / "train.jsonl", train)
    _write_jsonl(st.dir / "val.jsonl", val)
    _write_jsonl(st.dir / "corpus.jsonl", corpus)
    from builder.plots import histogram

    histogram({"security": [len(e.flat_text()) for e in train + val if e.domain == "security"],
               "general": [len(e.flat_text()) for e in train + val if e.domain == "general"],
               "corpus": [len(e.text) for e in corpus]},
              st.dir / "lengths.png", title="Record lengths after cleaning", xlabel="characters")
    final = train + val
    report = {
        "inputs": inputs,
        "files": [_source_name(f) for f in files],
        "records_read": sum(read_counts.values()),
        "read_per_source": dict(read_counts),
        "bad_records": len(issues),
        "triplets_left_for_embed_stage": triplets,
        "issues": [vars(i) for i in issues[:MAX_ISSUES_IN_REPORT]],
        "secrets_scrubbed": sum(secrets.values()),
        "secrets_by_kind": dict(secrets),
        "too_short": len(too_short),
        "too_long": len(too_long),
        "exact_duplicates": exact_dups,
        "near_duplicates": len(near),
        "train": len(train),
        "val": len(val),
        "corpus": len(corpus),
        "mix": vars(rep) | {"message": rep.message()},
        "review_weight": dc.review_weight,
        "review_copies_added": review_copies,
        "val_mix": vars(vrep),
        "per_domain": dict(Counter(e.domain for e in final)),
        "per_format": dict(Counter(e.format for e in final + corpus)),
        "per_task": dict(Counter(e.task for e in final)),
        "per_language": dict(Counter(e.lang for e in final + corpus)),
        "per_code_language": dict(Counter(c for e in final for c in e.code_langs)),
        "per_source": dict(Counter(e.source for e in final + corpus)),
        "app_tasks": tasks,
        "outcomes": ledger.counts(),
        "ledger": "records.jsonl (one line per input record: what it became, or why it was dropped)",
    }
    write_text(st.dir / "data_report.json", json.dumps(report, indent=2, ensure_ascii=False))
    summary = DataSummary(**{k: report[k] for k in ("records_read", "bad_records", "secrets_scrubbed", "exact_duplicates",
                                                    "near_duplicates", "too_short", "too_long", "train", "val", "corpus")},
                          mix=rep.message(),
                          app_tasks={k: tasks[k]["built"] for k in ("review", "grounded") if k in tasks})
    progress(f"data: {summary.records_read} read, {len(issues)} bad skipped, {summary.secrets_scrubbed} secrets "
             f"scrubbed, {exact_dups}+{len(near)} duplicates removed → train {len(train)}, val {len(val)}, corpus {len(corpus)}")
    return st.finish(outputs=["train.jsonl", "val.jsonl", "corpus.jsonl", "data_report.json", "records.jsonl",
                              "lengths.png"], summary=summary.to_dict())


@dataclass
class LedgerRow:
    """What one input record became: `became` is train/val/corpus (with its task) or `dropped` (with why)."""

    source: str
    line: int
    became: str
    why: str = ""
    task: str = ""


@dataclass
class Ledger:
    """Per-record outcomes of the data stage, written as records.jsonl beside the report."""

    rows: list[LedgerRow] = field(default_factory=list)

    def drop(self, e: Example, why: str) -> None:
        self.rows.append(LedgerRow(e.source, e.line, "dropped", why, e.task if e.kind == "sft" else "corpus"))

    def kept(self, examples: list[Example], split: str) -> None:
        seen: set[int] = set()
        for e in examples:
            if id(e) in seen:  # review copies (data.review_weight) are one record
                continue
            seen.add(id(e))
            self.rows.append(LedgerRow(e.source, e.line, split, task=e.task if e.kind == "sft" else "corpus"))

    def counts(self) -> dict[str, int]:
        c = Counter(f"{r.became}:{r.task}" if r.became != "dropped" else f"dropped:{r.why.split(':')[0]}"
                    for r in self.rows)
        return dict(sorted(c.items()))

    def jsonl(self) -> str:
        return "".join(json.dumps(asdict(r), ensure_ascii=False) + "\n" for r in self.rows)
