import hashlib


def sign_request(api_secret: str, body: bytes) -> str:
    h = hashlib.sha1()
    h.update(api_secret.encode())
    h.update(body)
    return h.hexdigest()


def check_signature(api_secret: str, body: bytes, signature: str) -> bool:
    return sign_request(api_secret, body) == signature
