"""The ``warta`` command: one subcommand per service, plus operator tools.

warta ingest | scheduler | publisher --platform NAME | console | inbox | sandbox | topics | dev
and the operator commands of ``shared.cli_ops`` (submit, status, plan, lag, pause, resume, dead, …).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from shared.cli_ops import register as register_ops


def _ingest(args: argparse.Namespace) -> int:
    from services.ingest.app import run
    from services.ingest.settings import IngestSettings
    from shared.runtime import run_until_signalled, setup_logging, tune_gc

    settings = IngestSettings()
    setup_logging(settings.log_level, "ingest")
    tune_gc(settings.gc_young_threshold)
    run_until_signalled(lambda stop: run(settings, stop))
    return 0


def _scheduler(args: argparse.Namespace) -> int:
    from services.scheduler.app import run
    from services.scheduler.settings import SchedulerSettings
    from shared.runtime import run_until_signalled, setup_logging, tune_gc

    settings = SchedulerSettings()
    setup_logging(settings.log_level, "scheduler")
    tune_gc(settings.gc_young_threshold)
    run_until_signalled(lambda stop: run(settings, stop))
    return 0


def _publisher(args: argparse.Namespace) -> int:
    from services.publisher.app import run
    from services.publisher.settings import PublisherSettings
    from shared.runtime import run_until_signalled, setup_logging, tune_gc

    settings = PublisherSettings(platform=args.platform)
    setup_logging(settings.log_level, f"publisher-{args.platform}")
    tune_gc(settings.gc_young_threshold)
    run_until_signalled(lambda stop: run(settings, stop))
    return 0


def _console(args: argparse.Namespace) -> int:
    from services.console.app import run
    from services.console.settings import ConsoleSettings
    from shared.runtime import run_until_signalled, setup_logging, tune_gc

    settings = ConsoleSettings()
    setup_logging(settings.log_level, "console")
    tune_gc(settings.gc_young_threshold)
    run_until_signalled(lambda stop: run(settings, stop))
    return 0


def _inbox(args: argparse.Namespace) -> int:
    from services.inbox.app import run
    from services.inbox.settings import InboxSettings
    from shared.runtime import run_until_signalled, setup_logging, tune_gc

    settings = InboxSettings()
    setup_logging(settings.log_level, "inbox")
    tune_gc(settings.gc_young_threshold)
    run_until_signalled(lambda stop: run(settings, stop))
    return 0


def _sandbox(args: argparse.Namespace) -> int:
    from services.publisher.fakes.sandbox import main as sandbox_main

    sandbox_main(["--host", args.host, "--port", str(args.port), "--secrets", args.secrets])
    return 0


def _topics(args: argparse.Namespace) -> int:
    from shared.kafka import ensure_topics
    from shared.settings import CommonSettings

    settings = CommonSettings()
    specs = settings.topics.specs()
    created = asyncio.run(ensure_topics(settings.kafka, specs))
    for spec in specs:
        mark = "created" if spec.name in created else "exists "
        configs = ",".join(f"{k}={v}" for k, v in sorted(spec.configs.items()))
        print(
            f"{mark} {spec.name:<36} partitions={spec.partitions} replication={spec.replication}"
            f" key={spec.key!r} {configs}"
        )
    return 0


def _dev(args: argparse.Namespace) -> int:
    from shared.devrun import main as dev_main

    return dev_main()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="warta", description="Warta: publish approved content at peak hours"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("ingest", help="run the HTTP ingest service").set_defaults(func=_ingest)
    sub.add_parser("scheduler", help="run the scheduler").set_defaults(func=_scheduler)
    pub = sub.add_parser("publisher", help="run the publisher of one platform")
    pub.add_argument("--platform", required=True)
    pub.set_defaults(func=_publisher)
    sub.add_parser("console", help="run the operators' console: metrics, dashboard, webhooks").set_defaults(
        func=_console
    )
    sub.add_parser(
        "inbox", help="run the inbox: citizens' comments, Meta webhooks, the inbox API"
    ).set_defaults(func=_inbox)
    sandbox = sub.add_parser("sandbox", help="serve the platform contract fakes")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=8090)
    sandbox.add_argument("--secrets", default="var/secrets.json")
    sandbox.set_defaults(func=_sandbox)
    sub.add_parser("topics", help="create every topic (idempotent) and list them").set_defaults(func=_topics)
    sub.add_parser("dev", help="run the whole system locally (used by make run)").set_defaults(func=_dev)
    register_ops(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
