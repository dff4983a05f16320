"""The inbox from a terminal: citizens' comments and the saved answers, through the inbox's API.

    warta inbox                                  run the inbox service (no subcommand)
    warta inbox list [--channel C] [--state S] [--post P] [--tag T] [--assignee A] [--limit N] [--all]
    warta inbox show KEY
    warta inbox reply KEY (--text T | --template NAME [--in en|id]) [--override]
    warta inbox approve KEY [--override]         an approver sends another's draft (four eyes)
    warta inbox assign KEY PERSON --reason R
    warta inbox hide|close|delete KEY --reason R   delete: on the platform, where it allows it (approver)
    warta inbox reopen KEY [--reason R]          a comment hidden on the platform is shown again
    warta inbox templates list | show NAME | save NAME --en TEXT --id TEXT | delete NAME

KEY is a comment's inbox key (the first column of ``list``). The inbox
is at ``WARTA_INBOX_URL`` (default http://127.0.0.1:8060); the key and ``--json``/``--lang`` are
the other operator commands' (``warta.ops_client``). A reply from a template is filled in by the
inbox for that comment, in the language ``--in`` names (default: the CLI's), then sent as text.
"""

from __future__ import annotations

import argparse
import os
import sys
import unicodedata
import urllib.parse
from collections.abc import Callable
from typing import Any

from warta.cli_messages import current, heading, say
from warta.cli_ops import common_options, guarded
from warta.ops_client import Answer, Client, as_json, client_of, expect, table

DEFAULT_INBOX_URL = "http://127.0.0.1:8060"
STATES = ("new", "assigned", "replying", "answered", "hidden", "closed", "deleted")
LIST_FILTERS = ("channel", "state", "post", "tag", "assignee")


def inbox_url(args: argparse.Namespace) -> str:
    return (
        getattr(args, "inbox_url", None) or os.environ.get("WARTA_INBOX_URL") or DEFAULT_INBOX_URL
    ).rstrip("/")


def shown(text: object, width: int | None = None) -> str:
    """A citizen's text made safe for a terminal: control characters (escape sequences that
    could rewrite the screen, line breaks that would break a table row) shown as ``?`` or a space."""
    out = []
    for char in str(text or ""):
        if char in "\n\r\t":
            out.append(" ")
        elif unicodedata.category(char) in ("Cc", "Cf", "Co", "Cs"):
            out.append("?")
        else:
            out.append(char)
    line = "".join(out)
    return line if width is None or len(line) <= width else line[: width - 1] + "…"


def list_query(args: argparse.Namespace, cursor: str | None = None) -> str:
    """The list's query string: the filters given, the page size, the cursor of the page before."""
    params = [(name, getattr(args, name)) for name in LIST_FILTERS if getattr(args, name, None)]
    params.append(("limit", str(args.limit)))
    if cursor:
        params.append(("cursor", cursor))
    return urllib.parse.urlencode(params)


def _key(raw: str) -> str:
    return urllib.parse.quote(raw, safe=":")


class InboxApi:
    """The inbox's API, through the operator commands' client."""

    def __init__(self, client: Client, base: str) -> None:
        self.client, self.base = client, base

    def get(self, path: str, what: str) -> Any:
        return expect(self.client.call("GET", self.base + path), what)

    def send(self, method: str, path: str, body: object, what: str) -> Answer:
        answer = self.client.call(method, self.base + path, body)
        expect(answer, what)
        return answer


def _inbox(args: argparse.Namespace) -> InboxApi:
    return InboxApi(client_of(args), inbox_url(args))


# ---- comments ----------------------------------------------------------------------------------
def cmd_list(args: argparse.Namespace) -> int:
    inbox = _inbox(args)
    page = inbox.get("/v1/inbox?" + list_query(args, args.cursor), "inbox list")
    items = list(page["items"])
    while args.all and page.get("next_cursor"):
        page = inbox.get("/v1/inbox?" + list_query(args, page["next_cursor"]), "inbox list")
        items += page["items"]
    body = {**page, "items": items}
    if as_json(args, body):
        return 0
    render_list(body)
    return 0


def render_list(body: dict[str, Any]) -> None:
    rows = [
        [
            item["key"],
            item["state"],
            item["channel"],
            shown(item["comment"]["author"].get("name") or item["comment"]["author"]["id"], 24),
            item["comment"]["created_at"][:16].replace("T", " "),
            item.get("assignee") or "",
            shown(item["comment"]["text"], 60),
        ]
        for item in body["items"]
    ]
    table(rows, ["KEY", "STATE", "CHANNEL", "AUTHOR", "AT (UTC)", "ASSIGNEE", "COMMENT"])
    print(
        say(
            "inbox_count",
            shown=len(rows),
            total=body["total"],
            waiting=body.get("waiting_over_target", 0),
        )
    )
    if body.get("next_cursor"):
        print(say("inbox_more", cursor=body["next_cursor"]))


