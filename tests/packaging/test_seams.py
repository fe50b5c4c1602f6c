"""The seams between packages stay typed (issue 28): read from the source, so a regression fails here.

- no import circles in `app` or `builder`, function-level imports included (a circle hidden in a function
  is still a circle: it decides what may be imported first);
- at most three `getattr(x, "name", None)` probes in `app/`, each a third-party or platform difference
  named below; none at all on an engine or a reply (the `ChatEngine` and `Reply` protocols are complete);
- no front end imports a private name of the knowledge layer; `app` never imports `builder`; the library
  layer imports no UI toolkit;
- a citation crosses packages as `app.source.Source`, never as a dict built with its keys, and the
  public functions of the library layer return dicts only where the dict is the format (JSON, chat messages).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("app", "builder")
FRONT_ENDS = ("app/cli", "app/tui", "app/serve", "app/ask.py")
LIBRARY = ("app/knowledge", "app/llm", "app/bundle", "app/history", "app/analysis", "app/source.py", "app/ask.py",
           "app/chat.py", "app/prompts.py", "app/runtime.py", "app/settings.py")
UI_TOOLKITS = ("textual", "typer", "rich", "fastapi", "uvicorn")

ALLOWED_PROBES = {
    ("app/llm/prompt_cache.py", "scores"): "llama-cpp-python's LlamaState has `scores` in some releases only",
    ("app/llm/resident/protocol.py", "SO_PEERCRED"): "Linux has it, macOS does not",
    ("app/knowledge/client.py", "close"): "chromadb clients gained `close()` in 1.x; older ones have none",
}
ENGINE_OR_REPLY = re.compile(r"(^|_)(engine|gen|generation|reply|answer|ans|turn|llm)$")
DICT_FORMATS = {
    # name: why a dict is the right return type here
    "as_dict": "serialiser", "as_json": "serialiser", "to_record": "serialiser", "as_metrics": "serialiser",
    "summary": "a JSON row for `bundle list --json`", "describe": "the JSON of `bundle info --json`",
    "params": "llama-cpp-python keyword arguments", "metadata": "the GGUF header's own key/value table",
    "build_messages": "chat messages (the OpenAI wire format)", "build_rag_messages": "chat messages",
    "judge_messages": "chat messages", "chat_turns": "chat messages", "shown_sentences": "JSON rows of `ask --json`",
    "read": "one JSON line of the engine socket protocol", "engine_status": "the engine's JSON hello",
    "stop_engine": "the engine's JSON reply", "smoke_test": "metrics recorded in the manifest",
    "evaluate": "metrics recorded in the manifest", "score_question": "metrics", "build_starter_index": "metrics",
    "preset": "sampling knobs by llama.cpp name", "embedded_templates": "template name -> Jinja text",
    "parse_pax": "tar PAX headers", "file_states": "path -> typed FileState", "fetch": "chroma rows by id",
    "dense": "chroma rows", "read_config_file": "the TOML file's own tables (validated into Settings by the caller)",
}
SOURCE_KEYS = {"n", "path", "file", "heading", "line_start", "start_line", "lines", "kb", "score"}


def _py_files(*roots: str) -> list[Path]:
    out: list[Path] = []
    for r in roots:
        p = ROOT / r
        out += [p] if p.is_file() else sorted(p.rglob("*.py"))
    return out


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _runtime_nodes(tree: ast.AST):
    """Every node except those under `if TYPE_CHECKING:` (annotations only, never imported at run time)."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(x) for b in node.body for x in ast.walk(b))
    return [n for n in ast.walk(tree) if id(n) not in skip]


def _imports(path: Path, modules: set[str]) -> set[str]:
    """The project modules `path` imports (at any depth of the file)."""
    me = _module(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    found: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(up + ([base] if base else []))
            names = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
        for name in names:
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name and name != me:
                found.add(name)
    return found


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(graph.get(w, ())))))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    x = stack.pop()
                    on.discard(x)
                    comp.append(x)
                    if x == v:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def test_cycle_finder_finds_a_circle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_circles():
    files = _py_files(*PACKAGES)
    modules = {_module(p) for p in files}
    graph = {_module(p): _imports(p, modules) for p in files}
    assert _cycles(graph) == []


def _probes(path: Path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("getattr", "hasattr")
                and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant)):
            yield node


def test_at_most_three_getattr_probes_in_app_each_explained():
    found = {}
    for path in _py_files("app"):
        for node in _probes(path):
            if node.func.id == "getattr" and len(node.args) == 3 and ast.unparse(node.args[2]) == "None":
                found[(_rel(path), node.args[1].value)] = node.lineno
    assert set(found) <= set(ALLOWED_PROBES), {k: v for k, v in found.items() if k not in ALLOWED_PROBES}
    assert len(found) <= 3


