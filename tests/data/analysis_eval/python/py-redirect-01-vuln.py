from flask import Flask, redirect, request, session

app = Flask(__name__)


@app.post("/login")
def login():
    user = app.config["AUTH"].check(request.form["user"], request.form["password"])
    if user is None:
        return redirect("/login?failed=1")
    session["uid"] = user.id
    return redirect(request.args.get("next") or "/")
