"""The named SQL queries of sql/queries.sql, loaded once."""

import re
from functools import cache
from pathlib import Path

from core.model import COLUMNS

__all__ = ["query"]

_HEADER = re.compile(r"^-- name: (\w+)\s*$", re.MULTILINE)


@cache
def _load() -> dict[str, str]:
    text = (Path(__file__).parent / "sql" / "queries.sql").read_text()
    chunks = _HEADER.split(text)[1:]
    columns = ", ".join(COLUMNS)
    columns_j = ", ".join(f"j.{name}" for name in COLUMNS)
    return {
        name: body.strip().replace("{columns_j}", columns_j).replace("{columns}", columns)
        for name, body in zip(chunks[::2], chunks[1::2], strict=True)
    }


def query(name: str) -> str:
    return _load()[name]
