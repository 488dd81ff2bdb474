"""PostgreSQL connections (pg8000) from a DATABASE_URL."""

import ssl
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pg8000.native

__all__ = ["ConnectionSpec", "connect", "parse_database_url"]


@dataclass(frozen=True)
class ConnectionSpec:
    user: str
    database: str
    host: str | None
    port: int
    password: str | None
    unix_sock: str | None
    ssl_context: ssl.SSLContext | bool | None

    def connect(self, application_name: str = "taskengine") -> pg8000.native.Connection:
        conn = pg8000.native.Connection(
            self.user,
            host=self.host or "localhost",
            database=self.database,
            port=self.port,
            password=self.password,
            unix_sock=self.unix_sock,
            ssl_context=self.ssl_context,
            application_name=application_name,
            timeout=60,
        )
        # Every timestamp the engine stores or compares is UTC.
        conn.run("SET TIME ZONE 'UTC'")
        conn.register_in_adapter(_TIMESTAMPTZ_OID, _timestamptz_in)
        return conn


_TIMESTAMPTZ_OID = 1184


def _timestamptz_in(text: str) -> datetime | str:
    """pg8000 parses timestamps with strptime (~30 us each); fromisoformat reads
    PostgreSQL's output format a hundred times faster, and claims return several per row."""
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return text  # 'infinity' and years beyond 9999 stay text, as pg8000 does


def parse_database_url(url: str) -> ConnectionSpec:
    """postgresql://user:password@host:port/db?host=/socket/dir&sslmode=require"""
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
        raise ValueError(f"DATABASE_URL must start with postgresql://, got {parts.scheme!r}")
    query = parse_qs(parts.query)
    port = parts.port or int(query.get("port", ["5432"])[0])
    socket_dir = query.get("host", [None])[0]
    unix_sock = f"{socket_dir}/.s.PGSQL.{port}" if socket_dir else None
    return ConnectionSpec(
        user=unquote(parts.username or "postgres"),
        database=unquote(parts.path.lstrip("/")) or unquote(parts.username or "postgres"),
        host=parts.hostname,
        port=port,
        password=unquote(parts.password) if parts.password else None,
        unix_sock=unix_sock,
        ssl_context=_ssl_context(query.get("sslmode", ["disable"])[0]),
    )


def connect(url: str, application_name: str = "taskengine") -> pg8000.native.Connection:
    return parse_database_url(url).connect(application_name)


def _ssl_context(mode: str) -> Any:
    if mode in ("disable", "allow", "prefer"):
        return None
    if mode == "require":
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    if mode in ("verify-ca", "verify-full"):
        return True
    raise ValueError(f"sslmode {mode!r} is not supported")
