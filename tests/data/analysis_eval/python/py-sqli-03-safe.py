import psycopg2


def record_payment(dsn: str, payload: dict) -> int:
    account = payload["account_id"]
    amount = payload["amount"]
    memo = payload.get("memo", "")
    query = (
        "INSERT INTO payments (account_id, amount, memo) "
        "VALUES (%s, %s, %s) RETURNING id"
    )
    with psycopg2.connect(dsn) as conn:
        with conn.cursor() as cur:
            cur.execute(query, (account, amount, memo))
            return cur.fetchone()[0]
