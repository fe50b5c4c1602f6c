from sqlalchemy import create_engine

DATABASE_URL = "postgresql+psycopg2://billing:S3cr3t-Billing-2024@db.internal:5432/billing"


def make_engine():
    return create_engine(DATABASE_URL, pool_size=5, pool_pre_ping=True)
