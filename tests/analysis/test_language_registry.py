"""The language registry is the one table of analysis languages: detection, the scanners' suffixes, the
optional engines, syntax checks, sink tables, the CLI's `--lang` help and the TUI's list and highlighting
read it. A new language is one `register_language(...)` entry plus its own rules, and nothing else."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from app.analysis import engines, languages, syntax
from app.analysis.language import Language, ToolCheck, hint
from app.analysis.languages import register_language, unregister_language
from app.analysis.unsupported import unsupported
from app.errors import BastionError

ROOT = Path(__file__).resolve().parents[2]

TOY = Language("toylang", (".toy", ".toyx"), aliases=("toy", "toyscript"), shebang="toyrun",
               hints=(hint(r"^\s*toy!\s", 9, re.M),), engines=("shellcheck",),
               syntax=ToolCheck("toycheck", "no-such-toy-checker"))


@pytest.fixture
def toy():
    register_language(TOY)
    yield TOY
    unregister_language(TOY.name)


def _lang_help() -> str:
    """The `--lang` line of `bastion analyze --help`, unwrapped."""
    from typer.testing import CliRunner

    from app.cli.main import cli

    result = CliRunner().invoke(cli, ["analyze", "--help"])
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.split())
    return re.search(r"Language override: [^.]*\.", flat).group(0)


async def _tui_choices() -> list[str]:
    """The values the analysis screen's language list offers, read from the mounted widget."""
    from textual.app import App
    from textual.widgets import OptionList, Select

    from app.tui.analysis_screen import AnalysisScreen

    class Harness(App):
        def on_mount(self) -> None:
            self.push_screen(AnalysisScreen())

    app = Harness()
    async with app.run_test() as pilot:
        await pilot.pause()
        options = app.screen.query_one("#language", Select).query_one(OptionList)
        prompts = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        return prompts[1:]  # the first is the blank choice (automatic detection)


def test_a_new_language_is_detected_scanned_and_listed_with_no_other_edit(toy, tmp_path):
    assert languages.detect("x", filename="src/a.toy") == "toylang"
    assert languages.detect("x", filename="src/A.TOYX") == "toylang"
    assert languages.normalise(" ToyScript ") == "toylang"
    assert languages.from_content("toy! hello\n") == "toylang"
    assert languages.from_content("#!/usr/bin/env toyrun\nhello\n") == "toylang"
    assert unsupported("toy! hello", filename="a.toy") is None
    assert languages.suffix("toylang") == ".toy"
    # the optional engine it names covers it; its syntax check is used (here: not installed)
    assert "toylang" in next(s for s in engines.SPECS if s.name == "shellcheck").languages
    assert syntax.check("x", "toylang").ok is None
    # the walker treats its files as source, the scanners keep its suffix
    from app.analysis.static import _aliases
    from app.analysis.walker import _looks_like_source

    assert _looks_like_source(tmp_path / "b.toy")
    src = tmp_path / "b.toy"
    src.write_text("toy! hi\n")
    assert _aliases([str(src)], {str(src): "toylang"}, {}, tmp_path)[str(src)].endswith(".toy")
    # an error names it among the choices
    with pytest.raises(BastionError, match="toylang"):
        languages.normalise("nope")


async def test_the_tui_list_picks_up_a_new_language(toy):
    assert await _tui_choices() == languages.names()
    assert "toylang" in languages.names()


def test_the_cli_help_picks_up_a_new_language(toy):
    assert _lang_help() == "Language override: python, javascript, typescript, php, java, c, cpp, bash, go, toylang."


def test_registering_a_listed_unsupported_language_makes_it_supported():
    lua = Language("lua", (".lua",), shebang="lua")
    assert unsupported("print(1)", filename="a.lua") == "Lua"
    assert unsupported("#!/usr/bin/env lua\nprint(1)\n") == "Lua"
    register_language(lua)
    try:
        assert unsupported("print(1)", filename="a.lua") is None
        assert unsupported("#!/usr/bin/env lua\nprint(1)\n") is None
        assert languages.detect("print(1)", filename="a.lua") == "lua"
    finally:
        unregister_language("lua")
    assert unsupported("print(1)", filename="a.lua") == "Lua"


def test_a_clash_with_a_registered_name_alias_or_suffix_is_refused():
    for clash in (Language("python", (".zz",)), Language("zz", (".zz",), aliases=("js",)), Language("zz", (".py",))):
        with pytest.raises(ValueError, match="already registered"):
            register_language(clash)
    assert "zz" not in languages.LANGUAGES


# -- every consumer reads the registry -------------------------------------------------------------

async def test_the_tui_list_is_the_registry_and_includes_go():
    choices = await _tui_choices()
    assert choices == languages.names() and "go" in choices


def test_the_cli_help_is_the_registry():
    assert _lang_help() == f"Language override: {', '.join(languages.names())}."
    assert _lang_help() == "Language override: python, javascript, typescript, php, java, c, cpp, bash, go."


def test_engines_syntax_highlighting_and_sinks_read_the_registry():
    from app.analysis import LANGUAGES
    from app.tui.code_view import grammar

    assert LANGUAGES is languages.LANGUAGES
    assert {s.name: s.languages for s in engines.SPECS} == {
        "cppcheck": ("c", "cpp"), "clang": ("c", "cpp"), "flawfinder": ("c", "cpp"), "shellcheck": ("bash",)}
    assert languages.using("bandit") == ("python",)
    assert [n for n in languages.names() if syntax.cheap(n)] == ["python", "bash"]
    assert {n: grammar(n) for n in languages.names()} == {n: lang.highlight for n, lang in languages.LANGUAGES.items()}
    assert grammar("go") == "go" and grammar("php") is None and grammar("Rust") == "rust" and grammar(None) is None
    assert [languages.sinks_as(n) for n in ("cpp", "c++", "c", "python", "rust")] == ["c", "c", "c", "python", "rust"]


def _language_tables(path: Path, names: set[str]) -> list[str]:
    """Literal collections in `path` that list three or more registered language names."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Dict):
            items = node.keys
        elif isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            items = node.elts
        else:
            continue
        listed = {i.value for i in items if isinstance(i, ast.Constant) and i.value in names}
        if len(listed) >= 3:
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {sorted(listed)}")
    return found


def test_no_module_keeps_its_own_table_of_languages():
    names = set(languages.names())
    tables = [t for f in sorted((ROOT / "app").rglob("*.py")) if f.name != "languages.py"
              for t in _language_tables(f, names)]
    assert tables == []
