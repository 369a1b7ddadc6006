"""A real headless Chromium driven over the DevTools protocol (websockets only): for pages
that render after the load event (the Streamlit dashboard talks over a websocket, so
``--dump-dom`` would catch it half-drawn)."""

from __future__ import annotations

import itertools
import json
import subprocess
import time
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

from websockets.sync.client import connect

from tests.conftest import CHROMIUM_OFFLINE, chromium


class Browser:
    """One headless Chromium tab: ``goto``, ``evaluate``, ``wait_for``; JavaScript errors collected."""

    def __init__(self, profile: Path) -> None:
        # offline as for the report, but the page under test is served on loopback: no dead proxy
        flags = [f for f in CHROMIUM_OFFLINE if not f.startswith(("--virtual-time-budget", "--proxy-", "--host-resolver"))]
        flags += ["--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "--window-size=1400,1000"]
        self._process = subprocess.Popen([chromium(), *flags, f"--user-data-dir={profile}", "--remote-debugging-port=0",
                                          "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not port_file.exists() or not port_file.read_text().strip():
            if time.monotonic() > deadline:
                raise TimeoutError("chromium did not open its DevTools port")
            time.sleep(0.1)
        port = port_file.read_text().split()[0]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list") as response:
            page = next(t for t in json.load(response) if t["type"] == "page")
        self._socket = connect(page["webSocketDebuggerUrl"], max_size=None, open_timeout=30, legacy=True)
        self._ids = itertools.count(1)
        self.errors: list[str] = []
        self._call("Runtime.enable")
        self._call("Page.enable")

    def _call(self, method: str, **params: Any) -> dict[str, Any]:
        call_id = next(self._ids)
        self._socket.send(json.dumps({"id": call_id, "method": method, "params": params}))
        while True:
            message = json.loads(self._socket.recv(timeout=120))
            if message.get("method") == "Runtime.exceptionThrown":
                self.errors.append(message["params"]["exceptionDetails"].get("text", "exception"))
            elif message.get("method") == "Runtime.consoleAPICalled" and message["params"]["type"] == "error":
                self.errors.append(" ".join(str(a.get("value", a.get("description", ""))) for a in message["params"]["args"]))
            if message.get("id") == call_id:
                if "error" in message:
                    raise RuntimeError(message["error"])
                return message["result"]  # type: ignore[no-any-return]

    def goto(self, url: str) -> None:
        self._call("Page.navigate", url=url)

    def evaluate(self, expression: str) -> Any:
        result = self._call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 90) -> Any:
        """Poll ``expression`` until it is truthy; its value."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.25)
        raise TimeoutError(f"still false after {timeout:.0f} s: {expression}\n{self.evaluate('document.body.innerText')}")

    def screenshot(self, path: Path) -> None:
        import base64

        data = self._call("Page.captureScreenshot", format="png", captureBeyondViewport=True)["data"]
        path.write_bytes(base64.b64decode(data))

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self._socket.close()
        self._process.terminate()
        self._process.wait(timeout=30)
