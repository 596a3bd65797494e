"""Headless Chromium (Debian's ``chromium``) driven over the DevTools protocol through a pipe
(``--remote-debugging-pipe``): no browser download, no websocket library, no network port.

``open_page`` loads a URL and returns what a person would need to know: console errors, uncaught
exceptions, failed or non-local requests, JavaScript dialogs (``alert``) and the value of a probe
expression; ``screenshot`` saves PNGs at a given viewport width.
"""

from __future__ import annotations

import base64
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Flags that work on a machine with no network and no screen (see the machine notes): no sandbox as root,
# no GPU, no background connections (refused here, many at a time), a fresh profile per run.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--mute-audio",
]


@dataclass
class PageResult:
    console_errors: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    probe: Any = None


class Browser:
    """One Chromium process; ``with Browser() as b: b.open_page(url, probe_js)``."""

    def __init__(self, timeout: float = 60.0):
        if CHROMIUM is None:
            raise RuntimeError("chromium not found (apt-get install -y chromium)")
        self.timeout = timeout
        self._id = 0
        self._events: queue.Queue[dict[str, Any]] = queue.Queue()
        self._replies: dict[int, dict[str, Any]] = {}
        self._cond = threading.Condition()

    def __enter__(self) -> Browser:
        self.profile = tempfile.mkdtemp(prefix="corpuskit-chromium-")
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()
        # Chromium reads commands on fd 3 and writes replies on fd 4: bash puts the pipes there (dash takes
        # only one-digit fds)
        cmd = [CHROMIUM, *FLAGS, f"--user-data-dir={self.profile}", "--remote-debugging-pipe", "about:blank"]
        self.proc = subprocess.Popen(
            ["bash", "-c", f'exec "$@" 3<&{to_chrome_r} 4>&{from_chrome_w}', "bash", *cmd],
            pass_fds=(to_chrome_r, from_chrome_w),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=open(Path(self.profile) / "chromium.log", "wb"),  # noqa: SIM115 (closed with the process)
        )
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.send("Browser.close")
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self._to_chrome, self._from_chrome):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self.profile, ignore_errors=True)

    def log(self) -> str:
        """The end of chromium's own stderr, for error messages."""
        path = Path(self.profile) / "chromium.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def _read(self) -> None:
        buf = b""
        while True:
            try:
                chunk = os.read(self._from_chrome, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                with self._cond:
                    self._replies[-1] = {"closed": True}
                    self._cond.notify_all()
                return
            buf += chunk
            *messages, buf = buf.split(b"\0")
            for raw in messages:
                msg = json.loads(raw)
                if "id" in msg:
                    with self._cond:
                        self._replies[msg["id"]] = msg
                        self._cond.notify_all()
                else:
                    self._events.put(msg)

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> dict:
        self._id += 1
        mid = self._id
        msg: dict[str, Any] = {"id": mid, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        try:
            os.write(self._to_chrome, json.dumps(msg).encode() + b"\0")
        except BrokenPipeError:
            raise RuntimeError(f"chromium exited (code {self.proc.poll()}): {self.log()}") from None
        deadline = time.monotonic() + self.timeout
        with self._cond:
            while mid not in self._replies:
                if -1 in self._replies or time.monotonic() > deadline:
                    raise RuntimeError(f"no reply from chromium to {method}: {self.log()}")
                self._cond.wait(0.1)
            reply = self._replies.pop(mid)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def new_page(self, width: int, height: int, mobile: bool = False) -> str:
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable", session=session)
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile},
            session,
        )
        return session

    def open_page(
        self,
        url: str,
        probe: str,
        *,
        width: int = 1280,
        height: int = 900,
        mobile: bool = False,
        settle_s: float = 0.5,
    ) -> tuple[str, PageResult]:
        """Load ``url`` in a new tab, wait for the load event (and ``settle_s`` more for late errors), then
        evaluate ``probe`` (an expression whose value is JSON-serialisable)."""
        session = self.new_page(width, height, mobile)
        while not self._events.empty():
            self._events.get_nowait()
        res = PageResult()
        self.send("Page.navigate", {"url": url}, session)
        loaded_at = None
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if loaded_at is not None and time.monotonic() - loaded_at > settle_s:
                break
            try:
                ev = self._events.get(timeout=0.1)
            except queue.Empty:
                continue
            if ev.get("sessionId") != session:
                continue
            method, p = ev.get("method"), ev.get("params", {})
            if method == "Page.loadEventFired":
                loaded_at = time.monotonic()
            self._record(method, p, res, session)
        else:
            raise RuntimeError(f"{url} did not finish loading in {self.timeout} s")
        value = self.send("Runtime.evaluate", {"expression": probe, "returnByValue": True}, session)
        if "exceptionDetails" in value:
            raise RuntimeError(f"probe failed: {value['exceptionDetails']}")
        res.probe = value.get("result", {}).get("value")
        while not self._events.empty():  # anything the probe itself caused
            ev = self._events.get_nowait()
            if ev.get("sessionId") == session:
                self._record(ev.get("method"), ev.get("params", {}), res, session)
        return session, res

    def _record(self, method: str | None, p: dict[str, Any], res: PageResult, session: str) -> None:
        if method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            res.console_errors.append(
                " ".join(str(a.get("value", a.get("description"))) for a in p.get("args", []))
            )
        elif method == "Runtime.exceptionThrown":
            res.exceptions.append(json.dumps(p.get("exceptionDetails", {}))[:500])
        elif method == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
            res.console_errors.append(f"{p['entry'].get('source')}: {p['entry'].get('text')}")
        elif method == "Network.requestWillBeSent":
            res.requests.append(p.get("request", {}).get("url", ""))
        elif method == "Network.loadingFailed":
            res.failed_requests.append(f"{p.get('errorText')} ({p.get('type')})")
        elif method == "Page.javascriptDialogOpening":
            res.dialogs.append(f"{p.get('type')}: {p.get('message')}")
            self.send("Page.handleJavaScriptDialog", {"accept": True}, session)

    def screenshot(self, session: str, path: Path, full_page: bool = False) -> Path:
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            params["captureBeyondViewport"] = True
            size = self.send("Page.getLayoutMetrics", session=session)["cssContentSize"]
            params["clip"] = {
                "x": 0,
                "y": 0,
                "width": size["width"],
                "height": min(size["height"], 16000),
                "scale": 1,
            }
        data = self.send("Page.captureScreenshot", params, session)["data"]
        path.write_bytes(base64.b64decode(data))
        return path
