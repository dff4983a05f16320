"""Fetching media from URLs that content editors typed, without letting them reach our network.

A media URL is input from outside; fetched naively it lets anyone who can submit content make
the publisher read cloud metadata (169.254.169.254), the broker's admin ports or an intranet
page, and hand the bytes to a public platform (SSRF). ``SafeMediaFetcher`` closes that off:

- only ``https`` URLs, without credentials in them;
- the host name is resolved here, by an injectable ``HostResolver``, and *every* address it
  gives is vetted: loopback, private (RFC 1918, IPv6 ULA), link-local, CGNAT (100.64/10),
  multicast, reserved, unspecified and IPv4-mapped / 6to4 / NAT64 addresses that embed a
  non-public IPv4 are refused;
- the connection is pinned to the vetted address (a one-entry aiohttp resolver), so a second
  DNS answer (rebinding) can never swap it; TLS still verifies the certificate against the host
  name, because the URL keeps it;
- redirects are followed by hand, at most ``max_redirects`` hops, each one vetted again;
- the body is streamed and cut at the platform's size limit for the declared type
  (``shared.capabilities``), and the declared MIME type must match what the host serves;
- a large body (a video) goes to a spool file past ``spill_bytes`` instead of RAM
  (``services/publisher/spool.py``), and a fetch times out when the host stops sending for
  ``timeout_s``, not after a fixed total, so a gigabyte over a slow link still arrives.

Every refusal is a ``Permanent`` error that says what was refused and why; a flaky media host is
``Temporary``. A fetch happens before the platform is called, so nothing here is ``Ambiguous``
(see ``adapters/media.py``).

For the local sandbox and tests, ``allow_hosts`` lists ``host:port`` authorities that may be
fetched over plain http and may resolve to any address. It is empty unless configured
(``WARTA_MEDIA_ALLOW_HOSTS``); production never needs it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urljoin, urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from services.publisher.adapters.media import DEFAULT_MAX_BYTES, FetchedMedia, filename_for
from services.publisher.adapters.port import Permanent, Temporary
from services.publisher.spool import DEFAULT_SPILL_BYTES, Spool
from shared.capabilities import capabilities_for
from shared.events import Media
from shared.json_values import digits

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_CGNAT = ipaddress.ip_network("100.64.0.0/10")  # RFC 6598: the carrier's network, not the internet
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052: embeds an IPv4 address
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_GENERIC_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream"})
_ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "image/x-png": "image/png"}
_CHUNK = 64 * 1024


class HostResolver(Protocol):
    """Name → addresses. Injected so tests can play DNS (and rebinding) without a network."""

    async def resolve(self, host: str, port: int) -> list[IPAddress]: ...


class SystemResolver:
    """The operating system's resolver (getaddrinfo), off the event loop's thread."""

    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        loop = asyncio.get_running_loop()
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        # sockaddr[0] may carry an IPv6 zone ("fe80::1%eth0"); the zone is not part of the address.
        return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


def refusal(address: IPAddress) -> str | None:
    """Why ``address`` must not be fetched from ("a private address"), or None when it is public."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return "an IPv4-mapped address"
        embedded = address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None and refusal(embedded) is not None:
            return f"an address embedding {embedded}"
        if address.is_site_local:
            return "a site-local address"
    checks = (
        (address.is_unspecified, "an unspecified address"),
        (address.is_loopback, "a loopback address"),
        (address.is_link_local, "a link-local address"),
        (address.is_multicast, "a multicast address"),
        (isinstance(address, ipaddress.IPv4Address) and address in _CGNAT, "a CGNAT address"),
        (address.is_reserved, "a reserved address"),
        (address.is_private, "a private address"),
        (not address.is_global, "a non-public address"),
    )
    return next((why for hit, why in checks if hit), None)


class _PinnedResolver(AbstractResolver):
    """aiohttp's resolver for one connection: the vetted address for the vetted host, nothing else."""

    def __init__(self, host: str, address: IPAddress) -> None:
        self._host = host
        self._address = address

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if host != self._host:
            raise OSError(f"refusing to resolve {host!r}: only the vetted host {self._host!r} may be reached")
        family = socket.AF_INET6 if self._address.version == 6 else socket.AF_INET
        return [
            ResolveResult(
                hostname=host,
                host=str(self._address),
                port=port,
                family=family,
                proto=socket.IPPROTO_TCP,
                flags=socket.AI_NUMERICHOST,
            )
        ]

    async def close(self) -> None:
        return None


@dataclass(frozen=True)
class _Hop:
    url: str
    host: str
    port: int
    address: IPAddress


