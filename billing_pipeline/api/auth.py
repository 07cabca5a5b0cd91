"""Who may call the API. With BILLING_API_TOKENS, every route but /health, /metrics, the OpenAPI pages and the signed
boleto links (api/public.py checks their signature instead) needs `Authorization: Bearer <token>` with one of them,
compared in constant time, and a request without one is refused before its body is read. Without tokens the API is open, listens on loopback only (server.py), and answers only
requests made to a loopback name from no other origin: a web page the operator happens to visit can neither post
a file to it nor read one back (cross-site requests, DNS rebinding)."""

from __future__ import annotations

import hmac
import re
from urllib.parse import urlsplit

from fastapi import Request
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from billing_pipeline.settings import Settings
from billing_pipeline.stages.notify import PUBLIC_PDF_ROUTE

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="smart-billing"'}
OPEN_PATHS = frozenset({"/health", "/metrics", "/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"})
# The signed boleto links of the notices (BILLING_NOTICE_PDF=link): their route checks the signature instead.
SIGNED_PATH = re.compile("^" + re.escape(PUBLIC_PDF_ROUTE).replace(re.escape("{debt_id}"), "[^/]+") + "$")
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})


def presented_token(headers: Headers) -> str | None:
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def token_matches(presented: str | None, accepted: tuple[str, ...]) -> bool:
    """Whether `presented` is one of `accepted`; every token is compared, so the time taken does not tell which
    one came close."""
    if presented is None:
        return False
    given = presented.encode()
    matched = False
    for token in accepted:
        matched |= hmac.compare_digest(given, token.encode())
    return matched


def authorised(request: Request) -> bool:
    """Whether the request may see what only token holders see (no tokens configured: everyone on loopback)."""
    accepted = request.app.state.settings.api_token_list
    return not accepted or token_matches(presented_token(request.headers), accepted)


def _host_name(value: str) -> str:
    return (urlsplit(f"//{value}").hostname or "").lower()


class TokenGate:
    """The ASGI middleware that refuses a request before any route (or body parsing) sees it."""

    def __init__(self, app: ASGIApp, settings: Settings):
        self.app, self.accepted = app, settings.api_token_list

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        refusal = self._open_refusal(headers) if not self.accepted else self._token_refusal(scope, headers)
        if refusal is None:
            await self.app(scope, receive, send)
            return
        # Connection: close, so that a client still sending a body is not read to its end for nothing.
        await refusal(scope, receive, send)

    def _open_refusal(self, headers: Headers) -> JSONResponse | None:
        if _host_name(headers.get("host", "")) not in LOOPBACK_NAMES:
            return _refused(403, "forbidden_host", "without BILLING_API_TOKENS the API answers requests to "
                            "127.0.0.1 or localhost only")
        origin = headers.get("origin")
        if origin is not None and (urlsplit(origin).hostname or "").lower() not in LOOPBACK_NAMES:
            return _refused(403, "foreign_origin", "without BILLING_API_TOKENS the API refuses requests from web "
                            "pages of other sites")
        return None

    def _token_refusal(self, scope: Scope, headers: Headers) -> JSONResponse | None:
        if scope["path"] in OPEN_PATHS or SIGNED_PATH.match(scope["path"]):
            return None  # /metrics checks its own token (BILLING_API_METRICS_TOKEN), a boleto link its signature
        presented = presented_token(headers)
        if token_matches(presented, self.accepted):
            return None
        return _refused(401, "unauthorized", "a valid bearer token is required (Authorization: Bearer <token>)"
                        if presented is None else "the bearer token is not one of BILLING_API_TOKENS", CHALLENGE)


def _refused(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=status,
                        headers={**(headers or {}), "Connection": "close"})
