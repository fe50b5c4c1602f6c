"""History: conversations and analyses in SQLite under BASTION_HOME (no UI imports).

    h = History()                         # BASTION_HOME/history.sqlite3
    c = h.create("SQL injection", kind="chat")
    h.add_message(c.id, "user", "What is SQLi?")
    h.add_message(c.id, "assistant", "…", sources=[...], stats={...})
    h.list(); h.search("sqli"); h.rename(c.id, "new"); h.delete(c.id)
    h.export_markdown(c.id, Path("chat.md"))
"""

from app.history.markdown import conversation_markdown
from app.history.records import Conversation, Message
from app.history.store import History, default_path

__all__ = ["Conversation", "History", "Message", "conversation_markdown", "default_path"]
