import os

from flask import Flask, abort, request, send_file

app = Flask(__name__)
REPORT_DIR = os.path.realpath("/var/app/reports")


@app.get("/reports/download")
def download_report():
    name = request.args.get("file", "")
    full = os.path.realpath(os.path.join(REPORT_DIR, name))
    if os.path.commonpath([full, REPORT_DIR]) != REPORT_DIR or not os.path.isfile(full):
        abort(404)
    return send_file(full, as_attachment=True)
