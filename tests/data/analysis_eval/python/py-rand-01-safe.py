import secrets
import time


def issue_reset_token(store, user_id: int) -> str:
    token = secrets.token_urlsafe(32)
    store[token] = (user_id, time.time() + 3600)
    return token
