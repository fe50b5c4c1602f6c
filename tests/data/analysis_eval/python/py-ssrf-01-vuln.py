import requests
from fastapi import FastAPI

api = FastAPI()


@api.get("/preview")
def link_preview(url: str):
    resp = requests.get(url, timeout=5, allow_redirects=True)
    title = ""
    if "<title>" in resp.text:
        title = resp.text.split("<title>", 1)[1].split("</title>", 1)[0]
    return {"status": resp.status_code, "title": title.strip()}
