from os import system as run_shell

from flask import Flask, request

app = Flask(__name__)


@app.post("/convert")
def convert_document():
    src = request.form["document"]
    fmt = request.form.get("to", "pdf")
    status = run_shell("libreoffice --headless --convert-to " + fmt + " /srv/docs/" + src)
    return {"ok": status == 0}
