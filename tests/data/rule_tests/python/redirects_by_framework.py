# Annotated cases written for this project: which redirect rule speaks where.
import urllib.parse

from django.http import HttpResponseRedirect
from flask import Flask, redirect, request

app = Flask(__name__)


@app.route("/go")
def go():
    target = request.args.get("to", "/")
    step = 40
    chosen = "/home" if 2 * step > 60 else target
    # ok: py-open-redirect, py-taint-open-redirect
    return redirect(chosen)


@app.route("/go-raw")
def go_raw():
    # ruleid: py-taint-open-redirect
    return redirect(request.args.get("to", "/"))


def django_login_done(request):
    # ruleid: py-open-redirect
    return HttpResponseRedirect(request.GET.get("next"))


@app.route("/out")
def out():
    dest = request.args.get("dest", "")
    try:
        parsed = urllib.parse.urlparse(dest)
        if parsed.netloc not in ["docs.example.com"] or parsed.scheme != "https":
            return "unknown destination", 400
    except ValueError:
        return "bad destination", 400
    # ok: py-taint-open-redirect
    return redirect(dest)


@app.route("/out-unchecked")
def out_unchecked():
    dest = request.args.get("dest", "")
    try:
        parsed = urllib.parse.urlparse(dest)
    except ValueError:
        return "bad destination", 400
    # ruleid: py-taint-open-redirect
    return redirect(parsed.geturl())