def where(url: str) -> str:
    """The URL without query or credentials: signed media URLs carry secrets there."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        netloc += f":{parts.port}"
    return f"{parts.scheme}://{netloc}{parts.path}"


def normalise_type(value: str) -> str:
    mime = value.split(";", 1)[0].strip().lower()
    return _ALIASES.get(mime, mime)


def sniff(data: bytes) -> str | None:
    """The MIME type the first bytes announce, for the types the platforms take."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[4:8] == b"ftyp":
        return "video/quicktime" if data[8:10] == b"qt" else "video/mp4"
    if data[:4] == b"\x1a\x45\xdf\xa3":
        return "video/webm"
    return None


def connection_host(url: str) -> str:
    """The host as the connection names it: a Unicode name in its IDNA (punycode) form, lower
    case. aiohttp asks the resolver for this form (yarl encodes the URL's host), so the allow-list,
    the lookup, the SSRF check and the pinned resolver must all compare this one, or an IDN host
    is never reached. Raises ``ValueError`` for a name IDNA cannot encode."""
    try:
        return (URL(url).raw_host or "").lower()
    except (ValueError, UnicodeError) as exc:  # idna's errors are UnicodeErrors
        raise ValueError(f"invalid host name in {where(url)}") from exc


def parse_authorities(entries: Iterable[str]) -> frozenset[tuple[str, int]]:
    """``["127.0.0.1:8090", "[::1]:8443"]`` → {(host, port)}; a port is required."""
    out: set[tuple[str, int]] = set()
    for entry in entries:
        entry = entry.strip()
        if not entry:
            continue
        parts = urlsplit(f"//{entry}")
        try:
            port = parts.port
        except ValueError:
            port = None
        if not parts.hostname or port is None:
            raise ValueError(f"media allow-list entry {entry!r} must be host:port")
        out.add((connection_host(f"http://{entry}"), port))
    return frozenset(out)


