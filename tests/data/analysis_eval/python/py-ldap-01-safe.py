from ldap3 import Connection, Server
from ldap3.utils.conv import escape_filter_chars


def find_user_dn(login: str) -> str | None:
    conn = Connection(Server("ldaps://ldap.corp.example"), auto_bind=True)
    conn.search(
        "ou=people,dc=corp,dc=example",
        "(&(objectClass=person)(uid=" + escape_filter_chars(login) + "))",
        attributes=["cn"],
    )
    return conn.entries[0].entry_dn if conn.entries else None
