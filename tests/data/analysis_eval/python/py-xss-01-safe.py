from flask import Flask, request
from markupsafe import escape

app = Flask(__name__)


@app.get("/search")
def search():
    q = request.args.get("q", "")
    hits = []
    body = f"<h1>Results for {escape(q)}</h1><ul>"
    for h in hits:
        body += f"<li>{escape(h)}</li>"
    return body + "</ul>"
