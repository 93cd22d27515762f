"""The client's address, which the per-IP limits count by.

`X-Forwarded-For` is written by whoever sends the request, so it is believed only from a
configured proxy (LEASEHUB_TRUSTED_PROXIES); otherwise anyone could pick the address they are
counted under, or sweep through a shared office address to lock it out.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
UNKNOWN = "unknown"


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class TrustedProxies:
    networks: tuple[Network, ...] = ()

    @classmethod
    def parse(cls, setting: str) -> TrustedProxies:
        """Comma-separated addresses or networks ("10.0.0.1, 10.1.0.0/16"); a bad one raises."""
        parts = (part.strip() for part in setting.split(","))
        return cls(tuple(ipaddress.ip_network(part, strict=False) for part in parts if part))

    def trusts(self, address: str | None) -> bool:
        ip = _address(address or "")
        return ip is not None and any(ip in network for network in self.networks)

    def client_ip(self, peer: str | None, forwarded_for: str | None) -> str:
        """The TCP peer, or, behind trusted proxies, the nearest hop none of them vouches for.

        The header is read from the right: each trusted proxy appends the address it saw, so
        the rightmost untrusted entry is the first one a trusted party actually observed.
        """
        client = peer or UNKNOWN
        if not forwarded_for or not self.trusts(peer):
            return client
        for hop in reversed(forwarded_for.split(",")):
            if _address(hop) is None:
                break  # garbage from the client side: keep the last address a proxy vouched for
            client = hop.strip()
            if not self.trusts(client):
                break
        return client
