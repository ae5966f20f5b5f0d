"""Security headers on every services response, and CORS from settings.

Headers a handler set itself are kept. HSTS only over https (it would pin plain-http dev
setups otherwise); the CSP only on HTML, where it means something.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HSTS = "max-age=31536000; includeSubDomains"
HTML_CSP = (
    "default-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"
)
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

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in ALWAYS:
                    headers.setdefault(name, value)
                if https:
                    headers.setdefault("Strict-Transport-Security", self.hsts)
                if headers.get("content-type", "").startswith("text/html"):
                    headers.setdefault("Content-Security-Policy", self.html_csp)
            await send(message)

        await self.app(scope, receive, send_with_headers)
