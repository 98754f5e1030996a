"""Opaque cursors and `_links.next.href`, as the V3 collections page.

A cursor is the base64url of the query that made the page plus the next offset
(like the real `bGltaXQ9...`, which is base64 of `limit=...`). The next page is the href as
given, or its cursor with the path.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode

from bot.devkit.sandbox.state import SandboxError

T = TypeVar("T")


@dataclass(frozen=True)
class PageRequest:
    params: dict[str, str]  # the query without cursor, merged with the cursor's
    offset: int
    limit: int


def encode_cursor(params: Mapping[str, str], offset: int) -> str:
    query = urlencode({**params, "offset": str(offset)})
    return base64.urlsafe_b64encode(query.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[dict[str, str], int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        decoded = base64.urlsafe_b64decode(padded.encode()).decode()
        params = dict(parse_qsl(decoded, strict_parsing=True))
        offset = int(params.pop("offset"))
    except (binascii.Error, UnicodeDecodeError, ValueError, KeyError):
        raise SandboxError(400, "The cursor is not valid") from None
    if offset < 0:
        raise SandboxError(400, "The cursor is not valid")
    return params, offset


def read_page(
    query: Mapping[str, str], *, default_limit: int = 50, max_limit: int = 500
) -> PageRequest:
    """The page a request asks for; limit outside 1..max_limit is a 400."""
    params: dict[str, str] = {}
    offset = 0
    cursor = query.get("cursor")
    if cursor:
        params, offset = decode_cursor(cursor)
    params.update({k: v for k, v in query.items() if k != "cursor"})
    limit = parse_int(params.get("limit"), "limit", default_limit)
    if not 1 <= limit <= max_limit:
        raise SandboxError(400, f"limit must be between 1 and {max_limit}")
    params["limit"] = str(limit)
    return PageRequest(params, offset, limit)


def page_of(items: Sequence[T], page: PageRequest, path: str) -> tuple[list[T], dict[str, Any]]:
    """The items of the page and the `_links` object (with `next` when more remain)."""
    chosen = list(items[page.offset : page.offset + page.limit])
    links: dict[str, Any] = {}
    if page.offset + page.limit < len(items):
        cursor = encode_cursor(page.params, page.offset + page.limit)
        links["next"] = {"href": f"{path}?limit={page.limit}&cursor={cursor}"}
    return chosen, links


def parse_int(value: str | None, name: str, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise SandboxError(400, f"{name} must be an integer") from None


def parse_bool(value: str | None, name: str) -> bool:
    if value is None or value == "":
        return False
    lowered = value.lower()
    if lowered not in ("true", "false"):
        raise SandboxError(400, f"{name} must be true or false")
    return lowered == "true"
