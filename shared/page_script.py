"""The script the console's and the inbox's pages both load (``static/page.js``: the page's
language, a label in it, a call to the API), served by each from its own ``/static/``."""

from __future__ import annotations

from pathlib import Path

PAGE_SCRIPT = "page.js"
_SHARED_STATIC = Path(__file__).parent / "static"


def static_file(own: Path, name: str) -> Path:
    """Where ``/static/{name}`` is read from: the shared script from here, any other file from the
    page's own folder ``own``. ``name`` must already be one of the page's listed files."""
    return _SHARED_STATIC / name if name == PAGE_SCRIPT else own / name
