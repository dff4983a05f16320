"""SSRF refusals of the media fetcher, decided before any connection is opened (no network)."""

from __future__ import annotations

import ipaddress
import re

import pytest

from services.publisher.adapters.port import Permanent, Temporary
from services.publisher.safe_fetch import (
    IPAddress,
    SafeMediaFetcher,
    _PinnedResolver,
    parse_authorities,
    refusal,
    sniff,
)
from shared.events import Media


class FakeDNS:
    """Answers from a table; each host may answer differently on each lookup (rebinding)."""

    def __init__(self, answers: dict[str, list[list[str]]]) -> None:
        self._answers = {host: list(seq) for host, seq in answers.items()}
        self.lookups: list[str] = []

    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        self.lookups.append(host)
        seq = self._answers.get(host)
        if not seq:
            raise OSError(f"NXDOMAIN {host}")
        answer = seq.pop(0) if len(seq) > 1 else seq[0]
        return [ipaddress.ip_address(a) for a in answer]


def jpeg(url: str, **extra: int) -> Media:
    return Media(url=url, type="image/jpeg", **extra)


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("10.0.0.5", "a private address"),
        ("172.16.3.4", "a private address"),
        ("192.168.1.1", "a private address"),
        ("127.0.0.1", "a loopback address"),
        ("0.0.0.0", "an unspecified address"),
        ("169.254.169.254", "a link-local address"),
        ("100.64.0.1", "a CGNAT address"),
        ("224.0.0.251", "a multicast address"),
        ("240.0.0.1", "a reserved address"),
        ("192.0.2.10", "a private address"),  # TEST-NET-1: documentation, never routed
        ("::1", "a loopback address"),
        ("::", "an unspecified address"),
        ("fe80::1", "a link-local address"),
        ("fd12:3456::1", "a private address"),  # ULA
        ("fec0::1", "a site-local address"),
        ("ff02::1", "a multicast address"),
        ("::ffff:8.8.8.8", "an IPv4-mapped address"),
        ("::ffff:10.0.0.5", "an IPv4-mapped address"),
        ("2002:a00:5::1", "an address embedding 10.0.0.5"),  # 6to4
        ("64:ff9b::a9fe:a9fe", "an address embedding 169.254.169.254"),  # NAT64
        ("8.8.8.8", None),
        ("93.184.215.14", None),
        ("2606:4700::6810:84e5", None),
        ("64:ff9b::808:808", "a reserved address"),  # NAT64 even of a public one: ::/8 is reserved
    ],
)
def test_the_address_table(address: str, why: str | None) -> None:
    assert refusal(ipaddress.ip_address(address)) == why


async def test_a_name_resolving_to_a_private_address_is_refused_with_the_address() -> None:
    dns = FakeDNS({"media.example.com": [["10.0.0.5"]]})
    fetcher = SafeMediaFetcher("mastodon", resolver=dns)
    with pytest.raises(Permanent) as err:
        await fetcher.fetch(jpeg("https://media.example.com/a.jpg?sig=secret"))
    assert str(err.value) == (
        "media URL https://media.example.com/a.jpg resolves to a private address 10.0.0.5: refused"
    )
    assert err.value.code == "media_refused"
    assert "secret" not in str(err.value)


async def test_one_private_address_among_public_ones_is_enough_to_refuse() -> None:
    dns = FakeDNS({"cdn.example.com": [["93.184.215.14", "169.254.169.254"]]})
    with pytest.raises(Permanent, match=re.escape("link-local address 169.254.169.254")):
        await SafeMediaFetcher("x", resolver=dns).fetch(jpeg("https://cdn.example.com/a.jpg"))


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://media.example.com/a.jpg", "is not https: refused"),
        ("ftp://media.example.com/a.jpg", "is not https: refused"),
        ("file:///etc/passwd", "has no host"),
        ("https://user:pw@media.example.com/a.jpg", "carries credentials: refused"),
        ("https://127.0.0.1/a.jpg", "resolves to a loopback address 127.0.0.1"),
        ("https://[::1]:8443/a.jpg", "resolves to a loopback address ::1"),
        ("https://[::ffff:169.254.169.254]/a.jpg", "IPv4-mapped address"),
    ],
)
async def test_urls_refused_before_any_lookup(url: str, message: str) -> None:
    dns = FakeDNS({})
    with pytest.raises(Permanent, match=message.replace("[", r"\[").replace(".", r"\.")):
        await SafeMediaFetcher("mastodon", resolver=dns).fetch(jpeg(url))
    assert dns.lookups == []
    assert "pw" not in str(url.split("@")[-1])


