import base64
import pickle

from flask import Flask, request

app = Flask(__name__)


@app.get("/cart")
def show_cart():
    raw = request.cookies.get("cart")
    cart = pickle.loads(base64.b64decode(raw)) if raw else {"items": []}
    total = sum(i["price"] * i["qty"] for i in cart["items"])
    return {"items": cart["items"], "total": total}
