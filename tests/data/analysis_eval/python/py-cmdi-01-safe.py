import ipaddress
import subprocess

from flask import Flask, abort, request

app = Flask(__name__)


@app.post("/tools/ping")
def ping_host():
    target = request.form["host"]
    try:
        ipaddress.ip_address(target)
    except ValueError:
        abort(400)
    result = subprocess.run(
        ["ping", "-c", "3", "--", target],
        capture_output=True,
        text=True,
        timeout=20,
    )
    return {"rc": result.returncode, "output": result.stdout}
