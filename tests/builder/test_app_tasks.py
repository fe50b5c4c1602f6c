"""The builder trains for the app's own tasks: one contract, app-format data, a gate, a stage registry.

Fast tests (no model): the app's analysis contract is the grammar the model layer sends, review
targets validate against it, grounded examples use the app's prompt builder, the gate and the
analysis default, typed stage reports, the registry, and the profile-derived rebuild check.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.analysis import contract, model_layer
from app.analysis.models import Evidence, Finding, Risk
from app.errors import BastionError
from builder.data import grounded, review
from builder.stages.data.stage import SAMPLE_DIR
from builder.profiles import Profile, load_profile, profile_config
from tests.builder.app_format import assert_app_grounded, assert_app_review

CODE = 'import os\n\ndef ping(host):\n    os.system("ping -c 1 " + host)\n'
FIXED = 'import os\n\ndef ping(host):\n    subprocess.run(["ping", "-c", "1", host], check=True)\n'
LABELLED = {"analysis": "The host is concatenated into a shell command, so `; rm -rf ~` runs a second command.",
            "label": "critical",
            "risk": {"cwe": "CWE-78", "name": "OS Command Injection", "why": "Shell metacharacters in host run commands."},
            "fix": {"summary": "Call the program with an argument list.", "code": FIXED}}


def _finding(line: int, cwe: str) -> Finding:
    return Finding(analysis="rule text", label="high", risk=Risk(cwe_id=cwe), confidence=0.8,
                   evidence=[Evidence(engine="semgrep", rule_id="r", line=line, end_line=line, message="m")])


@pytest.fixture(scope="module")
def profile():
    return load_profile("smollm2-135m")


def test_the_contract_is_the_grammar_the_model_layer_sends():
    for n in (0, 1, 3):
        messages, schema = review.review_messages(CODE, "python", [_finding(4, "CWE-78")] * n)
        assert schema == contract.review_schema(n)
        assert messages[0]["content"] == model_layer._messages("", "python", [], "", "")[0]["content"]


def test_review_targets_validate_against_the_app_contract():
    findings = [_finding(4, "CWE-78")]
    target = review.target_for(CODE, findings, LABELLED)
    parsed = contract.parse_review(json.dumps(target), 1)
    assert parsed.F1.verdict == "confirm" and parsed.extra == []
    assert target["F1"]["fixed_lines"] == '    subprocess.run(["ping", "-c", "1", host], check=True)'
    # the rules missed it: the labelled weakness becomes the one extra finding
    missed = review.target_for(CODE, [], LABELLED)
    assert contract.parse_review(missed, 0).extra[0].cwe == "CWE-78"
    # clean code with a rule hit: the review disputes it, and adds nothing
    safe = review.target_for(CODE, findings, dict(LABELLED, label="safe", risk={}))
    assert safe["F1"]["verdict"] == "dispute" and safe["extra"] == []
    contract.parse_review(safe, 1)
    # the app's contract is strict: a target in the builder's old shape fails
    with pytest.raises(Exception):
        contract.parse_review({"analysis": "x", "label": "high", "risk": {}, "fix": {}}, 0)
    # every prompt + target pair passes the same check the data-stage test uses
    messages, _ = review.review_messages(CODE, "python", findings)
    assert_app_review(messages + [{"role": "assistant", "content": json.dumps(target)}])


def test_grounded_examples_use_the_app_prompt_and_never_invent():
    docs = [(str(p), p.read_text(encoding="utf-8")) for p in sorted((SAMPLE_DIR / "corpus").glob("*.md"))]
    docs += [(str(p), p.read_text(encoding="utf-8")) for p in sorted((SAMPLE_DIR / "corpus").glob("*.txt"))]
    qa = [("How do I store user passwords safely?",
           "Hash them with a slow, salted password hash such as argon2id or bcrypt.", "qa.jsonl")]
    items, counts = grounded.build_grounded(qa, docs, seed=1, refusal_fraction=0.5, max_seq_tokens=512)
    assert counts.from_qa == 1 and counts.from_headings >= 3 and counts.refusals >= 1
    for it in items:
        assert_app_grounded(it.messages)
        user, answer = it.messages[-2]["content"], it.messages[-1]["content"]
        if it.refusal:
            assert answer == grounded.NOT_COVERED and it.answer_chunk.text.strip() not in user
        else:  # every answer sentence is copied from the answering source shown to the model
            for sentence in answer.replace("\n", " ").split(" ["):
                words = sentence.split("]", 1)[-1].strip(" .")
                assert not words or words.split()[0].strip(".,") in it.answer_chunk.text


def test_gate_and_analysis_default():
    """A tuned model worse than its base is refused unless forced; the analysis default is the app's own rule."""
    from app.analysis.policy import decide as app_policy
    from builder.app_eval import AppEval, ModelEval, decide
    from builder.stages.bundle.stage import _app_metrics, check_gate

    good = {"model": {"grounded_answer_rate": 0.6, "refusal_rate": 1.0, "answerable": 10, "off_corpus": 4}}
    broken = {"model": {"grounded_answer_rate": 0.0, "refusal_rate": 0.25, "answerable": 10, "off_corpus": 4}}
    static = {"precision": 0.9, "recall": 0.5, "f1": 0.643}
    helps = {"files": 4, "hybrid": {"precision": 0.9, "recall": 0.75, "f1": 0.818}, "schema_valid_rate": 0.5,
             "schema_checked": 8}
    ev = decide(AppEval(static=static, base=ModelEval(model="base", grounded=good, analysis=helps),
                        tuned=ModelEval(model="tuned", grounded=broken, analysis=dict(helps, schema_valid_rate=0.0))))
    assert not ev.gate_passed and len(ev.gate_reasons) == 3, ev.gate_reasons
    with pytest.raises(BastionError, match="worse than its base"):
        check_gate(ev, force=False, progress=lambda m: None)
    said = []
    check_gate(ev, force=True, progress=said.append)
    assert "--force" in said[0]
    # the manifest carries the evidence in the app's contract; the app's policy reads it the same way
    assert ev.analysis_model_default is True
    metrics = _app_metrics(ev)
    assert app_policy(metrics).use_model is True and metrics["analysis"]["cases"] == 4
    hurts = dict(helps, hybrid={"precision": 0.6, "recall": 0.75, "f1": 0.667})
    ok = decide(AppEval(static=static, base=ModelEval(model="base", grounded=broken),
                        tuned=ModelEval(model="tuned", grounded=good, analysis=hurts)))
    assert ok.gate_passed and ok.analysis_model_default is False and "does not improve" in ok.analysis_model_default_why
    assert decide(AppEval(tuned=ModelEval(model="tuned"))).analysis_model_default is None
    # a small drop on a few items is noise, not a regression
    noisy = {"model": {"grounded_answer_rate": 0.5, "refusal_rate": 0.75, "answerable": 2, "off_corpus": 4}}
    assert decide(AppEval(base=ModelEval(model="base", grounded=good), tuned=ModelEval(model="tuned", grounded=noisy))).gate_passed