def cmd_show(args: argparse.Namespace) -> int:
    entry = _inbox(args).get(f"/v1/inbox/{_key(args.comment)}", "inbox show")
    if as_json(args, entry):
        return 0
    render_entry(entry)
    return 0


def render_entry(entry: dict[str, Any]) -> None:
    comment = entry["comment"]
    author = comment["author"]
    rows: list[list[object]] = [
        ["KEY", entry["key"]],
        ["CHANNEL", entry["channel"]],
        ["POST", shown(comment["post_id"])],
        ["AUTHOR", shown(f"{author.get('name') or ''} ({author['id']})".strip())],
        ["AT (UTC)", comment["created_at"]],
        ["STATE", entry["state"]],
        ["ASSIGNEE", entry.get("assignee") or ""],
        [
            "LAST CHANGE",
            shown(" · ".join(p for p in (entry["action"], entry["by"], entry.get("reason")) if p)),
        ],
        ["COMMENT", shown(comment["text"])],
    ]
    if comment.get("url"):
        rows.insert(3, ["URL", shown(comment["url"])])
    reply = entry.get("reply")
    if reply:
        rows.append(["REPLY", shown(reply["text"])])
        signed = f"{reply['drafted_by']} → {reply.get('approved_by') or say('inbox_not_approved')}"
        rows.append(["DRAFTED → APPROVED", signed])
        if reply.get("posted_id"):
            rows.append(["POSTED", shown(reply["posted_id"])])
    hide = entry.get("platform_hide")
    if hide:
        # A hidden entry is not always hidden where citizens look: say which, and why not.
        rows.append(
            ["ON THE PLATFORM", shown(" · ".join(p for p in (hide["status"], hide.get("detail")) if p))]
        )
    # The row labels are headings too: they follow the CLI's language.
    table([[heading(str(label)), value] for label, value in rows], ["FIELD", "VALUE"])


def _act(args: argparse.Namespace, action: str, body: dict[str, Any]) -> int:
    answer = _inbox(args).send("POST", f"/v1/inbox/{_key(args.comment)}/{action}", body, f"inbox {action}")
    if as_json(args, answer.body):
        return 0
    entry = answer.body
    if answer.status == 202:
        print(say("inbox_drafted", comment=entry["key"]))
    else:
        print(say("inbox_done", action=action, comment=entry["key"], state=entry["state"]))
    return 0


def cmd_reply(args: argparse.Namespace) -> int:
    text = args.text
    if args.template:
        lang = args.reply_lang or current()
        query = urllib.parse.urlencode({"comment": args.comment, "lang": lang})
        filled = _inbox(args).get(f"/v1/inbox/templates/{_key(args.template)}?{query}", "inbox reply")
        text = filled["rendered"]
    return _act(args, "reply", {"text": text, "override": args.override, "reason": args.reason})


def cmd_approve(args: argparse.Namespace) -> int:
    # The approval names the draft shown here: one replaced meanwhile is refused, not sent unread.
    entry = _inbox(args).get(f"/v1/inbox/{_key(args.comment)}", "inbox show")
    draft = entry.get("reply") or {}
    if draft.get("text"):  # on stderr: stdout is the answer (JSON with --json)
        print(say("inbox_approving", by=draft.get("drafted_by"), text=shown(draft["text"])), file=sys.stderr)
    body = {"override": args.override, "reason": args.reason, "drafted_at": draft.get("drafted_at")}
    return _act(args, "approve", body)


def cmd_assign(args: argparse.Namespace) -> int:
    return _act(args, "assign", {"assignee": args.assignee, "reason": args.reason})


def cmd_hide(args: argparse.Namespace) -> int:
    return _act(args, "hide", {"reason": args.reason})


def cmd_close(args: argparse.Namespace) -> int:
    return _act(args, "close", {"reason": args.reason})


def cmd_delete(args: argparse.Namespace) -> int:
    return _act(args, "delete", {"reason": args.reason})


def cmd_reopen(args: argparse.Namespace) -> int:
    return _act(args, "reopen", {"reason": args.reason})


# ---- saved answers -----------------------------------------------------------------------------
def cmd_templates(args: argparse.Namespace) -> int:
    inbox = _inbox(args)
    action = args.templates_command
    if action == "list":
        body = inbox.get("/v1/inbox/templates", "inbox templates list")
        if as_json(args, body):
            return 0
        rows = [
            [t["name"], t["by"], shown(t["text_en"], 40), shown(t["text_id"], 40)] for t in body["templates"]
        ]
        table(rows, ["NAME", "BY", "ENGLISH", "INDONESIAN"])
        return 0
    path = f"/v1/inbox/templates/{_key(args.name)}"
    if action == "show":
        template = inbox.get(path, "inbox templates show")
        if not as_json(args, template):
            labels = (
                ("NAME", "name"),
                ("BY", "by"),
                ("AT (UTC)", "at"),
                ("ENGLISH", "text_en"),
                ("INDONESIAN", "text_id"),
            )
            table([[heading(label), shown(template[k])] for label, k in labels], ["FIELD", "VALUE"])
        return 0
    if action == "save":
        answer = inbox.send("PUT", path, {"text_en": args.en, "text_id": args.id}, "inbox templates save")
        if not as_json(args, answer.body):
            print(say("template_saved", name=args.name))
        return 0
    answer = inbox.send("DELETE", path, {"reason": args.reason}, "inbox templates delete")
    if not as_json(args, answer.body):
        print(say("template_deleted", name=args.name))
    return 0


