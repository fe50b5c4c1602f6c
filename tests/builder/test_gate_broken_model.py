"""The gate on a real, deliberately broken tuned model: SmolLM2 with its final norm overwritten still loads
and answers, cites nothing and writes no JSON (so it ties the tiny base on every rate), and is refused on its
loss over the held-out app-format answers."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from app.errors import BastionError

pytestmark = pytest.mark.slow


def broken_copy(src, dst):
    """`src` with output_norm.weight set to large random values: a model that loads and talks nonsense."""
    import gguf

    shutil.copyfile(src, dst)
    t = next(t for t in gguf.GGUFReader(str(dst)).tensors if t.name == "output_norm.weight")
    assert t.tensor_type.name == "F32"
    data = np.memmap(dst, dtype=np.float32, mode="r+", offset=int(t.data_offset), shape=(int(t.n_elements),))
    data[:] = np.random.default_rng(0).normal(0, 8, size=data.shape).astype(np.float32)
    data.flush()
    del data
    return dst


@pytest.fixture(scope="module")
def heldout(tmp_path_factory):
    """A few held-out app-format records (grounded answers and code reviews) from the data stage."""
    from builder.stages.data.stage import SAMPLE_DIR, run_data
    from builder.profiles import load_profile
    from builder.rundir import RunDir

    prof = load_profile("smollm2-135m")
    prof = prof.model_copy(update={"data": prof.data.model_copy(update={"val_fraction": 0.3})})
    tmp = tmp_path_factory.mktemp("gate")
    res = run_data(RunDir(tmp / "run", profile=prof.name), prof, inputs=[str(SAMPLE_DIR)])
    rows = [json.loads(x) for x in (res.dir / "val.jsonl").read_text().splitlines() if x.strip()]
    picked = [r for r in rows if r["task"] == "code_analysis"][:2] + [r for r in rows if r["task"] == "grounded_answer"][:2]
    assert len(picked) == 4
    return picked


def _model_eval(path, items, label):
    from builder import chat_eval
    from builder.app_eval import ModelEval

    fig = chat_eval.score_model(path, items, n_ctx=1024, stop=["<|im_end|>"], max_tokens=24, label=label).as_dict()
    return ModelEval(model=label, heldout_loss=fig["loss"], heldout_tokens=fig["response_tokens"],
                     analysis={"schema_valid_rate": fig["schema_valid_rate"], "schema_checked": fig["analysis_items"]})


def test_gate_refuses_a_broken_tuned_gguf(tmp_path, smollm2_gguf, heldout):
    from builder.app_eval import AppEval, decide
    from builder.stages.bundle.stage import check_gate

    base = _model_eval(smollm2_gguf, heldout, "base")
    broken = _model_eval(broken_copy(smollm2_gguf, tmp_path / "broken.gguf"), heldout, "broken")
    # on the rates it ties the base (both write no valid review JSON here), so only the loss can tell them apart
    assert broken.analysis["schema_valid_rate"] == base.analysis["schema_valid_rate"] == 0.0
    assert broken.heldout_loss > base.heldout_loss + 1.0, (base.heldout_loss, broken.heldout_loss)

    ev = decide(AppEval(base=base, tuned=broken))
    assert not ev.gate_passed and any("held-out app-format answers" in r for r in ev.gate_reasons), ev.gate_reasons
    with pytest.raises(BastionError, match="worse than its base"):
        check_gate(ev, force=False, progress=lambda m: None)
    said: list[str] = []
    check_gate(ev, force=True, progress=said.append)
    assert said and "--force" in said[0]

    # the control: the base as its own "tuned" model passes (the test can tell a good model from a broken one)
    same = decide(AppEval(base=base, tuned=base.model_copy(update={"model": "same"})))
    assert same.gate_passed, same.gate_reasons


def test_a_held_out_review_longer_than_the_context_does_not_end_the_eval(smollm2_gguf):
    # a public suite's review record can fill the training length; its answer must be cut to the room
    # left, or skipped, instead of llama.cpp's "Requested tokens exceed context window" ending the stage
    from builder import chat_eval

    code = "\n".join(f"    int v{i} = read_value({i});" for i in range(60))
    rec = {"task": "code_analysis", "messages": [
        {"role": "user", "content": f"Review this C code:\n```c\nvoid f(void) {{\n{code}\n}}\n```"},
        {"role": "assistant", "content": json.dumps({"extra": []})}]}
    fig = chat_eval.score_model(smollm2_gguf, [rec, rec], n_ctx=640, stop=["<|im_end|>"], max_tokens=200,
                                label="long").as_dict()
    assert fig["items"] == 2 and fig["analysis_items"] == 2