def test_no_probe_on_an_engine_or_a_reply():
    bad = []
    for path in _py_files("app"):
        for node in _probes(path):
            target = node.args[0]
            name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
            if ENGINE_OR_REPLY.search(name.lower()):
                bad.append(f"{_rel(path)}:{node.lineno}: {ast.unparse(node)}")
    assert bad == []


def test_front_ends_import_no_private_knowledge_name():
    bad = []
    for path in _py_files(*FRONT_ENDS):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("app.knowledge"):
                bad += [f"{_rel(path)}:{node.lineno}: {a.name}" for a in node.names if a.name.startswith("_")]
    assert bad == []


def test_app_never_imports_builder_and_the_library_no_ui():
    for path in _py_files("app"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            mods = ([a.name for a in node.names] if isinstance(node, ast.Import)
                    else [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
            for m in mods:
                assert not m.startswith("builder"), f"{_rel(path)}:{node.lineno} imports {m}"
                if any(_rel(path).startswith(lib) for lib in LIBRARY):
                    assert m.split(".")[0] not in UI_TOOLKITS, f"{_rel(path)}:{node.lineno} imports {m}"


def test_no_citation_dict_is_built_outside_source():
    """A dict literal with three or more of a Source's keys is a citation built by hand: use `Source`."""
    bad = []
    for path in _py_files("app"):
        if _rel(path) == "app/source.py" or _rel(path).startswith("app/analysis"):
            continue  # analysis findings have their own typed model and JSON
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Dict):
                keys = {k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)}
                if len(keys & SOURCE_KEYS) >= 3 and keys & {"path", "file"} and "heading" in keys:
                    bad.append(f"{_rel(path)}:{node.lineno}: {sorted(keys)}")
    assert bad == []


def test_library_returns_dicts_only_where_the_dict_is_the_format():
    bad = []
    for path in _py_files(*LIBRARY):
        if _rel(path).startswith("app/analysis"):
            continue  # the analysis contract is typed in app/analysis/contract.py; its JSON helpers are serialisers
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not node.name.startswith("_")
                    and node.returns is not None and re.search(r"\bdict\b", ast.unparse(node.returns))
                    and node.name not in DICT_FORMATS):
                bad.append(f"{_rel(path)}:{node.lineno}: {node.name} -> {ast.unparse(node.returns)}")
    assert bad == []


def test_run_ask_returns_the_typed_result():
    import inspect

    from app.ask import AskResult, run_ask

    assert inspect.signature(run_ask).return_annotation in (AskResult, "AskResult")


def _protocol_members(proto) -> set[str]:
    names = set(getattr(proto, "__annotations__", {}))
    names |= {n for n, v in vars(proto).items() if not n.startswith("_") and (callable(v) or isinstance(v, property))}
    return names | ({"__iter__"} if "__iter__" in vars(proto) else set())


def test_every_engine_has_the_whole_engine_protocol(tmp_path):
    from app.llm.engine import ChatEngine, EngineConfig, LlamaEngine
    from app.llm.remote import RemoteEngine
    from app.llm.resident.client import ResidentEngine

    members = _protocol_members(ChatEngine)
    assert {"load", "loaded", "close", "max_tokens", "load_seconds", "count_tokens", "chat", "chat_json"} <= members
    engines = [LlamaEngine(tmp_path / "model.gguf", EngineConfig(max_tokens=64)),  # nothing loads until asked
               RemoteEngine("http://127.0.0.1:9/v1", max_tokens=64),
               ResidentEngine(tmp_path / "engine.sock", {"name": "m", "n_ctx": 2048, "max_tokens": 64})]
    for engine in engines:
        missing = sorted(m for m in members if not hasattr(engine, m))
        assert missing == [], f"{type(engine).__name__} lacks {missing}"
        assert engine.max_tokens == 64
    assert engines[1].loaded and engines[1].load() is engines[1]  # a remote engine has nothing to load


def test_generation_and_answer_are_both_replies():
    import threading

    from app.knowledge.answer import Answer
    from app.llm.engine import Generation, GenStats, Reply

    members = _protocol_members(Reply)
    gen = Generation(iter(["Hello ", "there."]), GenStats(finish_reason="stop"), threading.Event())
    plain = Answer.plain(Generation(iter(["Hi."]), GenStats(finish_reason="stop"), threading.Event()))
    for reply in (gen, plain):
        assert sorted(m for m in members if not hasattr(reply, m)) == []
    assert gen.result() == "Hello there." and plain.result() == "Hi." and plain.source_list().shown() == []
