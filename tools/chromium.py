"""Drive a headless Chromium over the DevTools protocol on a pipe, with the standard library only.

Used by the report's browser test and by ``tools/report_screenshot.py``. Chromium is started
with ``--remote-debugging-pipe`` (commands on its fd 3, answers on its fd 4, NUL-separated
JSON), so no port is opened and no driver package is needed. Every event the page sends is
kept (console messages, exceptions, log entries, network requests) for the caller to check.
"""

from __future__ import annotations

import base64
import contextlib
import json
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

__all__ = ["Browser", "find_chromium"]

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--hide-scrollbars",
    "--remote-debugging-pipe",
)


def find_chromium() -> str | None:
    """The Chromium binary on PATH (Debian's ``chromium``), or None."""
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


class Browser:
    """One headless Chromium with one page; use as a context manager."""

    def __init__(self, binary: str, *, width: int = 1200, height: int = 900, timeout: float = 60):
        self.timeout = timeout
        self.events: list[dict[str, Any]] = []
        self._profile = tempfile.mkdtemp(prefix="ns-chromium-")
        args = [
            binary,
            *FLAGS,
            f"--user-data-dir={self._profile}",
            f"--window-size={width},{height}",
        ]
        # The shell gives Chromium our stdin as its fd 3 and our stdout as its fd 4.
        self._proc = subprocess.Popen(
            ["sh", "-c", 'exec "$0" "$@" 3<&0 4>&1 0</dev/null 1>/dev/null', *args, "about:blank"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self._next = 0
        self._inbox: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self._session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable")

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- protocol
    def _read(self) -> None:
        assert self._proc.stdout is not None
        buffer = b""
        while chunk := self._proc.stdout.read1(1 << 16):
            buffer += chunk
            *messages, buffer = buffer.split(b"\0")
            for message in messages:
                self._inbox.put(json.loads(message))
        self._inbox.put(None)

    def send(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None
    ) -> Any:
        """Send one command and wait for its answer (events meanwhile go to ``events``)."""
        self._next += 1
        message: dict[str, Any] = {"id": self._next, "method": method, "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        assert self._proc.stdin is not None
        self._proc.stdin.write(json.dumps(message).encode() + b"\0")
        self._proc.stdin.flush()
        while True:
            reply = self._receive()
            if reply.get("id") == self._next:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})

    def call(self, method: str, params: dict[str, Any] | None = None) -> Any:
        """A command to the page's session."""
        return self.send(method, params, self._session)

    def _receive(self) -> dict[str, Any]:
        try:
            reply = self._inbox.get(timeout=self.timeout)
        except queue.Empty:
            raise TimeoutError(f"no answer from Chromium in {self.timeout:.0f} s") from None
        if reply is None:
            raise RuntimeError("Chromium closed the DevTools pipe")
        if "method" in reply:
            self.events.append(reply)
        return reply

    def wait_for(self, method: str) -> dict[str, Any]:
        """Wait for the next event called ``method`` (or return one already received)."""
        for event in self.events:
            if event["method"] == method and not event.get("_seen"):
                event["_seen"] = True
                return event
        while True:
            reply = self._receive()
            if reply.get("method") == method:
                reply["_seen"] = True
                return reply

    # -- the page
    def open(self, path: Path | str) -> None:
        """Load a local file and wait for its load event."""
        url = Path(path).resolve().as_uri()
        self.call("Page.navigate", {"url": url})
        self.wait_for("Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        """The JSON value of a JavaScript expression evaluated in the page."""
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in result:
            raise RuntimeError(f"evaluate failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, path: Path | str, *, width: int = 1200) -> None:
        """A PNG of the whole page at ``width`` CSS pixels."""
        height = int(self.evaluate("document.documentElement.scrollHeight"))
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )
        shot = self.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
        Path(path).write_bytes(base64.b64decode(shot["data"]))

    def print_pdf(self) -> bytes:
        """The page printed to PDF (A4), as the print dialog would."""
        pdf = self.call("Page.printToPDF", {"preferCSSPageSize": True, "printBackground": True})
        return base64.b64decode(pdf["data"])

    # -- what the page did
    def errors(self) -> list[str]:
        """Console errors, uncaught exceptions and error log entries (CSP violations too)."""
        found = []
        for event in self.events:
            method, params = event["method"], event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                found.append(
                    " ".join(
                        str(a.get("value", a.get("description"))) for a in params.get("args", [])
                    )
                )
            elif method == "Runtime.exceptionThrown":
                found.append(str(params.get("exceptionDetails", {}).get("text")))
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                found.append(str(params["entry"].get("text")))
        return found

    def requests(self) -> list[str]:
        """Every URL the page asked for, the document itself included."""
        return [
            e["params"]["request"]["url"]
            for e in self.events
            if e["method"] == "Network.requestWillBeSent"
        ]

    def close(self) -> None:
        try:
            if self._proc.poll() is None:
                with contextlib.suppress(RuntimeError, TimeoutError, BrokenPipeError):
                    self.send("Browser.close")
            try:
                self._proc.wait(timeout=self.timeout)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        finally:
            for stream in (self._proc.stdin, self._proc.stdout):
                if stream is not None:
                    with contextlib.suppress(OSError):
                        stream.close()
            shutil.rmtree(self._profile, ignore_errors=True)


if __name__ == "__main__":  # a quick manual check: python tools/chromium.py FILE.html OUT.png
    import sys

    binary = find_chromium()
    if binary is None:
        sys.exit("chromium not found")
    start = time.monotonic()
    with Browser(binary) as browser:
        browser.open(sys.argv[1])
        browser.screenshot(sys.argv[2])
        print(json.dumps({"errors": browser.errors(), "requests": browser.requests(),
                          "seconds": round(time.monotonic() - start, 2)}))  # fmt: skip
