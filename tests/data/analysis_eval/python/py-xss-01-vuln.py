from flask import Flask, request

app = Flask(__name__)


@app.get("/search")
def search():
    q = request.args.get("q", "")
    hits = []
    body = f"<h1>Results for {q}</h1><ul>"
    for h in hits:
        body += f"<li>{h}</li>"
    return body + "</ul>"