def test_stage_reports_round_trip_typed(tmp_path):
    from builder.stage_report import EmbedReport

    rep = EmbedReport(base_model="m", chosen="tuned", gate={"verdict": "ok"}, base={}, tuned={}, dim=384,
                      max_tokens=256, fingerprint="f" * 64)
    rep.save(tmp_path)
    back = EmbedReport.load(tmp_path)
    assert back.chosen == "tuned" and back.dim == 384 and back.report_schema == EmbedReport.SCHEMA
    raw = json.loads((tmp_path / EmbedReport.FILE).read_text())
    (tmp_path / EmbedReport.FILE).write_text(json.dumps(raw | {"report_schema": 99}))
    with pytest.raises(BastionError, match="newer builder"):
        EmbedReport.load(tmp_path)
    with pytest.raises(BastionError, match="missing"):
        EmbedReport.load(tmp_path / "nowhere")


def test_a_new_stage_needs_only_its_registry_entry(tmp_path, profile):
    from builder.build import parse_stages, run_build
    from builder.rundir import RunDir
    from builder.stages import StageSpec, StageSummary, register_stage, stage_names, unregister_stage

    @dataclass
    class DummySummary(StageSummary):
        made: int = 0

        def summary_line(self, folder):
            return f"- **Dummy**: made {self.made}"

    def run_dummy(ctx):
        st = ctx.run.stage("dummy")
        st.begin(config={"profile": profile_config(ctx.profile, "dummy")})
        (st.dir / "out.txt").write_text("made")
        return st.finish(outputs=["out.txt"], summary=DummySummary(made=1).to_dict())

    register_stage(StageSpec("dummy", run_dummy, DummySummary), after="data")
    try:
        assert stage_names()[:2] == ("data", "dummy") and parse_stages("bundle,dummy") == ["dummy", "bundle"]
        res = run_build(RunDir(tmp_path / "run", profile=profile.name), profile, stages=["dummy"], starter_notes=False)
        assert res.results["dummy"].summary == {"made": 1}
        assert "- **Dummy**: made 1" in (tmp_path / "run" / "summary.md").read_text()
    finally:
        unregister_stage("dummy")
    assert "dummy" not in stage_names()


