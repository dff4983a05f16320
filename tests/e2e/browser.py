"""A small driver for Debian's headless Chromium over the Chrome DevTools Protocol.

No browser automation package: Chromium is started with ``--remote-debugging-port=0``, the port it
chose is read from ``DevToolsActivePort`` in its fresh profile directory, and commands go over
aiohttp's websocket client (protocol: chromedevtools.github.io/devtools-protocol, flat sessions via
``Target.attachToTarget``).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp

# Screenshots: every one goes to test-artifacts/ (git-ignored); those the guides show also go to
# docs/screenshots/, so docs/guide.md and docs/panduan.md show the pages as they are today.
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


async def screenshot_for_docs(page: Page, name: str) -> None:
    await page.screenshot(ARTIFACTS / name, DOCS_SCREENSHOTS / name)


CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-port=0",
    "--hide-scrollbars",
    "--window-size=1400,1000",
)


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


class BrowserError(RuntimeError):
    """Chromium did not start, or a command failed or threw in the page."""


class Page:
    def __init__(self, ws: aiohttp.ClientWebSocketResponse, session_id: str) -> None:
        self._ws = ws
        self._session = session_id
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.errors: list[str] = []  # uncaught exceptions and console errors in the page
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for msg in self._ws:
            if msg.type is not aiohttp.WSMsgType.TEXT:
                continue
            data = json.loads(msg.data)
            if "id" in data and data["id"] in self._pending:
                self._pending.pop(data["id"]).set_result(data)
            elif data.get("method") == "Runtime.exceptionThrown":
                details = data["params"]["exceptionDetails"]
                self.errors.append(
                    str(details.get("exception", {}).get("description") or details.get("text"))
                )
            elif data.get("method") == "Runtime.consoleAPICalled" and data["params"]["type"] == "error":
                self.errors.append(
                    " ".join(str(a.get("value", a.get("description"))) for a in data["params"]["args"])
                )
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(BrowserError("the browser closed the connection"))

    async def send(self, method: str, params: dict[str, Any] | None = None, *, timeout: float = 60) -> Any:
        msg_id = next(self._ids)
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[msg_id] = fut
        message: dict[str, Any] = {"id": msg_id, "method": method, "params": params or {}}
        if self._session:
            message["sessionId"] = self._session
        await self._ws.send_str(json.dumps(message))
        answer = await asyncio.wait_for(fut, timeout)
        if "error" in answer:
            raise BrowserError(f"{method}: {answer['error']}")
        return answer.get("result", {})

    async def goto(self, url: str) -> None:
        await self.send("Page.navigate", {"url": url})
        await self.wait_for("document.readyState === 'complete'")

    async def evaluate(self, expression: str) -> Any:
        result = await self.send(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True}
        )
        if "exceptionDetails" in result:
            raise BrowserError(f"{expression!r} threw: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def wait_for(self, expression: str, timeout: float = 60, what: str | None = None) -> Any:
        """Poll ``expression`` until it is truthy; the page's errors are in the failure message."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        last: Any = None
        while loop.time() < deadline:
            last = await self.evaluate(expression)
            if last:
                return last
            await asyncio.sleep(0.25)
        raise AssertionError(
            f"timed out waiting for {what or expression} (last: {last!r}; page errors: {self.errors})"
        )

    async def fill(self, selector: str, value: str) -> None:
        await self.evaluate(
            f"(() => {{ const el = document.querySelector({json.dumps(selector)});"
            f" el.value = {json.dumps(value)}; el.dispatchEvent(new Event('input', {{bubbles: true}}));"
            " el.dispatchEvent(new Event('change', {bubbles: true})); return true; })()"
        )

    async def click(self, selector: str) -> None:
        found = await self.evaluate(
            f"(() => {{ const el = document.querySelector({json.dumps(selector)});"
            " if (!el) return false; el.click(); return true; })()"
        )
        if not found:
            raise AssertionError(f"nothing to click at {selector}")

    async def screenshot(self, *paths: Path) -> None:
        """A full-page PNG written to every path given."""
        metrics = await self.send("Page.getLayoutMetrics")
        size = metrics.get("cssContentSize") or metrics["contentSize"]
        width, height = 1400, min(int(size["height"]) + 1, 6000)
        await self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )
        shot = await self.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
        await self.send("Emulation.clearDeviceMetricsOverride")
        data = base64.b64decode(shot["data"])
        for path in paths:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)


@contextlib.asynccontextmanager
async def chromium(start_timeout: float = 60) -> AsyncIterator[Page]:
    """A headless Chromium with a fresh profile and one page; everything is removed afterwards."""
    exe = chromium_path()
    if exe is None:
        raise BrowserError("chromium is not installed (make browser)")
    profile = Path(tempfile.mkdtemp(prefix="warta-chromium-"))
    log_path = profile.with_suffix(".log")  # a file, not a pipe: a chatty browser never blocks
    with log_path.open("wb") as log:
        proc = await asyncio.create_subprocess_exec(
            exe,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            "about:blank",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,
        )
    session = aiohttp.ClientSession()
    try:
        port_file = profile / "DevToolsActivePort"
        loop = asyncio.get_running_loop()
        deadline = loop.time() + start_timeout
        while not (port_file.exists() and len(port_file.read_text().splitlines()) >= 2):
            if proc.returncode is not None:
                err = log_path.read_text(errors="replace")[-2000:]
                raise BrowserError(f"chromium exited with {proc.returncode}: {err}")
            if loop.time() > deadline:
                raise BrowserError(f"chromium wrote no DevToolsActivePort within {start_timeout} s")
            await asyncio.sleep(0.1)
        port, path = port_file.read_text().splitlines()[:2]
        ws = await session.ws_connect(f"ws://127.0.0.1:{port}{path}", max_msg_size=0)
        browser = Page(ws, session_id="")
        target = await browser.send("Target.createTarget", {"url": "about:blank"})
        attached = await browser.send(
            "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}
        )
        browser._session = attached["sessionId"]  # the flat session: page commands on this socket
        await browser.send("Page.enable")
        await browser.send("Runtime.enable")
        try:
            yield browser
        finally:
            with contextlib.suppress(Exception):
                browser._session = ""
                await browser.send("Browser.close", timeout=10)
            await ws.close()
            browser._reader.cancel()
    finally:
        await session.close()
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 15)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        shutil.rmtree(profile, ignore_errors=True)
        log_path.unlink(missing_ok=True)
