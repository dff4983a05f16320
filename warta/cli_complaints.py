"""Citizens' complaints (SP4N-LAPOR!) from a terminal, through the inbox's API.

    warta complaints list [--channel C] [--state S] [--overdue]
    warta complaints show ID
    warta complaints record KEY --reason R        a comment of the inbox becomes a complaint
    warta complaints forward|answer|close ID --reason R

The inbox is at ``WARTA_INBOX_URL`` (``warta.cli_inbox``); the key, ``--json`` and ``--lang`` are
the other operator commands' (``warta.ops_client``). A forward LAPOR! did not take is refused
(502) with the reason, and the complaint stays recorded: the same command may be run again.
"""

from __future__ import annotations

import argparse
import urllib.parse
from collections.abc import Callable

from shared.events import ComplaintState
from warta.cli_inbox import InboxApi, inbox_options, inbox_url, shown
from warta.cli_messages import say
from warta.cli_ops import guarded
from warta.ops_client import as_json, client_of, table

VERBS = ("forward", "answer", "close")


def _desk(args: argparse.Namespace) -> InboxApi:
    return InboxApi(client_of(args), inbox_url(args))


def list_query(args: argparse.Namespace) -> str:
    params = [(name, getattr(args, name)) for name in ("channel", "state") if getattr(args, name, None)]
    if args.overdue:
        params.append(("overdue", "true"))
    return urllib.parse.urlencode(params)


def cmd_list(args: argparse.Namespace) -> int:
    body = _desk(args).get(f"/v1/complaints?{list_query(args)}", "complaints list")
    if as_json(args, body):
        return 0
    rows = [
        [
            c["complaint_id"],
            c["state"],
            c["channel"],
            (c.get("next_due") or "")[:16].replace("T", " "),
            "!" if c.get("overdue") else "",
            shown(c["comment"]["text"], 60),
        ]
        for c in body["items"]
    ]
    table(rows, ["ID", "STATE", "CHANNEL", "NEXT DUE (UTC)", "OVERDUE", "COMMENT"])
    print(say("complaint_count", total=body["total"], overdue=body["overdue"]))
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    ident = urllib.parse.quote(args.complaint, safe="")
    complaint = _desk(args).get(f"/v1/complaints/{ident}", "complaints show")
    if as_json(args, complaint):
        return 0
    fields = ("complaint_id", "state", "channel", "recorded_at", "forward_due", "tracking_id", "last_error")
    table([[name, shown(complaint.get(name) or "")] for name in fields], ["FIELD", "VALUE"])
    print(shown(complaint["comment"]["text"]))
    return 0


def _acting(verb: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        if verb == "record":
            path = f"/v1/inbox/{urllib.parse.quote(args.complaint, safe=':')}/complaint"
        else:
            path = f"/v1/complaints/{urllib.parse.quote(args.complaint, safe='')}/{verb}"
        body = _desk(args).send("POST", path, {"reason": args.reason}, f"complaints {verb}").body
        if as_json(args, body):
            return 0
        print(say("inbox_done", action=verb, comment=body["complaint_id"], state=body["state"]))
        return 0

    return run


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    # The options' defaults are set here once; after the verb they only override (SUPPRESS).
    complaints = sub.add_parser(
        "complaints",
        parents=[inbox_options(nested=False)],
        help="citizens' complaints for SP4N-LAPOR!: list, show, record, forward, answer, close",
    )
    actions = complaints.add_subparsers(dest="complaints_command", required=True)
    nested = inbox_options(nested=True)

    def add(name: str, func: Callable[[argparse.Namespace], int], help_: str) -> argparse.ArgumentParser:
        parser = actions.add_parser(name, parents=[nested], help=help_)
        parser.set_defaults(func=guarded(func))
        return parser

    listing = add("list", cmd_list, "complaints, with their next deadline")
    listing.add_argument("--channel")
    listing.add_argument("--state", choices=[s.value for s in ComplaintState])
    listing.add_argument("--overdue", action="store_true", help="only those past their deadline")
    add("show", cmd_show, "one complaint").add_argument("complaint", metavar="ID")
    record = add("record", _acting("record"), "make a comment of the inbox a complaint")
    record.add_argument("complaint", metavar="KEY")
    record.add_argument("--reason", required=True)
    for verb, what in zip(
        VERBS, ("send it to LAPOR! (safe to run again)", "LAPOR! answered it", "close it"), strict=True
    ):
        acting = add(verb, _acting(verb), what)
        acting.add_argument("complaint", metavar="ID")
        acting.add_argument("--reason", required=True)
