"""``warta channels check|connect``, ``warta credentials rotate-key``, ``warta sandbox token``.

They run where the publisher runs (they open its credential vault with its key), so they import
the publisher's code when called, never at import time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import orjson

from warta.cli_messages import say

JSON_HELP = "print the result as JSON on stdout, for scripts"

if TYPE_CHECKING:
    from services.publisher.settings import PublisherSettings


def _settings() -> PublisherSettings:
    from services.publisher.settings import PublisherSettings

    return PublisherSettings()


def _fail(command: str, exc: Exception) -> int:
    print(f"warta {command}: {exc}", file=sys.stderr)
    return 2


def _report(args: argparse.Namespace, data: dict[str, object], key: str, **params: object) -> None:
    """A command's result: one JSON object on stdout with ``--json`` (for scripts), else its sentence."""
    if getattr(args, "json", False):
        sys.stdout.write(orjson.dumps(data).decode() + "\n")
    else:
        print(say(key, **params))


def cmd_channels_check(args: argparse.Namespace) -> int:
    from services.publisher.credentials.commands import CommandError, check, print_check
    from shared.credentials import CredentialError

    try:
        rows = asyncio.run(check(_settings()))
    except (CommandError, CredentialError) as exc:
        return _fail("channels check", exc)
    return print_check(rows, args.json)


def _read_secret(args: argparse.Namespace) -> str:
    """The pasted credential: from stdin, never from the command line (shell history, ps)."""
    import getpass

    if sys.stdin.isatty():
        return getpass.getpass(say("paste_secret", channel=args.channel))
    return sys.stdin.readline().strip()


def cmd_connect_pasted(args: argparse.Namespace, settings: PublisherSettings) -> int:
    """Telegram, Bluesky, WordPress, WhatsApp: the credential pasted on stdin, checked with
    the platform, then stored; the webhook: a signing secret generated and shown once."""
    from services.publisher.credentials.commands import CommandError, _channel
    from services.publisher.credentials.paste_commands import (
        _vault,
        connect_pasted,
        generate_webhook_secret,
    )
    from shared.credentials import CredentialError

    try:
        channel = _channel(settings, args.channel)
        if channel.platform == "webhook":
            record, secret = generate_webhook_secret(_vault(settings), channel)
            shown = {"channel": args.channel, "account": record.account, "signing_secret": secret}
            _report(args, shown, "webhook_secret", channel=args.channel, secret=secret)
        else:
            record, verified = asyncio.run(
                connect_pasted(settings, channel, _read_secret(args), args.username or "")
            )
            shown = {"channel": args.channel, "account": record.account, "reached": verified.reached}
            _report(args, shown, "connected_as", channel=args.channel, reached=verified.reached)
    except (CommandError, CredentialError) as exc:
        return _fail("channels connect", exc)
    return asyncio.run(announce_or_warn(settings, [record.account]))


def cmd_channels_connect(args: argparse.Namespace) -> int:
    import aiohttp

    from services.publisher.credentials import RefreshError
    from services.publisher.credentials.commands import CommandError, ConnectRequest, _channel, connect
    from services.publisher.credentials.paste_commands import pasted
    from shared.credentials import CredentialError

    settings = _settings()
    platform = _platform_of(settings, args.channel)
    if platform is not None and pasted(platform):
        return cmd_connect_pasted(args, settings)

    async def show(url: str) -> None:
        # With --json, stdout holds only the result: the address goes to stderr.
        print(say("open_to_connect", url=url), flush=True, file=sys.stderr if args.json else sys.stdout)
        if args.open:  # the sandbox consents at once: fetching the page completes the flow
            async with aiohttp.ClientSession() as session, session.get(url) as resp:
                await resp.read()

    async def run() -> int:
        request = ConnectRequest(
            channel=_channel(settings, args.channel),
            client_id=args.client_id,
            client_secret=os.environ.get("WARTA_OAUTH_CLIENT_SECRET"),
            redirect_uri=args.redirect_uri,
            port=args.port,
            timeout_s=args.timeout,
        )
        record = await connect(settings, request, show)
        shown = {
            "channel": args.channel,
            "account": record.account,
            "platform": record.platform,
            "scope": record.scope,
            "expires_at": record.expires_at.isoformat() if record.expires_at else None,
        }  # never a token
        _report(args, shown, "connected", channel=args.channel, record=repr(record))
        return await announce_or_warn(settings, [record.account])

    try:
        return asyncio.run(run())
    except TimeoutError as exc:  # asyncio's timeout carries no words: say what did not come
        return _fail("channels connect", exc if str(exc) else TimeoutError(say("no_callback")))
    except (CommandError, CredentialError, RefreshError) as exc:
        return _fail("channels connect", exc)


def _platform_of(settings: PublisherSettings, channel_id: str) -> str | None:
    channel = settings.load_channels().get(channel_id)
    return channel.platform if channel is not None else None


async def announce_or_warn(settings: PublisherSettings, accounts: list[str]) -> int:
    """The stored credentials go on the credentials topic, where every publisher host reads them;
    then jobs parked while the account needed re-connecting go out again once the scheduler hears."""
    from services.publisher.credentials.paste_commands import _vault
    from shared.credentials.credential_topic import share_accounts
    from shared.credentials.reconnect import announce_reconnected
    from shared.kafka import KafkaUnavailable

    try:
        await share_accounts(settings, _vault(settings), accounts)
    except KafkaUnavailable as exc:
        print(say("not_shared", error=exc))
        return 3
    try:
        await announce_reconnected(settings, accounts)
    except KafkaUnavailable as exc:
        print(say("scheduler_not_told", error=exc), file=sys.stderr)
        return 3
    return 0


