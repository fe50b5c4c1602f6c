from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.engine import URL


def make_engine():
    password = Path("/run/secrets/billing_db_password").read_text().strip()
    url = URL.create(
        "postgresql+psycopg2", username="billing", password=password,
        host="db.internal", port=5432, database="billing",
    )
    return create_engine(url, pool_size=5, pool_pre_ping=True)
