"""The ``warta`` command: one subcommand per service, plus operator tools.

warta ingest | scheduler | publisher --platform NAME | console | analytics | inbox | sandbox | topics | dev
(``warta inbox`` with a subcommand works the inbox instead: ``warta.cli_inbox``)
and the operator commands of ``warta.cli_ops`` (submit, status, plan, lag, pause, resume, dead, …)
and ``warta.report`` (report).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar, cast

from shared.build import version
from shared.settings import CommonSettings
from warta.cli_complaints import register as register_complaints
from warta.cli_credentials import cmd_sandbox_token
from warta.cli_credentials import register as register_credentials
from warta.cli_help import WartaParser, translate
from warta.cli_inbox import register as register_inbox
from warta.cli_messages import language_of, say, use
from warta.cli_ops import register as register_ops
from warta.report import register as register_report

SettingsT = TypeVar("SettingsT", bound=CommonSettings)


def _launch(
    name: str, settings: SettingsT, run: Callable[[SettingsT, asyncio.Event], Awaitable[None]]
) -> int:
    """Run one service until SIGINT/SIGTERM: its logging, event loop and GC from its settings."""
    from shared.runtime import run_until_signalled
    from shared.tracing import setup_tracing

    _prepare_process(name, settings)
    setup_tracing(name, settings.otlp_endpoint)
    run_until_signalled(lambda stop: run(settings, stop))
    return 0


def _prepare_process(name: str, settings: CommonSettings) -> None:
    """What every service process sets first, before any event loop exists: its logging, the
    loop it runs on (``WARTA_EVENT_LOOP``) and how often its cyclic collector runs
    (``WARTA_GC_YOUNG_THRESHOLD``)."""
    from shared.runtime import setup_logging, tune_gc, use_event_loop

    setup_logging(settings.log_level, name, settings.log_format)
    use_event_loop(settings.event_loop)
    tune_gc(settings.gc_young_threshold)


# Each service is imported only when it is the one started, so `warta ingest` never loads the
# publisher's adapters (and a service's import error breaks only that service's command).
def _ingest(args: argparse.Namespace) -> int:
    from services.ingest.app import run
    from services.ingest.settings import IngestSettings

    return _launch("ingest", IngestSettings(), run)


def _scheduler(args: argparse.Namespace) -> int:
    from services.scheduler.app import run
    from services.scheduler.settings import SchedulerSettings

    return _launch("scheduler", SchedulerSettings(), run)


def _publisher(args: argparse.Namespace) -> int:
    from services.publisher.app import run
    from services.publisher.settings import PublisherSettings

    return _launch(f"publisher-{args.platform}", PublisherSettings(platform=args.platform), run)


def _console(args: argparse.Namespace) -> int:
    from services.console.app import run
    from services.console.settings import ConsoleSettings

    return _launch("console", ConsoleSettings(), run)


def _analytics(args: argparse.Namespace) -> int:
    from services.analytics.app import run
    from services.analytics.settings import AnalyticsSettings

    settings = AnalyticsSettings()
    _prepare_process("analytics", settings)
    run(settings)
    return 0


def _inbox(args: argparse.Namespace) -> int:
    from services.inbox.app import run
    from services.inbox.settings import InboxSettings

    return _launch("inbox", InboxSettings(), run)


def _sandbox(args: argparse.Namespace) -> int:
    if args.action == "token":
        if not args.channel:
            print(say("name_a_channel"), file=sys.stderr)
            return 2
        return cmd_sandbox_token(args)
    from sandbox.sandbox import main as sandbox_main

    sandbox_main(["--host", args.host, "--port", str(args.port), "--secrets", args.secrets])
    return 0


def _topics(args: argparse.Namespace) -> int:
    from shared.kafka import ensure_topics

    settings = CommonSettings()
    specs = settings.topics.specs()
    created = asyncio.run(ensure_topics(settings.kafka, specs))
    if args.json:
        rows = [
            {
                "name": spec.name,
                "created": spec.name in created,
                "partitions": spec.partitions,
                "replication": spec.replication,
                "key": spec.key,
                "configs": dict(spec.configs),
            }
            for spec in specs
        ]
        print(json.dumps(rows, indent=2, sort_keys=True))
        return 0
    for spec in specs:
        mark = "created" if spec.name in created else "exists "
        configs = ",".join(f"{k}={v}" for k, v in sorted(spec.configs.items()))
        print(
            f"{mark} {spec.name:<36} partitions={spec.partitions} replication={spec.replication}"
            f" key={spec.key!r} {configs}"
        )
    return 0


def _dev(args: argparse.Namespace) -> int:
    from warta.devrun import main as dev_main

    return dev_main()


def build_parser() -> argparse.ArgumentParser:
    parser = WartaParser(prog="warta", description="Warta: publish approved content at peak hours")
    parser.add_argument("--version", action="version", version=f"warta {version()}")
    parser.add_argument(
        "--lang",
        choices=("en", "id"),
        help="the CLI's language (default: the locale's; id when it starts with id)",
    )
    # Its parsers are WartaParsers (argparse makes them of the parent's class); the registrars take any.
    sub = cast(
        "argparse._SubParsersAction[argparse.ArgumentParser]",
        parser.add_subparsers(dest="command", required=True),
    )
    sub.add_parser("ingest", help="run the HTTP ingest service").set_defaults(func=_ingest)
    sub.add_parser("scheduler", help="run the scheduler").set_defaults(func=_scheduler)
    pub = sub.add_parser("publisher", help="run the publisher of one platform")
    pub.add_argument("--platform", required=True)
    pub.set_defaults(func=_publisher)
    sub.add_parser("console", help="run the operators' console: metrics, dashboard, webhooks").set_defaults(
        func=_console
    )
    sub.add_parser(
        "analytics", help="run the analytics worker: reach figures and the press office's read API"
    ).set_defaults(func=_analytics)
    register_inbox(sub, run_service=_inbox)
    sandbox = sub.add_parser("sandbox", help="serve the platform contract fakes, or mint a demo token")
    sandbox.add_argument("action", nargs="?", choices=("serve", "token"), default="serve")
    sandbox.add_argument("channel", nargs="?", help="token: the demo channel whose credential to print")
    sandbox.add_argument("--json", action="store_true", help="token: the whole grant as JSON")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=8090)
    sandbox.add_argument("--secrets", default="var/secrets.json")
    sandbox.set_defaults(func=_sandbox)
    topics = sub.add_parser("topics", help="create every topic (idempotent) and list them")
    topics.add_argument("--json", action="store_true", help="print the topics as JSON on stdout")
    topics.set_defaults(func=_topics)
    sub.add_parser("dev", help="run the whole system locally (used by make run)").set_defaults(func=_dev)
    register_ops(sub)
    register_credentials(sub)
    register_report(sub)
    register_complaints(sub)
    return parser


def _lang_flag(argv: Sequence[str] | None) -> str | None:
    """``--lang`` wherever it is given, read before the parser is built: its help and its usage
    errors are already in the run's language."""
    early = argparse.ArgumentParser(add_help=False, exit_on_error=False)
    early.add_argument("--lang")
    try:
        flag: str | None = early.parse_known_args(argv)[0].lang
    except argparse.ArgumentError:
        return None
    return flag


def main(argv: Sequence[str] | None = None) -> int:
    lang = language_of(_lang_flag(argv))
    use(lang)
    parser = build_parser()
    translate(parser, lang)
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
