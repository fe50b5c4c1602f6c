"""Every key binding the TUI has, by action name; remappable from `settings.keys`.

The binding id is the action name, so `[keys] cancel = "ctrl+c"` in the settings
file rebinds it through Textual's keymap. The help screen reads this table.
"""

from __future__ import annotations

import logging

from textual.binding import Binding

log = logging.getLogger(__name__)

# id: (default keys, action method, description, where it applies).
# Defaults avoid the editing keys of Textual's Input/TextArea (ctrl+a/e/k/u/w/y/z/x/c/v/d, f6/f7),
# so they work while typing.
ACTIONS: dict[str, tuple[str, str, str, str]] = {
    "send": ("enter", "submit", "Send the message", "chat input"),
    "newline": ("ctrl+j,shift+enter", "newline", "New line in the message", "chat input"),
    "cancel": ("escape", "cancel", "Stop the answer being written", "chat"),
    "regenerate": ("ctrl+r", "regenerate", "Write the last answer again", "chat"),
    "new_chat": ("ctrl+n", "new_chat", "Start a new conversation", "chat"),
    "toggle_sidebar": ("ctrl+b", "toggle_sidebar", "Show or hide the history", "chat"),
    "toggle_sources": ("ctrl+o", "toggle_sources", "Show or hide the sources panel", "chat"),
    "copy_answer": ("ctrl+t", "copy_answer", "Copy the last answer", "chat"),
    "copy_code": ("ctrl+l", "copy_code", "Copy the last code block", "chat"),
    "search_history": ("ctrl+f", "search_history", "Search the history", "chat"),
    "rename_conversation": ("f9", "rename_conversation", "Rename the conversation", "chat"),
    "delete_conversation": ("f8", "delete_conversation", "Delete the conversation", "chat"),
    "export_conversation": ("ctrl+s", "export_conversation", "Export the conversation to Markdown", "chat"),
    "analyze": ("ctrl+g", "analyze", "Analyse the code", "analysis"),
    "copy_fix": ("ctrl+t", "copy_fix", "Copy the first fix", "analysis"),
    "save_report": ("ctrl+s", "save_report", "Save the report (JSON, SARIF, Markdown)", "analysis"),
    "add_folder": ("ctrl+n", "add_folder", "Add a folder to a knowledge base", "knowledge"),
    "cancel_ingest": ("escape", "cancel_ingest", "Stop the ingest", "knowledge"),
    "show_chat": ("f2", "app.show_chat", "Chat", "everywhere"),
    "show_analysis": ("f3", "app.show_analysis", "Code analysis", "everywhere"),
    "show_knowledge": ("f4", "app.show_knowledge", "Knowledge bases", "everywhere"),
    "show_settings": ("f5", "app.show_settings", "Settings", "everywhere"),
    "show_help": ("f1", "app.show_help", "Keys and help", "everywhere"),
    "command_palette": ("ctrl+p", "app.command_palette", "Command palette", "everywhere"),
    "quit": ("ctrl+q", "app.quit", "Quit", "everywhere"),
}


# Footer labels (short); the help screen and palette use the long descriptions.
SHORT = {"send": "Send", "cancel": "Stop", "regenerate": "Regenerate", "new_chat": "New", "toggle_sources": "Sources",
         "toggle_sidebar": "History", "show_help": "Help", "show_analysis": "Analysis", "show_knowledge": "Knowledge",
         "show_settings": "Settings", "show_chat": "Chat", "analyze": "Analyse", "copy_fix": "Copy fix",
         "save_report": "Save", "add_folder": "Add folder", "cancel_ingest": "Stop"}


def binding(action_id: str, *, show: bool = True, priority: bool = False) -> Binding:
    keys, action, description, _ = ACTIONS[action_id]
    return Binding(keys, action, SHORT.get(action_id, description), show=show, priority=priority,
                   id=action_id, tooltip=description)


def keymap(remaps: dict[str, str]) -> dict[str, str]:
    """The Textual keymap for `settings.keys`; unknown action names are logged and skipped."""
    out: dict[str, str] = {}
    for name, key in remaps.items():
        if name not in ACTIONS:
            log.warning("settings.keys: unknown action %r (known: %s)", name, ", ".join(ACTIONS))
            continue
        out[name] = key
    return out
