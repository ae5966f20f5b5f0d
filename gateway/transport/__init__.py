"""How the gateway talks to upstreams: one exchange object in, one response out.

- :mod:`gateway.transport.base`: the :class:`~gateway.transport.base.Transport` protocol, the
  :class:`~gateway.transport.base.UpstreamRequest` the proxy hands over, and the response shape;
- :mod:`gateway.transport.http1`: the pooled HTTP/1.1 client over httptools (the default);
- :mod:`gateway.transport.aiohttp_client`: aiohttp's client (``GATEWAY_UPSTREAM_CLIENT=aiohttp``;
  WebSockets always);
- :mod:`gateway.transport.pool`: the clients per upstream, kept across reloads.

Both transports raise only :mod:`gateway.errors` exceptions; ``reached = False`` on one means the
request certainly did not leave (no connection was made), the only case in which a write may be
sent elsewhere.
"""
