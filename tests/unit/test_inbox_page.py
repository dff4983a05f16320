"""The inbox page: served with the console's security headers, every label in both languages,
and citizens' text never written to the page as HTML."""

from __future__ import annotations

import re

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from services.inbox.lifecycle import TRANSITIONS
from services.inbox.page import STATIC, add_page
from shared.events import InboxAction, InboxState
from shared.page_script import PAGE_SCRIPT, static_file
from shared.security_headers import SECURITY_HEADERS
from tests.unit.page_labels import assert_every_label_in_both_languages

SCRIPTS = ("inbox.js", "complaints.js")


async def test_the_page_and_its_files_are_served_with_the_security_headers() -> None:
    app = web.Application()
    add_page(app)
    async with TestClient(TestServer(app)) as client:
        for path, kind in (
            ("/", "text/html"),
            ("/static/page.js", "text/javascript"),
            ("/static/inbox.js", "text/javascript"),
            ("/static/complaints.js", "text/javascript"),
            ("/static/inbox.css", "text/css"),
        ):
            answer = await client.get(path)
            assert answer.status == 200, path
            assert answer.content_type == kind
            for name, value in SECURITY_HEADERS.items():
                assert answer.headers[name] == value
        for path in ("/static/index.html", "/static/..%2finbox.js", "/static/../page.py"):
            assert (await client.get(path)).status == 404, path


def test_every_label_exists_in_english_and_bahasa_indonesia() -> None:
    assert_every_label_in_both_languages(STATIC / "index.html", [STATIC / name for name in SCRIPTS])


def test_citizens_text_never_reaches_the_page_as_html() -> None:
    loaded = [static_file(STATIC, PAGE_SCRIPT), *(STATIC / name for name in SCRIPTS)]
    script = "\n".join(path.read_text(encoding="utf-8") for path in loaded)
    assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write", script)
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    # The CSP forbids inline script and style.
    assert "<script>" not in html
    assert "style=" not in html


def test_the_page_offers_hide_and_close_in_the_states_the_lifecycle_takes_them_in() -> None:
    # The page names the states in which a comment is not open to a hide or a close (and, for
    # replying, to anything); every other state must be one the lifecycle hides from.
    script = (STATIC / "inbox.js").read_text(encoding="utf-8")
    found = re.search(r"const open = !\[([^\]]*)\]\.includes\(entry\.state\)", script)
    assert found is not None
    not_open = set(re.findall(r'"([a-z_]+)"', found.group(1)))
    assert {s.value for s in InboxState} - not_open == {
        s.value for s in InboxState if (s, InboxAction.HIDE) in TRANSITIONS
    }
