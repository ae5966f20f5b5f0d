"""What a provider call can fail with.

    ProviderError                  a call failed: network, HTTP status, bad credentials, bad JSON
    ├── ProviderNotConfigured      no credentials: enrichment skips the provider, no error noted
    └── ProviderUnavailable        the provider's circuit breaker is open: failed fast, not sent

"Nothing found" is never an error: clients answer `None` / `[]`. httpx exceptions are
translated at the boundary (`raise ProviderError(...) from exc`); messages never carry a URL
with its query string, so an API key cannot leak through them.
"""

from __future__ import annotations


class ProviderError(Exception):
    def __init__(self, provider: str, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.provider = provider
        self.status = status


class ProviderNotConfigured(ProviderError):
    pass


class ProviderUnavailable(ProviderError):
    pass
