"""SIGTERM always stops `hongbao serve`, even with a live-events stream open (which never ends by itself), lets
the writer commit what is queued, and ends `hongbao worker` after its pass."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from tests.e2e.server import _hongbao, free_port

from hongbao.bootstrap import build
from hongbao.config import Settings
from hongbao.service.reconcile import reconcile

# uvicorn shuts down, then re-raises the SIGTERM it caught: the process ends by the signal, as a process should.
EXITED = (0, -signal.SIGTERM)
STOP_S_MAX = 30.0  # a bound on a hang, not a speed figure: the grace periods below are 1 and 5 s
PASSWORD = "a long enough passphrase"


@contextlib.contextmanager
def serving(tmp_path: Path, grace_s: int) -> Iterator[tuple[subprocess.Popen[bytes], str, str]]:
    """`hongbao serve` on a fresh data folder with one user logged in: (process, base URL, token); killed if it
    is still running at the end."""
    port = free_port()
    env = {**os.environ, "HONGBAO_ARGON2_TIME_COST": "1", "HONGBAO_ARGON2_MEMORY_KIB": "8",
           "HONGBAO_SHUTDOWN_GRACE_S": str(grace_s)}
    env.pop("HONGBAO_DATABASE_URL", None)
    with open(tmp_path / "server.log", "wb") as log:
        proc = subprocess.Popen([*_hongbao(), "serve", "--port", str(port), "--data-dir", str(tmp_path), "--no-demo"],
                                env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_up(base, proc)
        with httpx.Client(base_url=base, timeout=10) as http:
            http.post("/v1/users", json={"username": "payer", "password": PASSWORD})
            token = http.post("/v1/sessions", json={"username": "payer", "password": PASSWORD}).json()["token"]
        yield proc, base, token
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_sigterm_with_an_open_live_events_stream_exits_within_the_grace_period(tmp_path: Path) -> None:
    with serving(tmp_path, grace_s=1) as (proc, base, token):
        stream = socket.create_connection(("127.0.0.1", int(base.rsplit(":", 1)[1])))
        stream.sendall(f"GET /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n".encode())
        assert b"200" in stream.recv(4096).split(b"\r\n")[0]  # the stream is open

        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=STOP_S_MAX)

        assert code in EXITED, (tmp_path / "server.log").read_text()
        stream.close()


def _wait_up(base: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, "hongbao serve exited at start"
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError("hongbao serve did not start")


def test_sigterm_during_writes_lets_the_writer_finish_and_loses_no_acknowledged_money(tmp_path: Path) -> None:
    acknowledged: list[int] = []
    # given a server taking top-ups from several clients at once
    with serving(tmp_path, grace_s=5) as (proc, base, token):
        started = threading.Event()

        def top_up(i: int) -> None:
            with httpx.Client(base_url=base, timeout=10) as http:
                started.set()
                try:
                    answer = http.post("/v1/wallet/top-ups", json={"amount_fen": 100 + i},
                                       headers={"Authorization": f"Bearer {token}", "Idempotency-Key": f"t{i}"})
                except httpx.HTTPError:
                    return  # cut by the shutdown: its outcome is the client's to ask again
                if answer.status_code == 201:
                    acknowledged.append(100 + i)

        # when SIGTERM arrives while they are in flight
        with ThreadPoolExecutor(8) as pool:
            futures = [pool.submit(top_up, i) for i in range(40)]
            started.wait(10)
            proc.send_signal(signal.SIGTERM)
            for future in futures:
                future.result()
        code = proc.wait(timeout=STOP_S_MAX)

    # then the process exits cleanly once the writer has committed what was queued, and every acknowledged top-up
    # is in a ledger that reconciles
    assert code in EXITED, (tmp_path / "server.log").read_text()
    assert "stopped: the writer committed what was queued" in (tmp_path / "server.log").read_text()
    app = build(Settings(data_dir=tmp_path, demo=False, scheduler=False))
    try:
        user_id = asyncio.run(app.users.login("payer", PASSWORD)).user_id
        balance = asyncio.run(app.wallet.balance(user_id))
        assert balance >= sum(acknowledged)  # a top-up cut after its commit counts, unacknowledged
        assert reconcile(app.store).violations == []
    finally:
        app.close()


def test_sigterm_ends_a_worker_after_its_pass_and_it_exits_cleanly(tmp_path: Path) -> None:
    subprocess.run([*_hongbao(), "migrate", "--data-dir", str(tmp_path)], check=True, capture_output=True)
    env = {k: v for k, v in os.environ.items() if k != "HONGBAO_DATABASE_URL"}
    with open(tmp_path / "worker.log", "wb") as log:
        proc = subprocess.Popen([*_hongbao(), "worker", "--data-dir", str(tmp_path)], env=env, stdout=log,
                                stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while b"lease" not in (tmp_path / "worker.log").read_bytes() and time.monotonic() < deadline:
            assert proc.poll() is None, (tmp_path / "worker.log").read_text()
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=STOP_S_MAX)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert code == 0, (tmp_path / "worker.log").read_text()  # it was killed by the signal (-15) before