def test_rebuild_check_is_derived_from_the_profile_model(profile):
    for name, info in Profile.model_fields.items():
        assert isinstance(info.json_schema_extra, dict) and "affects" in info.json_schema_extra, name
    changed = profile.model_copy(update={"lora": profile.lora.model_copy(update={"r": 4})})
    assert profile_config(changed, "train") != profile_config(profile, "train")
    assert profile_config(changed, "data") == profile_config(profile, "data")
    assert "data" in profile_config(profile, "data") and "max_seq_length" in profile_config(profile, "data")


def test_builder_and_app_do_not_import_each_other():
    root = Path(__file__).resolve().parents[2]
    for f in (root / "builder").rglob("*.py"):
        assert "app.cli" not in f.read_text(encoding="utf-8"), f
    for f in (root / "app").rglob("*.py"):
        text = f.read_text(encoding="utf-8")
        assert "from builder" not in text and "import builder" not in text, f


def test_a_rule_hit_on_another_weakness_keeps_the_rules_own_words():
    other = _finding(4, "CWE-79")
    other.evidence[0].message = "Request data is returned in an HTML response without escaping."
    target = review.target_for(CODE, [_finding(4, "CWE-78"), other], LABELLED)
    assert target["F1"]["explanation"].startswith("The host is concatenated")
    assert target["F2"]["explanation"] == other.evidence[0].message and target["F2"]["verdict"] == "confirm"
    contract.parse_review(target, 2)


def test_same_document_across_data_and_index_paths():
    from builder.app_eval import same_doc

    assert same_doc("builder/sample_data/corpus/notes.md", "corpus/notes.md")
    assert same_doc("/data/one/notes.md", "docs/notes.md")
    assert not same_doc("wstg/document/4-Testing/01-Info/README.md", "document/4-Testing/02-Config/README.md")


def test_review_figures_through_the_analyze_path():
    """What `bastion analyze` took from the model: answers accepted (JSON closed) and verdicts against the label."""
    from types import SimpleNamespace as NS

    from app.analysis.model_layer import CUT_OFF_NOTE
    from builder.app_eval import AnalysisScores, AppEval, ModelEval, _score_reviews, decide

    f = lambda src, verdict: NS(source=src, model_verdict=verdict)  # noqa: E731
    sc = AnalysisScores(files=3)
    _score_reviews(sc, {"label": "high"}, NS(findings=[f("static", "confirm"), f("both", "dispute"), f("model", "confirm")],
                                             notes=[]))
    _score_reviews(sc, {"label": "safe"}, NS(findings=[f("static", None)], notes=[CUT_OFF_NOTE]))
    _score_reviews(sc, {"label": "high"}, NS(findings=[], notes=[]))  # nothing to review: not counted
    fig = sc.figures()
    assert (fig["reviews"], fig["review_accepted_rate"], fig["verdicts"], fig["verdict_accuracy"]) == (2, 0.5, 3, 0.3333)
    good = {"files": 4, "review_accepted_rate": 1.0, "reviews": 4, "verdict_accuracy": 1.0, "verdicts": 6}
    bad = dict(good, review_accepted_rate=0.25, verdict_accuracy=0.0)
    ev = decide(AppEval(base=ModelEval(model="b", analysis=good), tuned=ModelEval(model="t", analysis=bad)))
    assert not ev.gate_passed and any("`bastion analyze` takes" in r for r in ev.gate_reasons)
    assert any("verdicts right" in r for r in ev.gate_reasons)
