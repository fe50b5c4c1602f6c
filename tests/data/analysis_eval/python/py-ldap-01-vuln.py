from ldap3 import Connection, Server


def find_user_dn(login: str) -> str | None:
    conn = Connection(Server("ldaps://ldap.corp.example"), auto_bind=True)
    conn.search(
        "ou=people,dc=corp,dc=example",
        "(&(objectClass=person)(uid=" + login + "))",
        attributes=["cn"],
    )
    return conn.entries[0].entry_dn if conn.entries else None