def cmd_rotate_key(args: argparse.Namespace) -> int:
    from services.publisher.credentials.commands import CommandError, rotate_key
    from shared.credentials.credential_topic import share_accounts
    from shared.credentials.keys import parse_keys
    from shared.kafka import KafkaUnavailable

    settings = _settings()
    try:
        vault = rotate_key(settings, parse_keys(Path(args.new_key_file).read_text(encoding="ascii")))
    except (CommandError, OSError) as exc:
        return _fail("credentials rotate-key", exc)
    records = vault.current()
    _report(args, {"reencrypted": len(records)}, "reencrypted", count=len(records))
    try:
        # The topic's records too: once the old key is dropped, only these can be opened.
        asyncio.run(share_accounts(settings, vault, records))
    except KafkaUnavailable as exc:
        print(say("not_shared", error=exc), file=sys.stderr)
        return 3
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    """A clear secrets file handed in by an operator: each entry replaces its account's record,
    the file is shredded, and the scheduler hears that those accounts work again."""
    from services.publisher.credentials.paste_commands import _vault
    from shared.credentials import CredentialError
    from shared.credentials.clear_import import replace_from_file

    settings = _settings()
    path = Path(args.file)
    try:
        if not path.is_file():
            raise FileNotFoundError(say("no_such_file", path=path))
        accounts = replace_from_file(_vault(settings), path)
    except (CredentialError, OSError) as exc:
        return _fail("credentials import", exc)
    shown = {"imported": len(accounts), "accounts": sorted(accounts)}
    _report(args, shown, "imported", count=len(accounts), accounts=", ".join(sorted(accounts)) or "-")
    return asyncio.run(announce_or_warn(settings, accounts))


def cmd_generate_key(args: argparse.Namespace) -> int:
    from shared.credentials.keys import generate_key
    from shared.private_file import write_private

    path = Path(args.out)
    if path.exists():
        return _fail("credentials generate-key", FileExistsError(say("exists_not_overwritten", path=path)))
    write_private(path, generate_key() + "\n")
    _report(args, {"path": str(path)}, "wrote_key", path=path)
    return 0


def cmd_sandbox_token(args: argparse.Namespace) -> int:
    from services.publisher.credentials.commands import CommandError, _channel
    from services.publisher.credentials.sandbox_token import companions_of, sandbox_token, secret_of

    try:
        grant = asyncio.run(sandbox_token(_channel(_settings(), args.channel)))
        secret = secret_of(grant)
    except CommandError as exc:
        return _fail("sandbox token", exc)
    if args.json:
        sys.stdout.write(orjson.dumps(grant).decode() + "\n")
        return 0
    # The note and what goes with the secret on stderr, so that ``$(warta sandbox token
    # x-demo)`` captures only the credential.
    print(say("sandbox_grant", channel=args.channel), file=sys.stderr)
    for name, value in companions_of(grant).items():
        print(f"  {name}: {value}", file=sys.stderr)
    print(secret)
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    creds = sub.add_parser("credentials", help="the encrypted credential vault: keys")
    creds_sub = creds.add_subparsers(dest="credentials_command", required=True)
    rotate = creds_sub.add_parser("rotate-key", help="re-encrypt every credential with a new key")
    rotate.add_argument("--new-key-file", required=True, help="the new key (first line)")
    rotate.add_argument("--json", action="store_true", help=JSON_HELP)
    rotate.set_defaults(func=cmd_rotate_key)
    imp = creds_sub.add_parser(
        "import", help="move a clear secrets file into the vault (replacing), then shred it"
    )
    imp.add_argument("file")
    imp.add_argument("--json", action="store_true", help=JSON_HELP)
    imp.set_defaults(func=cmd_import)
    gen = creds_sub.add_parser("generate-key", help="write a new key to a file readable by its owner only")
    gen.add_argument("out")
    gen.add_argument("--json", action="store_true", help=JSON_HELP)
    gen.set_defaults(func=cmd_generate_key)


def register_channels(channels: argparse.ArgumentParser) -> None:
    sub = channels.add_subparsers(dest="channels_command")
    check = sub.add_parser("check", help="each channel's credential: works? which account? expiry?")
    check.add_argument("--json", action="store_true", help=JSON_HELP)
    check.set_defaults(func=cmd_channels_check)
    connect = sub.add_parser(
        "connect", help="connect a channel's account: OAuth code + PKCE, loopback callback"
    )
    connect.add_argument("channel")
    connect.add_argument(
        "--client-id",
        default="",
        help="the app's client id (TikTok: client key); Mastodon: omit it, Warta registers on the instance",
    )
    connect.add_argument(
        "--redirect-uri", help="the registered redirect URI, behind a proxy (default: loopback)"
    )
    connect.add_argument("--port", type=int, default=0, help="loopback callback port (default: any free one)")
    connect.add_argument(
        "--username", help="WordPress: the user the application password belongs to (read from stdin)"
    )
    connect.add_argument("--timeout", type=float, default=300.0)
    connect.add_argument("--open", action="store_true", help="fetch the page yourself (the sandbox consents)")
    connect.add_argument("--json", action="store_true", help=JSON_HELP)
    connect.set_defaults(func=cmd_channels_connect)
