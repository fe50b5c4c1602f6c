"""`builder export`: merge → HF folder → f16 GGUF → quantized GGUF → verify → Ollama Modelfile.

Outputs in `<run>/export/`: `hf/` (merged 16-bit checkpoint), `model-f16.gguf`,
`model-<QUANT>.gguf` (the file a bundle ships; its name is `ExportSummary.llm_gguf`),
optionally `adapter-f16.gguf`, `Modelfile`, `export_report.json`.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

from app.atomic import write_text
from app.errors import BastionError
from builder import llamacpp
from builder.profiles import Profile, profile_config
from builder.rundir import Progress, RunDir, StageResult, human_bytes, peak_rss_mb
from builder.stages.export.summary import ExportSummary

log = logging.getLogger(__name__)

VERIFY_NEW_TOKENS = 8


def convert_lora(adapter: Path, base_dir: Path, out: Path, *, llama_cpp_dir: Path | None = None) -> Path:
    """llama.cpp's convert_lora_to_gguf.py (same converter folder as the model conversion)."""
    conv = llamacpp.converter_dir(llama_cpp_dir)
    script = conv / "convert_lora_to_gguf.py"
    if not script.is_file():
        raise BastionError(f"{conv} has no convert_lora_to_gguf.py", hint="pass --llama-cpp-dir to a full llama.cpp checkout")
    tmp = out.with_name(out.name + ".partial")
    env = dict(os.environ, PYTHONPATH=str(conv / "gguf-py") + os.pathsep + os.environ.get("PYTHONPATH", ""),
               HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    proc = subprocess.run([sys.executable, str(script), str(adapter), "--base", str(base_dir), "--outfile", str(tmp),
                           "--outtype", "f16"], capture_output=True, text=True, env=env)
    if proc.returncode != 0 or not tmp.exists():
        tmp.unlink(missing_ok=True)
        tail = "\n".join(proc.stderr.strip().splitlines()[-5:])
        raise BastionError(f"LoRA GGUF conversion failed:\n{tail}", hint="check the adapter folder and --llama-cpp-dir")
    os.replace(tmp, out)
    return out


def run_export(run: RunDir, profile: Profile, *, llama_cpp_dir: Path | None = None, quant: str | None = None,
               lora_gguf: bool = False, force: bool = False, progress: Progress = lambda m: None) -> StageResult:
    t_start = time.perf_counter()
    qtype = (quant or profile.quantization).upper()
    train = run.require("train", hint=f"run `builder train --profile {profile.name} --run {run.root}` first")
    adapter = train.dir / "adapter"
    from builder.train.base_model import ensure_base

    base = ensure_base(run, profile, progress=progress)
    cfg = {"quant": qtype, "lora_gguf": lora_gguf, "profile": profile_config(profile, "export"),
           "llama_cpp_python": llamacpp.llama_cpp_python_version(), "llama_cpp_dir": str(llama_cpp_dir or ""),
           "verify": {"probes": 2, "new_tokens": VERIFY_NEW_TOKENS}}
    inputs = [adapter] + ([base.path] if base.local else [])
    st = run.stage("export")
    if not force and st.is_fresh(config=cfg, inputs=inputs):
        progress("export: unchanged adapter and config — skipped")
        return st.result()
    llamacpp.converter_dir(llama_cpp_dir)  # fail early (and offline-clearly) before the slow merge
    st.begin(config=cfg, inputs=inputs, resume=False)
    from builder.export import merge, modelfile, verify

    rep: dict = {"quant": qtype}
    hf_dir = st.dir / "hf"
    progress("export: merging the adapter into the 16-bit base")
    t = time.perf_counter()
    rep["merge"] = merge.merge_adapter(base, adapter, hf_dir, probes=verify.GEN_PROBES[:3])
    rep["merge"]["seconds"] = round(time.perf_counter() - t, 2)

    f16 = st.dir / "model-f16.gguf"
    progress("export: converting to GGUF (f16) with llama.cpp's converter")
    t = time.perf_counter()
    llamacpp.convert_hf_to_gguf(hf_dir, f16, outtype="f16", llama_cpp_dir=llama_cpp_dir)
    rep["convert_s"] = round(time.perf_counter() - t, 2)
    qname = f"model-{qtype}.gguf"
    outputs = ["hf", "model-f16.gguf"]
    if qtype != "F16":
        progress(f"export: quantizing to {qtype}")
        from app.llm.native_log import silence_native_logs

        silence_native_logs()  # llama.cpp prints one line per tensor otherwise
        t = time.perf_counter()
        llamacpp.quantize(f16, st.dir / qname, qtype)
        rep["quantize_s"] = round(time.perf_counter() - t, 2)
        outputs.append(qname)
    else:
        qname = "model-f16.gguf"
    rep["f16_bytes"] = f16.stat().st_size
    rep["quant_bytes"] = (st.dir / qname).stat().st_size
    rep["size_ratio"] = round(rep["quant_bytes"] / rep["f16_bytes"], 4)
    if lora_gguf:
        progress("export: writing the LoRA adapter as GGUF")
        convert_lora(adapter, base.path if base.local else Path(base.name_or_path), st.dir / "adapter-f16.gguf",
                     llama_cpp_dir=llama_cpp_dir)
        outputs.append("adapter-f16.gguf")

    progress("export: verifying with the app's engine")
    rep["verify"] = _verify(hf_dir, f16, st.dir / qname, profile)
    write_text(st.dir / "Modelfile", modelfile.modelfile(profile, qname))
    outputs.append("Modelfile")
    rep["wall_s"] = round(time.perf_counter() - t_start, 2)
    rep["peak_rss_mb"] = round(peak_rss_mb(), 1)
    write_text(st.dir / "export_report.json", json.dumps(rep, indent=2, ensure_ascii=False))
    outputs.append("export_report.json")
    v = rep["verify"]
    progress(f"export: f16 {human_bytes(rep['f16_bytes'])} → {qtype} {human_bytes(rep['quant_bytes'])} "
             f"(convert {rep['convert_s']} s, quantize {rep.get('quantize_s', 0)} s); tokenizer "
             f"{v['tokenizer']['matched']}/{v['tokenizer']['probes']}; next-token agreement f16 "
             f"{v['agreement_f16']['rate']}, {qtype} {v['agreement_quant']['rate']}; chat ends at stop: "
             f"{v['chat']['ends_at_stop']}")
    summary = ExportSummary(llm_gguf=qname, f16_bytes=rep["f16_bytes"], quant_bytes=rep["quant_bytes"],
                            convert_s=rep["convert_s"], quantize_s=rep.get("quantize_s"),
                            merge_max_abs_logit_diff=rep["merge"]["merge_max_abs_logit_diff"],
                            tokenizer_match=f"{v['tokenizer']['matched']}/{v['tokenizer']['probes']}",
                            agreement_f16=v["agreement_f16"]["rate"], agreement_quant=v["agreement_quant"]["rate"],
                            chat_ends_at_stop=v["chat"]["ends_at_stop"], wall_s=rep["wall_s"])
    return st.finish(outputs=outputs, summary=summary.to_dict())


def _verify(hf_dir: Path, f16: Path, qfile: Path, profile: Profile) -> dict:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from builder.export import verify

    tok = AutoTokenizer.from_pretrained(str(hf_dir))
    model = AutoModelForCausalLM.from_pretrained(str(hf_dir), dtype=torch.float32)
    model.eval()
    seqs = verify.hf_greedy(model, tok, verify.GEN_PROBES, new_tokens=VERIFY_NEW_TOKENS)
    del model
    out: dict = {}
    eng = verify.engine(f16, stop=profile.stop)
    try:
        out["load_s"] = round(eng.load_seconds or 0, 3)
        out["tokenizer"] = verify.tokenizer_parity(eng, tok)
        out["agreement_f16"] = verify.next_token_agreement(eng, seqs)
    finally:
        eng.close()
    eng = verify.engine(qfile, stop=profile.stop)
    try:
        out["agreement_quant"] = verify.next_token_agreement(eng, seqs)
        out["chat"] = verify.chat_check(eng)
    finally:
        eng.close()
    if out["tokenizer"]["mismatches"]:
        log.warning("tokenizer mismatch on %d probe(s)", len(out["tokenizer"]["mismatches"]))
    return out
