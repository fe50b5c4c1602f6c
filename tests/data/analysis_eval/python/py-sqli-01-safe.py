import sqlite3

from flask import Flask, jsonify, request

app = Flask(__name__)


@app.route("/users/lookup")
def lookup_user():
    username = request.args.get("name", "")
    conn = sqlite3.connect("app.db")
    try:
        cur = conn.cursor()
        cur.execute("SELECT id, email, created FROM users WHERE username = ?", (username,))
        row = cur.fetchone()
    finally:
        conn.close()
    if row is None:
        return jsonify(error="not found"), 404
    return jsonify(id=row[0], email=row[1], created=row[2])
