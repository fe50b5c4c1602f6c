# Annotated cases for app/analysis/rules/taint/python.yaml, written for this project.
# "ruleid: X" means the next code line must be reported by rule X; "ok: X" means it must not.
import base64
import html
import os
import pickle
import random
import secrets
import shlex
import sqlite3
import subprocess
import urllib.parse
import xml.dom.minidom
import xml.sax

import flask
import ldap3
import lxml.etree
import yaml
from flask import Flask, redirect, request, session

app = Flask(__name__)
UPLOADS = "/srv/uploads"


@app.route("/doc")
def read_doc():
    name = request.args.get("name", "")
    # ruleid: py-taint-path-traversal
    with open(f"{UPLOADS}/{name}") as fh:
        return html.escape(fh.read())


@app.route("/doc-safe")
def read_doc_safe():
    name = os.path.basename(request.args.get("name", ""))
    # ok: py-taint-path-traversal
    with open(f"{UPLOADS}/{name}") as fh:
        return html.escape(fh.read())


@app.route("/doc-guarded")
def read_doc_guarded():
    name = request.cookies.get("last", "")
    if "../" in name:
        return "bad name"
    # ok: py-taint-path-traversal
    with open(os.path.join(UPLOADS, name), "rb") as fh:
        return str(len(fh.read()))


@app.route("/ping", methods=["POST"])
def ping():
    host = request.form.get("host", "")
    # ruleid: py-taint-command-injection
    out = subprocess.run(f"ping -c 1 {host}", shell=True, capture_output=True, text=True)
    return html.escape(out.stdout)


@app.route("/ping-safe", methods=["POST"])
def ping_safe():
    host = request.form.get("host", "")
    # ok: py-taint-command-injection
    out = subprocess.run(f"ping -c 1 {shlex.quote(host)}", shell=True, capture_output=True, text=True)
    return html.escape(out.stdout)


@app.route("/user")
def user():
    uid = request.args.get("id", "")
    cur = sqlite3.connect("app.db").cursor()
    # ruleid: py-taint-sql-injection
    cur.execute(f"SELECT name FROM users WHERE id = '{uid}'")
    return html.escape(str(cur.fetchall()))


@app.route("/user-safe")
def user_safe():
    uid = request.args.get("id", "")
    cur = sqlite3.connect("app.db").cursor()
    # ok: py-taint-sql-injection
    cur.execute("SELECT name FROM users WHERE id = ?", (uid,))
    return html.escape(str(cur.fetchall()))


@app.route("/who")
def who(conn: ldap3.Connection):
    uid = request.args.get("uid", "")
    # ruleid: py-taint-ldap-injection
    conn.search("ou=people,dc=example", f"(uid={uid})")
    return "done"


@app.route("/who-safe")
def who_safe(conn: ldap3.Connection):
    uid = ldap3.utils.conv.escape_filter_chars(request.args.get("uid", ""))
    # ok: py-taint-ldap-injection
    conn.search("ou=people,dc=example", f"(uid={uid})")
    return "done"


@app.route("/staff")
def staff():
    emp = request.args.get("emp", "")
    tree = lxml.etree.parse("staff.xml")
    # ruleid: py-taint-xpath-injection
    nodes = tree.xpath(f"/staff/person[@id='{emp}']")
    return html.escape(str(len(nodes)))


@app.route("/staff-safe")
def staff_safe():
    emp = request.args.get("emp", "")
    tree = lxml.etree.parse("staff.xml")
    # ok: py-taint-xpath-injection
    nodes = tree.xpath("/staff/person[@id=$emp]", emp=emp)
    return html.escape(str(len(nodes)))


@app.route("/calc")
def calc():
    expr = request.args.get("expr", "")
    # ruleid: py-taint-code-injection
    return html.escape(str(eval(expr)))


@app.route("/calc-safe")
def calc_safe():
    expr = request.args.get("expr", "")
    # ok: py-taint-code-injection
    return html.escape(str(eval(repr(expr))))


@app.route("/hello")
def hello():
    name = request.args.get("name", "")
    page = f"<h1>Hello {name}</h1>"
    # ruleid: py-taint-xss
    return page


@app.route("/hello-safe")
def hello_safe():
    name = request.args.get("name", "")
    page = f"<h1>Hello {html.escape(name)}</h1>"
    # ok: py-taint-xss
    return page


@app.route("/api/hello")
def hello_json():
    name = request.args.get("name", "")
    # ok: py-taint-xss
    return flask.jsonify({"greeting": name})


