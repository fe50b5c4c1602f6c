from urllib.parse import urlparse

from flask import Flask, redirect, request, session

app = Flask(__name__)


def _local_only(target: str | None) -> str:
    if not target:
        return "/"
    parts = urlparse(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


@app.post("/login")
def login():
    user = app.config["AUTH"].check(request.form["user"], request.form["password"])
    if user is None:
        return redirect("/login?failed=1")
    session["uid"] = user.id
    return redirect(_local_only(request.args.get("next")))
