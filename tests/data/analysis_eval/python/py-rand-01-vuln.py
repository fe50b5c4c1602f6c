import random
import string
import time


def issue_reset_token(store, user_id: int) -> str:
    alphabet = string.ascii_letters + string.digits
    token = "".join(random.choice(alphabet) for _ in range(32))
    store[token] = (user_id, time.time() + 3600)
    return token
