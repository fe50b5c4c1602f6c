"""No widget of ours may reuse a private name of Textual's (the Ctrl+O crash: `SourcesPanel._scroll_to`).

Textual calls its own `_name`s with its own arguments; a subclass that defines the same
name, as a method or as an instance attribute, breaks Textual in ways no type check sees.
This walks every class in `app.tui` that derives from a Textual class and compares the
`_names` its source defines (class attributes, methods and `self._x = ...` assignments) with every name any
of its Textual base classes defines or assigns.
"""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import pkgutil
import textwrap

import app.tui


@functools.cache
def _self_assigned(cls: type) -> set[str]:
    """Names assigned as `self.<name>` anywhere in the class body."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    except (OSError, TypeError, SyntaxError):
        return set()
    names = set()
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for t in targets:
            for sub in ast.walk(t):
                if isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name) and sub.value.id == "self":
                    names.add(sub.attr)
    return names


def _class_body_names(cls: type) -> set[str]:
    """Names the class's own source defines at class level (methods, attributes, nested classes).

    Read from the source, not `vars(cls)`: Textual's metaclass adds its own `_names` to every subclass.
    """
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    body = tree.body[0].body  # type: ignore[attr-defined]
    names = set()
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _our_widget_classes() -> list[type]:
    classes = {}
    for info in pkgutil.walk_packages(app.tui.__path__, "app.tui."):
        module = importlib.import_module(info.name)
        for obj in vars(module).values():
            if inspect.isclass(obj) and obj.__module__ == module.__name__:
                if any(base.__module__.startswith("textual") for base in obj.__mro__[1:]):
                    classes[f"{obj.__module__}.{obj.__qualname__}"] = obj
                    for inner in vars(obj).values():  # nested messages (ChatScreen.Started, ...)
                        if inspect.isclass(inner) and any(b.__module__.startswith("textual") for b in inner.__mro__[1:]):
                            classes[f"{obj.__module__}.{inner.__qualname__}"] = inner
    return list(classes.values())


def _textual_names(cls: type) -> set[str]:
    names: set[str] = set()
    for base in cls.__mro__[1:]:
        if base.__module__.startswith("textual"):
            names |= set(vars(base)) | _self_assigned(base)
    return names


def private_overrides() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for cls in _our_widget_classes():
        ours = {n for n in _class_body_names(cls) | _self_assigned(cls) if _private(n)}
        clash = sorted(ours & _textual_names(cls))
        if clash:
            found[f"{cls.__module__}.{cls.__qualname__}"] = clash
    return found


def test_audit_sees_our_widgets_and_textual_privates():
    """The audit itself works: it finds our classes and would have caught the original bug."""
    classes = {c.__qualname__ for c in _our_widget_classes()}
    assert {"SourcesPanel", "ChatScreen", "BastionApp", "ChatInput", "CodeView"} <= classes
    from textual.containers import VerticalScroll

    assert "_scroll_to" in _textual_names(type("Probe", (VerticalScroll,), {}))


def test_no_textual_private_name_is_overridden():
    found = private_overrides()
    assert not found, ("these classes reuse private Textual names; rename them "
                       f"(Textual calls its own with other arguments): {found}")