class SafeMediaFetcher:
    """A ``MediaFetcher`` for one platform that refuses anything but public https media."""

    def __init__(
        self,
        platform: str,
        *,
        resolver: HostResolver | None = None,
        allow_hosts: Iterable[str] = (),
        timeout_s: float = 30.0,
        max_redirects: int = 3,
        max_bytes: int = DEFAULT_MAX_BYTES,
        spill_bytes: int = DEFAULT_SPILL_BYTES,
        spool_dir: Path | None = None,
    ) -> None:
        self._caps = capabilities_for(platform)
        self._resolver = resolver or SystemResolver()
        self._allowed = parse_authorities(allow_hosts)
        # Per connect and per read, not in total: a large video over a slow link takes minutes,
        # and a host that stops sending is caught just as fast.
        self._timeout = aiohttp.ClientTimeout(total=None, sock_connect=timeout_s, sock_read=timeout_s)
        self._max_redirects = max_redirects
        self._max_bytes = max_bytes
        self._spill_bytes = spill_bytes
        self._spool_dir = spool_dir

    async def fetch(self, media: Media) -> FetchedMedia:
        declared = normalise_type(media.type)
        limit = self._limit(media, declared)
        url = media.url
        for _ in range(self._max_redirects + 1):
            hop = await self._vet(url, media.url)
            connector = aiohttp.TCPConnector(
                resolver=_PinnedResolver(hop.host, hop.address), use_dns_cache=False, force_close=True
            )
            # trust_env=False: an HTTP(S)_PROXY in the environment must not route around the pin.
            async with aiohttp.ClientSession(
                connector=connector, timeout=self._timeout, trust_env=False
            ) as session:
                try:
                    async with session.get(
                        hop.url, allow_redirects=False, headers={"Accept": declared}
                    ) as resp:
                        if resp.status in _REDIRECTS:
                            location = resp.headers.get("Location")
                            if not location:
                                raise Permanent(
                                    f"media {where(url)} redirects without a Location", code="media_refused"
                                )
                            url = urljoin(hop.url, location)
                            continue
                        self._check_status(resp.status, url)
                        self._check_length(resp.headers.get("Content-Length"), limit, url, declared)
                        data = await self._read(resp, limit, url, declared)
                        self._check_type(resp.headers.get("Content-Type", ""), declared, data, url)
                        return FetchedMedia(data, declared, filename_for(media))
                except aiohttp.ClientConnectorCertificateError as exc:
                    raise Permanent(
                        f"media {where(url)}: the host's TLS certificate is not valid", code="media_refused"
                    ) from exc
                except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                    raise Temporary(
                        f"media {where(url)}: {type(exc).__name__} while fetching", code="media_unavailable"
                    ) from exc
        raise Permanent(
            f"media {where(media.url)} redirects more than {self._max_redirects} times: refused",
            code="media_refused",
        )

    # ---- checks ------------------------------------------------------------------------------
    def _limit(self, media: Media, declared: str) -> int:
        rule = self._caps.media_types.get(declared)
        if rule is None:
            accepted = ", ".join(sorted(self._caps.media_types)) or "none"
            raise Permanent(
                f"{self._caps.label} does not take {declared} media (accepted: {accepted})",
                code="media_type_refused",
            )
        limit = min(rule.max_bytes or self._max_bytes, self._max_bytes)
        if media.size_bytes is not None and media.size_bytes > limit:
            raise Permanent(
                f"media {where(media.url)} is declared {media.size_bytes} bytes; {self._caps.label} "
                f"takes {declared} up to {limit} bytes",
                code="media_too_large",
            )
        return limit

    async def _vet(self, url: str, original: str) -> _Hop:
        parts = urlsplit(url)
        shown = where(url)
        hop_note = "" if url == original else f" (redirected from {where(original)})"
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise Permanent(f"media URL {shown} has an invalid port", code="media_refused") from None
        try:
            host = connection_host(url)
        except ValueError:
            raise Permanent(
                f"media URL {shown}{hop_note} has an invalid host name", code="media_refused"
            ) from None
        if not host:
            raise Permanent(f"media URL {shown}{hop_note} has no host", code="media_refused")
        if parts.username is not None or parts.password is not None:
            raise Permanent(f"media URL {shown}{hop_note} carries credentials: refused", code="media_refused")
        allowed = (host, port) in self._allowed
        if parts.scheme != "https" and not (allowed and parts.scheme == "http"):
            raise Permanent(
                f"media URL {shown}{hop_note} is not https: refused (only https media is fetched)",
                code="media_refused",
            )
        try:
            addresses = [ipaddress.ip_address(host)]
        except ValueError:
            try:
                addresses = await self._resolver.resolve(host, port)
            except OSError as exc:
                raise Temporary(
                    f"media URL {shown}{hop_note}: cannot resolve {host} ({exc})", code="media_unavailable"
                ) from exc
        if not addresses:
            raise Temporary(f"media URL {shown}{hop_note}: {host} has no address", code="media_unavailable")
        if not allowed:
            # Every address, not just the first: a name answering one public and one private
            # address must not get a chance to be pinned to the private one.
            for address in addresses:
                why = refusal(address)
                if why is not None:
                    raise Permanent(
                        f"media URL {shown}{hop_note} resolves to {why} {address}: refused",
                        code="media_refused",
                    )
        return _Hop(url=url, host=host, port=port, address=addresses[0])

    def _check_status(self, status: int, url: str) -> None:
        if status == 200:
            return
        if status in (408, 429) or status >= 500:
            raise Temporary(f"media {where(url)}: HTTP {status}", code="media_unavailable")
        raise Permanent(f"media {where(url)}: HTTP {status}", code="media_unavailable")

    def _check_length(self, raw: str | None, limit: int, url: str, declared: str) -> None:
        if raw is not None and digits(raw) and int(raw) > limit:
            raise Permanent(
                f"media {where(url)} is {raw} bytes; {self._caps.label} takes {declared} up to {limit} bytes",
                code="media_too_large",
            )

    async def _read(
        self, resp: aiohttp.ClientResponse, limit: int, url: str, declared: str
    ) -> bytes | memoryview:
        spool = Spool(self._spill_bytes, self._spool_dir)
        try:
            async for chunk in resp.content.iter_chunked(_CHUNK):
                if spool.size + len(chunk) > limit:
                    # stop reading: a lying or absent Content-Length can't make us store more
                    raise Permanent(
                        f"media {where(url)} is larger than {limit} bytes; {self._caps.label} takes "
                        f"{declared} up to {limit} bytes",
                        code="media_too_large",
                    )
                spool.write(chunk)
            return spool.finish()
        finally:
            spool.discard()

    def _check_type(self, served_raw: str, declared: str, data: bytes | memoryview, url: str) -> None:
        served = normalise_type(served_raw)
        if served == declared:
            return
        if served in _GENERIC_TYPES:
            # Hosts often serve application/octet-stream; then the bytes themselves must agree.
            found = sniff(bytes(data[:64]))
            if found == declared:
                return
            raise Permanent(
                f"media {where(url)} is declared {declared} but its bytes are {found or 'of an unknown type'}",
                code="media_type_mismatch",
            )
        raise Permanent(
            f"media {where(url)} is declared {declared} but the host serves {served}",
            code="media_type_mismatch",
        )
