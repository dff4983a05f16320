"""The inbox page (English and Bahasa Indonesia): one HTML file, one script, one stylesheet.

Served with the console's security headers (``services.console.access``: scripts and styles
from ``/static`` only, no framing). The script puts every comment on the page as text, never
as HTML: a citizen's comment is hostile input.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from shared.page_script import PAGE_SCRIPT, static_file
from shared.security_headers import security_headers

STATIC = Path(__file__).parent / "static"
_FILES = {
    PAGE_SCRIPT: "text/javascript",
    "inbox.js": "text/javascript",
    "complaints.js": "text/javascript",
    "inbox.css": "text/css",
}


async def index(request: web.Request) -> web.Response:
    return web.Response(text=(STATIC / "index.html").read_text(encoding="utf-8"), content_type="text/html")


async def static(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in _FILES:  # a fixed list: no path from the request reaches the file system
        raise web.HTTPNotFound()
    return web.Response(text=static_file(STATIC, name).read_text(encoding="utf-8"), content_type=_FILES[name])


def add_page(app: web.Application) -> None:
    app.router.add_get("/", index)
    app.router.add_get("/static/{name}", static)
    app.on_response_prepare.append(security_headers)
