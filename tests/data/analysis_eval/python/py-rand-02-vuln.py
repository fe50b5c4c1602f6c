import random


class SessionStore:
    def __init__(self):
        self._sessions = {}

    def create(self, user_id: int) -> str:
        sid = "%032x" % random.getrandbits(128)
        self._sessions[sid] = {"user": user_id}
        return sid
