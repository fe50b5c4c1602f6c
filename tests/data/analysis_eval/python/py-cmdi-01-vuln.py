import subprocess

from flask import Flask, request

app = Flask(__name__)


@app.post("/tools/ping")
def ping_host():
    target = request.form["host"]
    result = subprocess.run(
        "ping -c 3 " + target,
        shell=True,
        capture_output=True,
        text=True,
        timeout=20,
    )
    return {"rc": result.returncode, "output": result.stdout}
