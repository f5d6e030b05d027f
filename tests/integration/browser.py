#!/usr/bin/env python3
"""Opens pages in Debian's Chromium, headless, and reports what each shows.

    browser.py [--paste-log-key FILE] SHOTS URL...

Drives one browser through the DevTools protocol over a pipe (no extra
package): for each URL it loads the page, waits (bounded) until the element
#pl-status has left data-state="pending", writes a screenshot to
SHOTS/<n>.png and prints one JSON line per page: url, state, status (the
status line's text), text (the whole page's text), check_ms and ready_ms (a
dossier page's verification time and its time from opening to verdict).
With --paste-log-key, after each page's first verdict it types the key in FILE
into the dossier page's log key field, submits the form as a reader would,
and prints a second line for what the page then shows. Exit 2 when Chromium
cannot be started.
"""
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

POLLS = 600        # at most 600 looks at the page, 0.1 s apart
POLL_DELAY = 0.1


class Browser:
    def __init__(self, exe):
        self.profile = tempfile.mkdtemp(prefix="pl-chromium-")
        r_cmd, w_cmd = os.pipe()   # our commands: Chromium reads fd 3
        r_ev, w_ev = os.pipe()     # its answers: Chromium writes fd 4

        def fds():
            # Chromium reads fd 3 and writes fd 4; a dup2 onto itself keeps close-on-exec.
            ev = os.dup(w_ev)
            if r_cmd != 3:
                os.dup2(r_cmd, 3)
            os.dup2(ev, 4)
            os.set_inheritable(3, True)
            os.set_inheritable(4, True)

        self.proc = subprocess.Popen(
            [exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-extensions", "--disable-background-networking",
             "--remote-debugging-pipe", "--user-data-dir=" + self.profile,
             "--window-size=1000,1400", "about:blank"],
            preexec_fn=fds, close_fds=False, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(r_cmd)
        os.close(w_ev)
        self.wr = os.fdopen(w_cmd, "wb")
        self.rd = os.fdopen(r_ev, "rb")
        self.buf = b""
        self.next_id = 0

    def call(self, method, params=None, session=None):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self.wr.write(json.dumps(msg).encode() + b"\0")
        self.wr.flush()
        while True:
            while b"\0" not in self.buf:
                chunk = self.rd.read1(1 << 20)
                if not chunk:
                    raise RuntimeError("Chromium closed the pipe")
                self.buf += chunk
            raw, self.buf = self.buf.split(b"\0", 1)
            ans = json.loads(raw)
            if ans.get("id") == self.next_id:
                if "error" in ans:
                    raise RuntimeError("%s: %s" % (method, ans["error"]))
                return ans.get("result", {})

    def close(self):
        try:
            self.call("Browser.close")
        except (RuntimeError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.profile, ignore_errors=True)


def look(b, session, expr):
    r = b.call("Runtime.evaluate", {"expression": expr, "returnByValue": True}, session)
    return r.get("result", {}).get("value")


def wait_verdict(b, session):
    state = None
    for _ in range(POLLS):
        state = look(b, session, "(function(){var s=document.getElementById("
                     "'pl-status')||document.getElementById('pl-verify');"
                     "return document.readyState==='complete'&&s?"
                     "s.getAttribute('data-state'):null})()")
        if state and state != "pending":
            break
        time.sleep(POLL_DELAY)
    return state


def report(b, session, url, state, shot_path):
    status = look(b, session, "(function(){var s=document.getElementById("
                  "'pl-status')||document.getElementById('pl-verify');"
                  "return s?s.textContent:''})()")
    text = look(b, session, "document.body?document.body.innerText:''")
    timing = look(b, session, "(function(){var s=document.getElementById("
                  "'pl-status');return s?[s.getAttribute('data-check-ms'),"
                  "s.getAttribute('data-ready-ms')]:[null,null]})()")
    shot = b.call("Page.captureScreenshot", {"format": "png",
                                             "captureBeyondViewport": True}, session)
    with open(shot_path, "wb") as f:
        f.write(base64.b64decode(shot["data"]))
    print(json.dumps({"url": url, "state": state, "status": status, "text": text,
                      "check_ms": timing[0], "ready_ms": timing[1]}), flush=True)


def main():
    args = sys.argv[1:]
    paste = None
    if args and args[0] == "--paste-log-key":
        with open(args[1]) as f:
            paste = f.read().strip()
        args = args[2:]
    shots, urls = args[0], args[1:]
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if not exe:
        print("browser.py: no chromium", file=sys.stderr)
        return 2
    os.makedirs(shots, exist_ok=True)
    b = Browser(exe)
    try:
        for n, url in enumerate(urls):
            target = b.call("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = b.call("Target.attachToTarget",
                             {"targetId": target, "flatten": True})["sessionId"]
            b.call("Page.enable", {}, session)
            b.call("Page.navigate", {"url": url}, session)
            state = wait_verdict(b, session)
            report(b, session, url, state, os.path.join(shots, "%02d.png" % n))
            if paste is not None:
                look(b, session, "(function(){document.getElementById('pl-status')"
                     ".setAttribute('data-state','pending');document.getElementById("
                     "'pl-log-key').value=" + json.dumps(paste) + ";document."
                     "getElementById('pl-keys').requestSubmit();return 1})()")
                state = wait_verdict(b, session)
                report(b, session, url, state, os.path.join(shots, "%02d-pasted.png" % n))
            b.call("Target.closeTarget", {"targetId": target})
    finally:
        b.close()
    return 0


sys.exit(main())
