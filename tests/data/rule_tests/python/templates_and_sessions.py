# Annotated cases written for this project: rendered templates and sessions set from auth results.
from flask import Flask, request, session, render_template_string

app = Flask(__name__)

CARD = "<p>{{ note }}</p>"


@app.route("/note")
def note():
    text = request.args.get("note", "")
    # ok: py-taint-xss
    return render_template_string(CARD, note=text)


@app.route("/note-raw")
def note_raw():
    text = request.args.get("note", "")
    # ruleid: py-taint-xss
    return "<p>" + text + "</p>"


@app.route("/signin", methods=["POST"])
def signin():
    account = app.config["USERS"].authenticate(request.form["login"], request.form["password"])
    if account is None:
        return "denied", 403
    # ok: py-taint-trust-boundary
    session["account"] = account.id
    return "welcome"


@app.route("/pick-account", methods=["POST"])
def pick_account():
    # ruleid: py-taint-trust-boundary
    session["account"] = request.form["account"]
    return "ok"
