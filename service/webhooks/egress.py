"""Where outbound webhooks may go: the SSRF guard.

A subscriber's URL is chosen by whoever holds an admin key, and the service POSTs to it from
inside the network it runs in. Without a guard that is a way to reach what only the service can
reach (a database port on loopback, a cloud metadata endpoint, an intranet host) and, through the
deliveries API, to read back whether a port answered. So:

- the scheme is `https` (plain `http` only with `CEM_WEBHOOKS__ALLOW_HTTP`, for development);
- the host is resolved and *every* address it resolves to must be public: loopback, private,
  link-local (cloud metadata at 169.254.169.254 among them), shared (CGNAT), multicast,
  unspecified, reserved and documentation ranges are refused, in IPv4 and IPv6, including IPv4
  carried inside IPv6 (IPv4-mapped, 6to4, NAT64) and the IPv6 metadata addresses;
- `CEM_WEBHOOKS__ALLOWED_DESTINATIONS` (CIDRs or host names) lets on-premises receivers through;
- the check runs when a subscription is created and again before every delivery (DNS answers
  change: a host that was public yesterday may point at 127.0.0.1 today), and the delivery then
  connects to the address that was checked (`pin`), never to a second DNS answer; the Host
  header and TLS server name stay the original host, so the certificate is still verified
  against it. Redirects are not followed (a 3xx is a failed attempt).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Final

import httpx

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Sequence[str]]

# Beyond what `is_global` already excludes: cloud metadata endpoints that sit in otherwise
# routable-looking space (Alibaba's 100.100.100.200 is in 100.64/10, AWS's IPv6 one in fd00::/8;
# both are non-global already, listed so the intent survives a change of the standard library).
METADATA: Final = tuple(
    ipaddress.ip_network(n)
    for n in ("169.254.169.254/32", "100.100.100.200/32", "fd00:ec2::254/128", "192.0.0.192/32")
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class EgressBlockedError(Exception):
    """The URL may not receive webhooks; `category` is what the deliveries API shows."""

    def __init__(self, category: str, reason: str) -> None:
        super().__init__(reason)
        self.category = category
        self.reason = reason


@dataclass(frozen=True)
class Destination:
    """A checked URL and the one address a delivery to it connects to."""

    url: str
    host: str
    port: int
    address: str


def system_resolver(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (IPv4 and IPv6), via the system resolver."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def embedded_ipv4(address: IpAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (IPv4-mapped, 6to4, NAT64), if any."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public(address: IpAddress) -> bool:
    """True for an address on the public internet (the only kind a webhook may go to)."""
    inner = embedded_ipv4(address)
    if inner is not None:  # what the packet really reaches is the IPv4 address inside
        return is_public(inner)
    if any(address in network for network in METADATA if network.version == address.version):
        return False
    return bool(
        address.is_global
        and not address.is_multicast
        and not address.is_reserved
        and not address.is_unspecified
        and not address.is_loopback
        and not address.is_link_local
        and not address.is_private
    )


class EgressPolicy:
    """Checks webhook URLs against the rules above; `resolver` is replaceable for tests."""

    def __init__(
        self,
        *,
        allow_http: bool = False,
        allowed: Iterable[str] = (),
        resolver: Resolver = system_resolver,
    ) -> None:
        self.allow_http = allow_http
        self.resolver = resolver
        networks: list[IpNetwork] = []
        hosts: set[str] = set()
        for entry in allowed:
            try:
                networks.append(ipaddress.ip_network(entry.strip(), strict=False))
            except ValueError:
                hosts.add(entry.strip().lower().rstrip("."))
        self.allowed_networks = tuple(networks)
        self.allowed_hosts = frozenset(hosts)

    def allows(self, host: str, address: IpAddress) -> bool:
        if host in self.allowed_hosts:
            return True
        candidates = [address, *filter(None, [embedded_ipv4(address)])]
        return any(
            a in network
            for a in candidates
            for network in self.allowed_networks
            if network.version == a.version
        )

    def check(self, url: str) -> Destination:
        """The destination to connect to; `EgressBlockedError` when the URL may not be used."""
        parsed = httpx.URL(url)
        if parsed.scheme not in {"https", "http"} or (
            parsed.scheme == "http" and not self.allow_http
        ):
            raise EgressBlockedError(
                "blocked", "only https URLs may receive webhooks (http needs ALLOW_HTTP)"
            )
        host = parsed.host.lower().rstrip(".")
        if not host:
            raise EgressBlockedError("blocked", "the URL has no host")
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        try:
            addresses = [ipaddress.ip_address(host)]
        except ValueError:
            addresses = self._resolve(host, port)
        refused = [a for a in addresses if not is_public(a) and not self.allows(host, a)]
        if refused:
            raise EgressBlockedError(
                "blocked",
                "the host resolves to a non-public address (loopback, private, link-local, "
                "metadata, multicast or reserved); allow it with ALLOWED_DESTINATIONS",
            )
        return Destination(url, host, port, str(addresses[0]))

    def _resolve(self, host: str, port: int) -> list[IpAddress]:
        try:
            found = [ipaddress.ip_address(a.split("%")[0]) for a in self.resolver(host, port)]
        except (OSError, UnicodeError, ValueError):
            found = []
        if not found:
            raise EgressBlockedError("dns", "the host name does not resolve")
        return found


def pin(request: httpx.Request, destination: Destination) -> httpx.Request:
    """`request` sent to the checked address: the URL's host becomes that address, while the
    Host header (set when the request was built) and the TLS server name stay the host name."""
    request.url = request.url.copy_with(host=destination.address)
    if request.url.scheme == "https":
        request.extensions = {**request.extensions, "sni_hostname": destination.host}
    return request