async def test_an_unresolvable_host_is_temporary() -> None:
    with pytest.raises(Temporary, match=re.escape("cannot resolve nowhere.example")):
        await SafeMediaFetcher("mastodon", resolver=FakeDNS({})).fetch(jpeg("https://nowhere.example/a.jpg"))


async def test_a_type_the_platform_does_not_take_is_refused() -> None:
    media = Media(url="https://media.example.com/a.gif", type="image/gif")
    with pytest.raises(
        Permanent, match=r"Telegram does not take image/gif media \(accepted: image/jpeg, image/png\)"
    ):
        await SafeMediaFetcher("telegram", resolver=FakeDNS({})).fetch(media)


async def test_a_declared_size_over_the_platform_limit_is_refused_without_fetching() -> None:
    dns = FakeDNS({"media.example.com": [["93.184.215.14"]]})
    media = jpeg("https://media.example.com/a.jpg", size_bytes=6_000_000)
    with pytest.raises(Permanent, match="Telegram takes image/jpeg up to 5000000 bytes"):
        await SafeMediaFetcher("telegram", resolver=dns).fetch(media)
    assert dns.lookups == []


async def test_the_allow_list_does_not_open_other_hosts_or_ports() -> None:
    dns = FakeDNS({"127.0.0.1": [["127.0.0.1"]]})
    fetcher = SafeMediaFetcher("mastodon", resolver=dns, allow_hosts=["127.0.0.1:8090"])
    with pytest.raises(Permanent, match="is not https"):
        await fetcher.fetch(jpeg("http://127.0.0.1:8091/media/a.jpg"))
    with pytest.raises(Permanent, match=re.escape("loopback address 127.0.0.1")):
        await fetcher.fetch(jpeg("https://127.0.0.1:8091/media/a.jpg"))


def test_allow_list_entries_need_a_port() -> None:
    assert parse_authorities(["127.0.0.1:8090", " [::1]:9 ", ""]) == {("127.0.0.1", 8090), ("::1", 9)}
    with pytest.raises(ValueError, match="must be host:port"):
        parse_authorities(["127.0.0.1"])


async def test_the_pinned_resolver_answers_only_the_vetted_host() -> None:
    pinned = _PinnedResolver("media.example.com", ipaddress.ip_address("93.184.215.14"))
    [answer] = await pinned.resolve("media.example.com", 443)
    assert (answer["host"], answer["port"]) == ("93.184.215.14", 443)
    with pytest.raises(OSError, match="only the vetted host"):
        await pinned.resolve("metadata.internal", 80)


@pytest.mark.parametrize(
    ("head", "mime"),
    [
        (b"\xff\xd8\xff\xe0rest", "image/jpeg"),
        (b"\x89PNG\r\n\x1a\nrest", "image/png"),
        (b"GIF89a....", "image/gif"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"\x00\x00\x00\x18ftypmp42", "video/mp4"),
        (b"<!doctype html>", None),
    ],
)
def test_sniffing(head: bytes, mime: str | None) -> None:
    assert sniff(head) == mime


# --- internationalised host names ---------------------------------------------------------------


async def test_an_idn_host_is_looked_up_and_vetted_in_its_idna_form() -> None:
    # aiohttp names the host in punycode when it connects; the lookup and the SSRF check must see
    # that same name, or an IDN host would be refused (or, worse, another name vetted).
    dns = FakeDNS({"xn--mdia-bpa.example.id": [["10.0.0.5"]]})
    with pytest.raises(Permanent, match=re.escape("resolves to a private address 10.0.0.5")):
        await SafeMediaFetcher("mastodon", resolver=dns).fetch(jpeg("https://MÉDIA.example.id/a.jpg"))
    assert dns.lookups == ["xn--mdia-bpa.example.id"]


def test_allow_list_entries_are_compared_in_idna_form() -> None:
    assert parse_authorities(["média.test:8090"]) == {("xn--mdia-bpa.test", 8090)}


async def test_a_host_idna_cannot_encode_is_refused_before_any_lookup() -> None:
    dns = FakeDNS({})
    with pytest.raises(Permanent, match="invalid host name"):
        await SafeMediaFetcher("mastodon", resolver=dns).fetch(jpeg("https://a\u200d\u200db.example/a.jpg"))
    assert dns.lookups == []
