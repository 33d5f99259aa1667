"""Loopback-only networking for tests that run a local cluster (Dask) or a local JVM (Spark).

conftest blocks every socket so the library can never go online. A local Dask cluster and
pyspark's bridge to its JVM talk over TCP on 127.0.0.1: these replacements allow loopback
addresses and still refuse everything else. The originals are taken when this module is first
imported (at collection, before conftest's per-test patch).
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import pytest

_CONNECT = socket.socket.connect
_CREATE_CONNECTION = socket.create_connection
_GETADDRINFO = socket.getaddrinfo


def _is_loopback(host: object) -> bool:
    if host in ("localhost", None):
        return True
    try:
        return ipaddress.ip_address(str(host)).is_loopback
    except ValueError:
        return False


def _connect(self: socket.socket, address: Any) -> None:
    if isinstance(address, tuple) and _is_loopback(address[0]):
        return _CONNECT(self, address)
    raise OSError(f"network access attempted during tests: {address!r}")


def _create_connection(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
    if _is_loopback(address[0]):
        return _CREATE_CONNECTION(address, *args, **kwargs)
    raise OSError(f"network access attempted during tests: {address!r}")


def _getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    if _is_loopback(host):
        return _GETADDRINFO(host, *args, **kwargs)
    raise OSError(f"network access attempted during tests: {host!r}")


def allow_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Replace conftest's socket block with one that lets 127.0.0.1 / ::1 / localhost through."""
    monkeypatch.setattr(socket.socket, "connect", _connect)
    monkeypatch.setattr(socket, "create_connection", _create_connection)
    monkeypatch.setattr(socket, "getaddrinfo", _getaddrinfo)
