import hashlib
import os


def create_account(db, email: str, password: str) -> None:
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=2**14, r=8, p=1)
    db.execute(
        "INSERT INTO accounts (email, password_hash) VALUES (?, ?)",
        (email.lower(), salt.hex() + "$" + digest.hex()),
    )
    db.commit()
