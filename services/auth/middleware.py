"""Security headers on every services response, and CORS from settings.

Headers a handler set itself are kept. HSTS only over https (it would pin plain-http dev
setups otherwise); the CSP only on HTML, where it means something. `Cache-Control: no-store`
on every answer that carries a credential: one that sets a cookie (the session and refresh
cookies; the login answer also holds the session token in its body) and the API-key answer,
which holds the new key. A shared cache must never keep them (RFC 9111 5.2.2.5).
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HSTS = "max-age=31536000; includeSubDomains"
HTML_CSP = (
    "default-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"
)
# Answers whose body is a credential even without a cookie.
CREDENTIAL_BODIES = frozenset({("POST", "/auth/api-keys")})
ALWAYS = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("X-Frame-Options", "DENY"),
)


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, hsts: str = HSTS, html_csp: str = HTML_CSP) -> None:
        self.app = app
        self.hsts = hsts
        self.html_csp = html_csp

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"
        credential_body = (scope.get("method"), scope.get("path")) in CREDENTIAL_BODIES

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in ALWAYS:
                    headers.setdefault(name, value)
                if https:
                    headers.setdefault("Strict-Transport-Security", self.hsts)
                if credential_body or "set-cookie" in headers:
                    headers.setdefault("Cache-Control", "no-store")
                if headers.get("content-type", "").startswith("text/html"):
                    headers.setdefault("Content-Security-Policy", self.html_csp)
            await send(message)

        await self.app(scope, receive, send_with_headers)
