"""Start `hongbao serve` (embedded SQLite, demo data, cheap argon2) on a free port, and Chromium for it.

Shared by the e2e tests and scripts/screenshots.py.  The browser is Debian's `chromium` package
(/usr/bin/chromium), never a downloaded one.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CHROMIUM = os.environ.get("HONGBAO_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
START_S_MAX = 30.0
DEMO_PASSWORD = "hongbao123"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _hongbao() -> list[str]:
    beside = Path(sys.executable).parent / "hongbao"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("hongbao")
    return [found] if found else [sys.executable, "-c", "from hongbao.cli import app; app()"]


@contextlib.contextmanager
def running_server(data_dir: Path, *args: str, **env: str) -> Iterator[str]:
    """`hongbao serve` with demo users on a fresh data folder (and `args` added to its command line); yields its base
    URL, stops it after."""
    port = free_port()
    environ = {
        **os.environ,
        "HONGBAO_ARGON2_TIME_COST": "1",
        "HONGBAO_ARGON2_MEMORY_KIB": "8",
        "HONGBAO_DEMO": "1",
        "COLUMNS": "200",
        **env,
    }
    environ.pop("HONGBAO_DATABASE_URL", None)
    log = open(data_dir / "server.log", "wb")  # noqa: SIM115 - closed below, after the process
    proc = subprocess.Popen(
        [*_hongbao(), "serve", "--port", str(port), "--data-dir", str(data_dir), "--demo", *args],
        env=environ,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_S_MAX
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"hongbao serve exited: {(data_dir / 'server.log').read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(base + "/health", timeout=1) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("hongbao serve did not answer /health in time")
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def call(base: str, method: str, path: str, token: str | None = None, body: Any = None) -> Any:
    """One JSON API call (test set-up done over HTTP, as a client would)."""
    request = urllib.request.Request(base + path, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    data = json.dumps(body).encode() if body is not None else None
    with urllib.request.urlopen(request, data, timeout=10) as reply:
        return json.loads(reply.read() or b"null")


def token_of(base: str, username: str) -> str:
    session = call(base, "POST", "/v1/sessions", body={"username": username, "password": DEMO_PASSWORD})
    token: str = session["token"]
    return token


def fen_of(text: str) -> int:
    """"¥1,012.34" or "12.34" as shown by the app → 101234, exactly."""
    found = re.search(r"(\d[\d,]*)\.(\d\d)", text)
    assert found, text
    return int(found.group(1).replace(",", "")) * 100 + int(found.group(2))


def yuan(fen: int) -> str:
    """What the app shows for an amount: 101234 → "¥1,012.34"."""
    return f"¥{fen // 100:,}.{fen % 100:02d}"