@app.route("/go")
def go():
    target = request.args.get("next", "/")
    # ruleid: py-taint-open-redirect
    return redirect(target)


@app.route("/go-safe")
def go_safe():
    target = request.args.get("next", "/")
    url = urllib.parse.urlparse(target)
    if url.netloc not in ["example.com"] or url.scheme != "https":
        return "not allowed"
    # ok: py-taint-open-redirect
    return redirect(target)


@app.route("/prefs", methods=["POST"])
def prefs():
    blob = request.form.get("prefs", "")
    # ruleid: py-taint-deserialization
    data = pickle.loads(base64.b64decode(blob))
    return html.escape(str(data))


@app.route("/prefs-safe", methods=["POST"])
def prefs_safe():
    blob = request.form.get("prefs", "")
    # ok: py-taint-deserialization
    data = yaml.safe_load(blob)
    return html.escape(str(data))


@app.route("/xml", methods=["POST"])
def parse_xml():
    body = request.get_data(as_text=True)
    parser = xml.sax.make_parser()
    parser.setFeature(xml.sax.handler.feature_external_ges, True)
    # ruleid: py-taint-xxe
    doc = xml.dom.minidom.parseString(body, parser)
    return html.escape(doc.documentElement.tagName)


@app.route("/xml-safe", methods=["POST"])
def parse_xml_safe():
    body = request.get_data(as_text=True)
    parser = xml.sax.make_parser()
    # ok: py-taint-xxe
    doc = xml.dom.minidom.parseString(body, parser)
    return html.escape(doc.documentElement.tagName)


@app.route("/login-as", methods=["POST"])
def login_as():
    who = request.form.get("user", "")
    # ruleid: py-taint-trust-boundary
    session["user"] = who
    return "ok"


@app.route("/theme", methods=["POST"])
def theme():
    who = request.form.get("user", "")
    confirmed = who == session.get("user")
    # ok: py-taint-trust-boundary
    session["confirmed"] = True if confirmed else False
    return "ok"


@app.route("/remember")
def remember():
    sessions = {}
    token = str(random.random())[2:]
    # ruleid: py-taint-weak-random-secret
    sessions["remember"] = token
    return "ok"


@app.route("/remember-safe")
def remember_safe():
    sessions = {}
    token = secrets.token_urlsafe(32)
    # ok: py-taint-weak-random-secret
    sessions["remember"] = token
    return "ok"


@app.route("/cookie")
def cookie():
    resp = flask.make_response("ok")
    # ruleid: py-cookie-without-secure
    resp.set_cookie("sid", secrets.token_hex(16), secure=False, httponly=True)
    return resp


@app.route("/cookie-safe")
def cookie_safe():
    resp = flask.make_response("ok")
    # ok: py-cookie-without-secure
    resp.set_cookie("sid", secrets.token_hex(16), secure=True, httponly=True)
    return resp


@app.route("/pick")
def pick():
    value = request.args.get("v", "")
    choices = {}
    choices["user"] = value
    choices["fixed"] = "static"
    chosen = choices["user"]
    # ruleid: py-taint-sql-injection
    sqlite3.connect("app.db").execute(f"DELETE FROM t WHERE k = '{chosen}'")
    other = choices["fixed"]
    # ok: py-taint-sql-injection
    sqlite3.connect("app.db").execute(f"DELETE FROM t WHERE k = '{other}'")
    return "ok"


@app.route("/trim")
def trim():
    raw = request.args.get("v", "")
    inner = raw[1:-1]
    # ruleid: py-taint-command-injection
    os.system("echo " + inner)
    label = "release-2024"[8:]
    # ok: py-taint-command-injection
    os.system("echo " + label)
    return "ok"


@app.route("/echo-list", methods=["POST"])
def echo_list():
    import subprocess

    text = request.form.get("text", "")
    args = []
    if os.name == "nt":
        args.append("cmd.exe")
        args.append("/c")
    else:
        args.append("sh")
        args.append("-c")
    # ruleid: py-taint-command-injection
    args.append("echo " + text)
    return subprocess.run(args, capture_output=True, text=True).stdout


@app.route("/echo-list-noshell", methods=["POST"])
def echo_list_noshell():
    import subprocess

    text = request.form.get("text", "")
    args = []
    args.append("echo")
    # ok: py-taint-command-injection
    args.append(text)
    return subprocess.run(args, capture_output=True, text=True).stdout
