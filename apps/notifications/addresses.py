"""Where a webhook may be delivered: public unicast addresses only (SSRF), decided here for both the
subscription's URL (an IP literal, apps/notifications/webhooks.py) and each delivery (delivery.py).

`ipaddress`'s `is_global` alone is not enough: IPv6 has forms that carry an IPv4 address inside, and a
connection to them may end at that IPv4 address (`https://[::127.0.0.1]/` passed). Refused whatever they
embed: IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d) addresses, NAT64 (64:ff9b::/96,
64:ff9b:1::/48) and Teredo (2001::/32); 6to4 (2002::/16) when the IPv4 address it embeds is not public.
Multicast too.

A delivery resolves the host once (`resolve_destination`), checks every address it got, and connects to a
checked address (`pinned_connection`: the URL's host still goes into the Host header and the TLS server name,
and the certificate is verified against it). There is no second resolution for a rebinding DNS server to
answer differently.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
TEREDO = ipaddress.ip_network("2001::/32")
SIX_TO_FOUR = ipaddress.ip_network("2002::/16")


class AddressRefused(Exception):
    """The destination is not a public address (or cannot be resolved)."""


def parse_address(text: str) -> IPAddress | None:
    """An IP literal (brackets and an IPv6 zone allowed), or None for a host name."""
    try:
        return ipaddress.ip_address(text.strip("[]").split("%")[0])
    except ValueError:
        return None


def refusal(address: IPAddress) -> str:
    """Why a connection to `address` is refused, or '' when it is a public unicast address."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return f"an IPv4-mapped address (of {address.ipv4_mapped})"
        if address in IPV4_COMPATIBLE and int(address) > 1:
            return f"an IPv4-compatible address (of {ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)})"
        if any(address in network for network in NAT64):
            return "a NAT64 address"
        if address in TEREDO:
            return "a Teredo address"
        if address in SIX_TO_FOUR:
            embedded = address.sixtofour
            if embedded is None or refusal(embedded):
                return f"a 6to4 address of a non-public address ({embedded})"
            return ""
    if address.is_multicast:
        return "a multicast address"
    if not address.is_global:
        return "a non-public address"
    return ""


def resolve_destination(host: str, port: int, *, allow_loopback: bool = False) -> list[IPAddress]:
    """Every address `host` resolves to, once; AddressRefused if any of them is not public (loopback ones
    are accepted with `allow_loopback`, for plain-http local webhooks in development and tests)."""
    literal = parse_address(host)
    if literal is not None:
        addresses = [literal]
    else:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
        except (OSError, UnicodeError) as exc:
            raise AddressRefused(f"Cannot resolve {host}: {exc}") from None
        addresses = []
        for info in infos:
            address = parse_address(str(info[4][0]))
            if address is not None and address not in addresses:
                addresses.append(address)
    if not addresses:
        raise AddressRefused(f"Cannot resolve {host}: no address.")
    for address in addresses:
        why = "" if (allow_loopback and address.is_loopback) else refusal(address)
        if why:
            raise AddressRefused(f"Refused: {host} resolves to {why} ({address}).")
    return addresses


def pinned_connection(
    *, scheme: str, host: str, port: int, addresses: list[IPAddress], timeout: float
) -> http.client.HTTPConnection:
    """An HTTP(S) connection to `host` that connects to one of the already checked `addresses` (in order)
    instead of resolving `host` again; Host header, TLS server name and certificate check use `host`."""
    cls = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
    connection = cls(host, port, timeout=timeout)

    def connect_checked(_address, timeout=None, source_address=None):
        last_error: OSError | None = None
        for address in addresses:
            try:
                return socket.create_connection((str(address), port), timeout, source_address)
            except OSError as exc:
                last_error = exc
        raise last_error or OSError(f"No address to connect to for {host}")

    connection._create_connection = connect_checked
    return connection
