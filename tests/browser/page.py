#!/usr/bin/env python3
"""Drives the page of `demarche serve` in headless Chromium over the Chrome
DevTools Protocol, as an analyst would use it, and reports what it saw as one
JSON object on stdout.

    page.py --url http://127.0.0.1:PORT/ --chromium /usr/bin/chromium --out DIR

Steps: load the page and wait for it to settle; read the positions shown;
move the as-of slider to 2021-01-27 and read them again; move it back to the
last date and wait for every inclusion check; write a screenshot (DIR/page.png).
Exit 0 with the report; 2 when the browser or the page cannot be driven.

Needs the `websockets` package (pip install websockets).
"""

import argparse
import base64
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

from websockets.sync.client import connect

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--window-size=1440,1000",
    "--remote-debugging-port=0",
]


class Page:
    """One page target over its DevTools websocket."""

    def __init__(self, ws):
        self.ws = ws
        self.ids = itertools.count(1)

    def call(self, method, timeout=30, **params):
        i = next(self.ids)
        self.ws.send(json.dumps({"id": i, "method": method, "params": params}))
        end = time.time() + timeout
        while True:
            msg = json.loads(self.ws.recv(timeout=max(0.1, end - time.time())))
            if msg.get("id") == i:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})

    def eval(self, expr):
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise RuntimeError(f"{expr[:60]}: {r['exceptionDetails']}")
        return r["result"].get("value")

    def settle(self, timeout=30):
        """Waits until the page is ready and no request is under way."""
        end = time.time() + timeout
        quiet = 0
        while time.time() < end:
            if self.eval("document.body && document.body.dataset.ready === '1' && document.body.dataset.busy === '0'"):
                quiet += 1
                if quiet >= 3:
                    return
            else:
                quiet = 0
            time.sleep(0.1)
        raise RuntimeError("the page did not settle")


SHOWN = """(() => [...document.querySelectorAll('#positions .position')].map(li => ({
  party: li.dataset.party, location: li.dataset.location,
  text: li.querySelector('.what').textContent })))()"""

CHECKS = """(() => [...document.querySelectorAll('#positions .verify')].map(b => b.dataset.state))()"""


def move_slider(page, date):
    page.eval(
        f"""(() => {{ const s = document.querySelector('#asof');
        s.value = String(Math.floor(Date.parse('{date}T00:00:00Z') / 86400000));
        s.dispatchEvent(new Event('input', {{bubbles: true}})); }})()"""
    )


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    profile = tempfile.mkdtemp(prefix="demarche-chromium-")
    proc = subprocess.Popen(
        [a.chromium, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        ws_browser = None
        end = time.time() + 30
        while time.time() < end and ws_browser is None:
            line = proc.stderr.readline()
            if not line and proc.poll() is not None:
                break
            m = re.search(r"DevTools listening on (ws://\S+)", line)
            if m:
                ws_browser = m.group(1)
        if ws_browser is None:
            print("chromium did not start its DevTools endpoint", file=sys.stderr)
            return 2
        port = re.search(r"ws://[^:/]+:(\d+)/", ws_browser).group(1)
        req = urllib.request.Request(f"http://127.0.0.1:{port}/json/new?about:blank", method="PUT")
        target = json.load(urllib.request.urlopen(req, timeout=10))
        with connect(target["webSocketDebuggerUrl"], max_size=64 << 20, open_timeout=20) as ws:
            return drive(Page(ws), a)
    except Exception as e:  # noqa: BLE001 - the report says what failed
        print(f"driving the page failed: {e}", file=sys.stderr)
        return 2
    finally:
        proc.kill()
        proc.wait()
        shutil.rmtree(profile, ignore_errors=True)


def drive(page, a):
    """The steps, on a page target; prints the report."""
    if True:
        page.call("Page.enable")
        page.call("Runtime.enable")
        page.call("Emulation.setDeviceMetricsOverride", width=1440, height=1000, deviceScaleFactor=1, mobile=False)
        page.call("Page.navigate", url=a.url)
        page.settle()
        report = {"title": page.eval("document.title"), "error": page.eval("document.querySelector('#status').textContent")}
        report["as_of"] = page.eval("document.body.dataset.asOf")
        report["positions"] = page.eval(SHOWN)
        report["checkpoint"] = page.eval("document.querySelector('#checkpoint').textContent")
        move_slider(page, "2021-01-27")
        page.settle()
        report["before_as_of"] = page.eval("document.body.dataset.asOf")
        report["before"] = page.eval(SHOWN)
        page.eval("(() => { const s = document.querySelector('#asof'); s.value = s.max; s.dispatchEvent(new Event('input', {bubbles: true})); })()")
        page.settle()
        # Every inclusion check has an answer once the page is quiet.
        end = time.time() + 20
        while time.time() < end:
            checks = page.eval(CHECKS)
            if checks and all(c not in ("checking",) for c in checks):
                break
            time.sleep(0.1)
        report["checks"] = page.eval(CHECKS)
        report["after"] = page.eval(SHOWN)
        shot = page.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        path = os.path.join(a.out, "page.png")
        with open(path, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
        report["screenshot"] = path
        print(json.dumps(report))
        return 0


if __name__ == "__main__":
    sys.exit(main())
