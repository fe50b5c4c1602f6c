"""Block outbound networking in this process: the proof that Bastion runs offline.

`bastion` installs the guard when `BASTION_OFFLINE` is true (1, true, yes or on; see
`app.flags.parse_flag`); the doctor's engine probe
and the test suite always do. Unix sockets and loopback stay allowed (the TUI's
own event loop and `bastion serve` on 127.0.0.1 use them).
"""

from __future__ import annotations

import socket

_installed = False


class NetworkBlocked(OSError):
    pass


def _allowed(address) -> bool:
    if isinstance(address, (str, bytes)):  # AF_UNIX path
        return True
    host = address[0] if isinstance(address, tuple) and address else ""
    return host in ("127.0.0.1", "::1", "localhost") or str(host).startswith("127.")


def block_network() -> None:
    """Make every non-loopback connect / DNS lookup raise `NetworkBlocked`."""
    global _installed
    if _installed:
        return
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def connect(self, address):
        if not _allowed(address):
            raise NetworkBlocked(f"network access blocked (offline mode): connect to {address!r}")
        return real_connect(self, address)

    def connect_ex(self, address):
        if not _allowed(address):
            raise NetworkBlocked(f"network access blocked (offline mode): connect to {address!r}")
        return real_connect_ex(self, address)

    def getaddrinfo(host, *args, **kwargs):
        if host not in (None, "localhost", "127.0.0.1", "::1") and not str(host).startswith("127."):
            raise NetworkBlocked(f"network access blocked (offline mode): DNS lookup of {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]
    _installed = True
