"""The client's address: `X-Forwarded-For` is believed only when the peer is a trusted proxy.

Walking the header from the right and stopping at the first hop that is not one of our
proxies gives the address the nearest trusted proxy saw; a client cannot spoof it by
sending its own `X-Forwarded-For`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.requests import HTTPConnection

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: Iterable[str]) -> tuple[IpNetwork, ...]:
    return tuple(ipaddress.ip_network(v.strip(), strict=False) for v in values if v.strip())


def _trusted(address: str, networks: tuple[IpNetwork, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


def client_ip(request: HTTPConnection, trusted: tuple[IpNetwork, ...]) -> str | None:
    peer = request.client.host if request.client else None
    if peer is None or not _trusted(peer, trusted):
        return peer
    hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, trusted):
            return hop[:45]
    return hops[0][:45] if hops else peer
