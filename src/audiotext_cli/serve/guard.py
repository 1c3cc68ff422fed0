"""Who may talk to the server: loopback by default, a token when bound to the network.

Two checks run before any route:
- the Host header must name a host the server was bound as (127.0.0.1, localhost, ...):
  a web page on another site that rebinds its DNS name to 127.0.0.1 sends its own name
  as Host and is refused, so it cannot read the library through the user's browser;
- with `--allow-remote`, every request carries the token printed at start, as
  `Authorization: Bearer TOKEN`, an `X-Audiotext-Token` header, `?token=` or the cookie
  the page gets when opened with `?token=` (an <audio> element cannot send headers).
"""

from __future__ import annotations

import ipaddress
import json
import secrets
from collections.abc import Awaitable, Callable, Iterable
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qs

COOKIE = "audiotext_token"
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")

Scope = dict[str, Any]
ASGIApp = Callable[[Scope, Callable, Callable], Awaitable[None]]


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses (127.0.0.0/8, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def new_token() -> str:
    return secrets.token_urlsafe(24)


def _host_name(header: str) -> str:
    """'[::1]:8765' -> '::1', 'localhost:8765' -> 'localhost'."""
    if header.startswith("["):
        return header[1 : header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


class Guard:
    """ASGI middleware: Host check (loopback mode) and token check (remote mode)."""

    def __init__(self, app: ASGIApp, token: str | None, hosts: Iterable[str]) -> None:
        self.app, self.token = app, token
        self.hosts = {h.lower() for h in hosts}

    async def __call__(self, scope: Scope, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if self.token is None and _host_name(headers.get("host", "")).lower() not in self.hosts:
            await _refuse(send, 403, "this server answers only requests addressed to localhost")
            return
        if self.token is not None:
            given = _presented_token(scope, headers)
            if given is None or not secrets.compare_digest(given, self.token):
                await _refuse(send, 401, "a token is required (printed by `audiotext serve`)")
                return
        await self.app(scope, receive, send)


def _presented_token(scope: Scope, headers: dict[str, str]) -> str | None:
    auth = headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    if "x-audiotext-token" in headers:
        return headers["x-audiotext-token"]
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    if query.get("token"):
        return query["token"][0]
    cookie = SimpleCookie()
    try:
        cookie.load(headers.get("cookie", ""))
    except CookieError:
        return None
    return cookie[COOKIE].value if COOKIE in cookie else None


async def _refuse(send: Callable, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", b"%d" % len(body)),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
