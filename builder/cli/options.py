"""Options every builder command spells the same way (fastapi-cli style `Annotated`-free Typer defaults)."""

from __future__ import annotations

import typer

RunOpt = typer.Option(None, "--run", "--out", help="Run directory (default: runs/<profile>-<name>).")
NameOpt = typer.Option("default", "--name", help="Run name, used in the default run directory.")
ProfileOpt = typer.Option(..., "--profile", "-p", help="Model profile name or .toml path (see `builder profiles`).")
ForceOpt = typer.Option(False, "--force", help="Rerun even when inputs and config are unchanged.")
JsonOpt = typer.Option(False, "--json", help="Print the result as JSON.")
DataOpt = typer.Option(None, "--data", "-d", help="Input file/folder (instruction data, documents, triplet .jsonl); repeatable.")
NotesOpt = typer.Option(True, "--starter-notes/--no-starter-notes", help="Also index (and mine pairs from) Bastion's own security notes.")
LlamaCppOpt = typer.Option(None, "--llama-cpp-dir", help="Use this llama.cpp checkout's converter.")
ShipForceOpt = typer.Option(False, "--force", help="Rerun even when unchanged, and ship a tuned model that failed the "
                            "eval gate (worse than its base through the app's pipelines).")
EvalQuestionsOpt = typer.Option(None, "--eval-questions", help="JSONL of held-out questions {id, question, files} "
                                "(e.g. bench/data/wstg_questions.jsonl): the eval asks its test half (sha1(id) odd) and no "
                                "training answer is built from their answering files. Overrides the profile's eval.questions.")