# ---- registration ------------------------------------------------------------------------------
def inbox_options(nested: bool) -> argparse.ArgumentParser:
    kw: dict[str, Any] = {"default": argparse.SUPPRESS} if nested else {}
    parser = argparse.ArgumentParser(add_help=False, parents=[common_options(nested)])
    parser.add_argument(
        "--inbox-url", help=f"the inbox's URL (WARTA_INBOX_URL; default {DEFAULT_INBOX_URL})", **kw
    )
    return parser


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    run_service: Callable[[argparse.Namespace], int],
) -> None:
    """``warta inbox``: the service without a subcommand, the operators' commands with one."""
    inbox = sub.add_parser(
        "inbox",
        parents=[inbox_options(nested=False)],
        help="run the inbox (no subcommand), or work it: list, show, reply, approve, assign, hide, close, "
        "delete, reopen, templates",
    )
    inbox.set_defaults(func=run_service)
    actions = inbox.add_subparsers(dest="inbox_command")
    nested = inbox_options(nested=True)

    def add(name: str, func: Callable[[argparse.Namespace], int], help_: str) -> argparse.ArgumentParser:
        parser = actions.add_parser(name, parents=[nested], help=help_)
        parser.set_defaults(func=guarded(func))
        return parser

    _listing_options(add("list", cmd_list, "comments, newest first, filtered"))
    add("show", cmd_show, "one comment and its reply").add_argument("comment", metavar="KEY")
    reply = add("reply", cmd_reply, "answer a comment, or draft where four eyes are required")
    reply.add_argument("comment", metavar="KEY")
    text = reply.add_mutually_exclusive_group(required=True)
    text.add_argument("--text")
    text.add_argument("--template", help="a saved answer's name, filled in for this comment")
    reply.add_argument(
        "--in", dest="reply_lang", choices=("en", "id"), help="the template's language (default: the CLI's)"
    )
    reply.add_argument("--override", action="store_true", help="answer again a comment already answered")
    reply.add_argument("--reason", default="")
    approve = add("approve", cmd_approve, "send another person's draft (approvers)")
    approve.add_argument("comment", metavar="KEY")
    approve.add_argument("--override", action="store_true")
    approve.add_argument("--reason", default="")
    assign = add("assign", cmd_assign, "give a comment to a person")
    assign.add_argument("comment", metavar="KEY")
    assign.add_argument("assignee")
    assign.add_argument("--reason", default="")
    for name, func, what in (
        ("hide", cmd_hide, "hide an abusive comment"),
        ("close", cmd_close, "close a comment"),
        ("delete", cmd_delete, "delete an abusive comment on the platform, where it allows it (approvers)"),
    ):
        p = add(name, func, what)
        p.add_argument("comment", metavar="KEY")
        p.add_argument("--reason", required=True)
    reopen = add("reopen", cmd_reopen, "reopen a hidden or closed comment (shown again on the platform)")
    reopen.add_argument("comment", metavar="KEY")
    reopen.add_argument("--reason", default="")
    templates = add("templates", cmd_templates, "saved answers: list, show, save, delete")
    _register_templates(templates, nested)


def _listing_options(listing: argparse.ArgumentParser) -> None:
    listing.add_argument("--channel")
    listing.add_argument("--state", choices=STATES)
    listing.add_argument("--post", help="the platform's post id")
    listing.add_argument("--tag", help="the Warta item's tag")
    listing.add_argument("--assignee")
    listing.add_argument("--limit", type=int, default=50, help="per page, 1-500 (default 50)")
    listing.add_argument("--cursor", help="the next_cursor a page before printed")
    listing.add_argument("--all", action="store_true", help="follow every page")


def _register_templates(templates: argparse.ArgumentParser, nested: argparse.ArgumentParser) -> None:
    """``warta inbox templates list|show|save|delete``."""
    kinds = templates.add_subparsers(dest="templates_command", required=True)
    kinds.add_parser("list", parents=[nested])
    kinds.add_parser("show", parents=[nested]).add_argument("name")
    save = kinds.add_parser("save", parents=[nested])
    save.add_argument("name", help="lowercase letters, digits, - and _")
    save.add_argument("--en", required=True, help="the English text; {name} is the commenter's name")
    save.add_argument("--id", required=True, help="the Indonesian text; {name} is the commenter's name")
    delete = kinds.add_parser("delete", parents=[nested])
    delete.add_argument("name")
    delete.add_argument("--reason", default="")
