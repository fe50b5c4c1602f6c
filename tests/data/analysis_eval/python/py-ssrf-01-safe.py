from urllib.parse import urlparse

import requests
from fastapi import FastAPI, HTTPException

api = FastAPI()
ALLOWED_HOSTS = {"docs.example.com", "blog.example.com"}


@api.get("/preview")
def link_preview(url: str):
    parts = urlparse(url)
    if parts.scheme != "https" or parts.hostname not in ALLOWED_HOSTS:
        raise HTTPException(400, "host not allowed")
    resp = requests.get(url, timeout=5, allow_redirects=False)
    title = ""
    if "<title>" in resp.text:
        title = resp.text.split("<title>", 1)[1].split("</title>", 1)[0]
    return {"status": resp.status_code, "title": title.strip()}
