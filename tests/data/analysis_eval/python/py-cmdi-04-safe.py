import re
import subprocess
from pathlib import Path

from flask import Flask, abort, request

app = Flask(__name__)
FORMATS = {"pdf", "docx", "odt", "txt"}


def run_shell(argv: list[str]) -> int:
    return subprocess.run(argv, check=False, timeout=120).returncode


@app.post("/convert")
def convert_document():
    src = Path(request.form["document"]).name
    fmt = request.form.get("to", "pdf")
    if fmt not in FORMATS or not re.fullmatch(r"[\w.-]+", src):
        abort(400)
    status = run_shell(["libreoffice", "--headless", "--convert-to", fmt, "/srv/docs/" + src])
    return {"ok": status == 0}
