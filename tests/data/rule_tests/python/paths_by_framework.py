# Annotated cases written for this project: which path rule speaks where.
from fastapi import FastAPI
from flask import Flask, request

app = Flask(__name__)
api = FastAPI()
DOCS = "/srv/docs"


@app.route("/doc")
def doc():
    name = request.args.get("name", "")
    limit = 50
    chosen = "index.txt" if 3 * 20 + limit > 100 else name
    # ok: py-path-from-request, py-taint-path-traversal
    with open(f"{DOCS}/{chosen}") as fh:
        return fh.read()


@app.route("/doc-raw")
def doc_raw():
    name = request.args.get("name", "")
    # ruleid: py-taint-path-traversal
    with open(f"{DOCS}/{name}") as fh:
        return fh.read()


@api.get("/files/{filename}")
def read_file(filename: str):
    # ruleid: py-path-from-request
    with open(f"{DOCS}/{filename}") as fh:
        return fh.read()
