import hashlib


def create_account(db, email: str, password: str) -> None:
    digest = hashlib.md5(password.encode("utf-8")).hexdigest()
    db.execute(
        "INSERT INTO accounts (email, password_hash) VALUES (?, ?)",
        (email.lower(), digest),
    )
    db.commit()
