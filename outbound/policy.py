"""Policy for outbound targets (agent endpoints, webhooks, Slack), section 8 of the architecture.

http and https only. Link-local and cloud metadata addresses are refused always;
loopback, private, shared and reserved ranges only when private targets are allowed
(on in development, off by default in production). ``check_url`` runs on save with
what can be known without DNS (literal addresses, well-known names, and host names that
resolution would reject: empty or over-long labels, invalid IDNA);
``check_address`` runs at delivery time on every address the host resolved to, so a
DNS name that points inside cannot slip through.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

import idna

METADATA_HOSTS = {"metadata.google.internal", "metadata", "instance-data", "instance-data.ec2.internal"}
LOOPBACK_HOSTS = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}


class OutboundTargetError(ValueError):
    """The URL may not be used as an outbound target; the message says why."""


METADATA_ADDRESSES = {
    ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254"),  # AWS, GCP, Azure
    ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
    ipaddress.ip_address("192.0.0.192"),  # Oracle Cloud (classic)
}
NAT64 = ipaddress.ip_network("64:ff9b::/96")
IETF_PROTOCOL_ASSIGNMENTS = ipaddress.ip_network("192.0.0.0/24")
# Underscores are not valid in DNS host names but common in internal ones (Compose service
# names), and the resolver accepts them; everything else follows RFC 1123.
ASCII_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?")


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, 6to4, Teredo, NAT64), if any."""
    if address.ipv4_mapped:
        return address.ipv4_mapped
    if address.sixtofour:
        return address.sixtofour
    if address.teredo:
        return address.teredo[1]
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _parse_ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        return _embedded_ipv4(address) or address
    return address


def check_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address | str, *, allow_private: bool) -> None:
    """Raise OutboundTargetError if connecting to this address is not allowed."""
    ip = _parse_ip(str(address))
    if ip is None:
        raise OutboundTargetError(f"{address} is not an IP address")
    if ip.is_link_local or ip in METADATA_ADDRESSES:
        raise OutboundTargetError(f"{ip} is a link-local or cloud metadata address, which is never allowed")
    if ip.is_multicast or ip.is_unspecified:
        raise OutboundTargetError(f"{ip} is not a unicast address")
    internal = (ip.is_loopback or ip.is_private or ip.is_reserved or not ip.is_global
                or ip in IETF_PROTOCOL_ASSIGNMENTS)
    if internal and not allow_private:
        raise OutboundTargetError(
            f"{ip} is a private or loopback address; these are refused unless ALLOW_PRIVATE_TARGETS is on")


def check_host_name(host: str) -> None:
    """Raise OutboundTargetError if resolving ``host`` could never work.

    ``getaddrinfo`` raises UnicodeError (not a DNS error) for an empty label or one longer
    than 63 octets; caught here on save, such a URL never reaches a delivery.
    """
    encoded: list[str] = []
    for label in host.split("."):
        if not label:
            raise OutboundTargetError(f"the host name {host!r} has an empty label (two dots in a row?)")
        if label.isascii():
            ascii_label = label
            if label.startswith("xn--"):
                try:
                    idna.decode(label)
                except (idna.IDNAError, UnicodeError) as exc:
                    raise OutboundTargetError(
                        f"{label!r} is not a valid internationalized (xn--) label: {exc}") from None
        else:
            try:
                ascii_label = idna.alabel(label).decode()
            except (idna.IDNAError, UnicodeError) as exc:
                raise OutboundTargetError(f"{label!r} is not a valid internationalized host name label: {exc}"
                                          ) from None
        if len(ascii_label) > 63:
            raise OutboundTargetError(f"the label {label[:20]!r}... is {len(ascii_label)} characters long, "
                                      "longer than 63")
        if ascii_label.startswith("-") or ascii_label.endswith("-"):
            raise OutboundTargetError(f"the label {label!r} starts or ends with a hyphen")
        if not ASCII_LABEL.fullmatch(ascii_label):
            raise OutboundTargetError(f"{label!r} has characters that are not allowed in a host name")
        encoded.append(ascii_label)
    length = len(".".join(encoded))
    if length > 253:
        raise OutboundTargetError(f"the host name is {length} characters long (encoded), longer than 253")


def check_url(url: str, *, allow_private: bool) -> str:
    """Validate an outbound URL on save; return it unchanged or raise OutboundTargetError."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError on a bad port)
    except ValueError as exc:
        raise OutboundTargetError(f"not a valid URL: {exc}") from None
    if parts.scheme not in {"http", "https"}:
        raise OutboundTargetError("only http and https URLs are allowed")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise OutboundTargetError("the URL has no host")
    if parts.username or parts.password:
        raise OutboundTargetError("credentials in the URL are not allowed; use a header instead")
    if host in METADATA_HOSTS:
        raise OutboundTargetError(f"{host} is a cloud metadata address, which is never allowed")
    ip = _parse_ip(host)
    if ip is not None:
        check_address(ip, allow_private=allow_private)
        return url
    check_host_name(host)
    if (host in LOOPBACK_HOSTS or host.endswith(".localhost")) and not allow_private:
        raise OutboundTargetError(
            f"{host} is a loopback address; these are refused unless ALLOW_PRIVATE_TARGETS is on")
    return url
