# Annotated cases written for this project: plugins, archives, ciphers, tokens and debug mode.
import importlib
import os
import re
import tarfile

import jwt
from Crypto.Cipher import AES, DES
from flask import Flask, request

app = Flask(__name__)


def load_plugin():
    # ruleid: py-dynamic-code-compile-import
    plugin = importlib.import_module(request.args["plugin"])
    # ok: py-dynamic-code-compile-import
    codec = importlib.import_module("json")
    # ok: py-dynamic-code-compile-import
    word = re.compile(r"\w+")
    return plugin, codec, word


def unpack(path, dest):
    with tarfile.open(path) as tar:
        # ruleid: py-archive-extract-all
        tar.extractall(dest)
    with tarfile.open(path) as tar:
        # ok: py-archive-extract-all
        tar.extractall(dest, filter="data")


def seal(key, data):
    # ruleid: py-weak-cipher
    weak = DES.new(key[:8], DES.MODE_ECB).encrypt(data)
    # ok: py-weak-cipher
    strong = AES.new(key, AES.MODE_GCM).encrypt_and_digest(data)
    return weak, strong


def claims(token, key):
    # ruleid: py-jwt-signature-not-verified
    unchecked = jwt.decode(token, options={"verify_signature": False})
    # ok: py-jwt-signature-not-verified
    checked = jwt.decode(token, key, algorithms=["HS256"])
    return unchecked, checked


if __name__ == "__main__":
    if os.environ.get("LOCAL_DEBUG") == "1":
        # ruleid: py-flask-debug-enabled
        app.run(debug=True)
    # ok: py-flask-debug-enabled
    app.run(host="127.0.0.1", port=8000)
