"""`hongbao up` (cli_scaled.py): the scaled topology from one command. Two API processes answer on one port, one
killed with SIGKILL is started again, and SIGTERM stops every process it started."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

import httpx
import pytest

from tests.e2e.server import _hongbao, free_port
from tests.scaled.topology import DEMO_PASSWORD

WAIT_S = 90.0  # bounds on waiting (a loaded machine starts processes slowly), never a speed assertion


def children(pid: int) -> dict[str, int]:
    """The processes `hongbao up` started: name (api1, worker1…) → pid, from their command lines in /proc.

    Not `ps -o args`: ps cuts its last column at $COLUMNS, and under CI the long checkout path pushed " serve" past
    80 columns, so the processes ran while this saw none of them."""
    found: dict[str, int] = {}
    for proc in sorted(Path("/proc").iterdir(), key=lambda p: int(p.name) if p.name.isdigit() else 0):
        if not proc.name.isdigit():
            continue
        try:
            ppid = int((proc / "stat").read_text().rpartition(")")[2].split()[1])
            argv = (proc / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        if ppid != pid:
            continue
        kind = "api" if "serve" in argv else "worker" if "worker" in argv else None
        if kind is not None:
            found[f"{kind}{sum(k.startswith(kind) for k in found) + 1}"] = int(proc.name)
    return found


def listing(pid: int) -> str:
    """Every child of `pid` with its command line, as a failure shows it."""
    lines = subprocess.run(["ps", "-ww", "-o", "pid=,stat=,args=", "--ppid", str(pid)], capture_output=True,
                           text=True, check=False).stdout  # fmt: skip
    return lines.strip() or "(none)"


def wait_until(what: str, done: object, up: subprocess.Popen[bytes] | None = None, logs: Path | None = None) -> None:
    """Wait for `done()`; fail at once if `up` exited, and say what `hongbao up` and its processes logged."""
    deadline = time.monotonic() + WAIT_S
    while not done():  # type: ignore[operator]
        exited = up is not None and up.poll() is not None
        if exited or time.monotonic() >= deadline:
            why = f"hongbao up exited ({up.returncode})" if exited and up is not None else f"not within {WAIT_S} s"
            seen = f"\nprocesses of hongbao up: {listing(up.pid)}" if up is not None else ""
            pytest.fail(f"{what}: {why}{seen}{logged(logs)}")
        time.sleep(0.2)


def logged(folder: Path | None) -> str:
    """The tail of every log under `folder`: what a failure shows of `hongbao up` and the processes it started."""
    if folder is None:
        return ""
    return "".join(
        f"\n--- {log.name}\n{log.read_text(errors='replace')[-4000:]}" for log in sorted(folder.rglob("*.log"))
    )


def gone(pid: int) -> bool:
    """Exited (reaped, or a zombie waiting for its parent)."""
    try:
        return "zombie" in Path(f"/proc/{pid}/status").read_text(errors="replace").lower()
    except OSError:
        return True


def answers(base: str) -> bool:
    try:
        return httpx.get(base + "/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_up_serves_on_one_port_restarts_a_killed_process_and_stops_them_all(
    pg_url: str, one_redis: str, tmp_path: Path
) -> None:
    port = free_port()
    env = {**os.environ, "HONGBAO_ARGON2_TIME_COST": "1", "HONGBAO_ARGON2_MEMORY_KIB": "8",
           "HONGBAO_REDIS_PREFIX": f"hongbao:test:{uuid.uuid4().hex[:10]}:"}  # fmt: skip
    with (tmp_path / "up.log").open("wb") as log:
        up = subprocess.Popen([*_hongbao(), "up", "--database-url", pg_url, "--redis-url", one_redis, "--api", "2",
                               "--workers", "1", "--port", str(port), "--logs", str(tmp_path / "logs"), "--demo"],
                              env=env, stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until("both API processes and the worker started", lambda: len(children(up.pid)) == 3, up, tmp_path)
        wait_until("the port answers", lambda: answers(base), up, tmp_path)
        wait_until(
            "both API processes listen",
            lambda: all(
                (tmp_path / "logs" / f"api{i}.log").read_text(errors="replace").count("Application startup complete")
                for i in (1, 2)
            ),
            up,
            tmp_path,
        )
        for _ in range(6):  # new connections each: the kernel spreads them over both processes
            reply = httpx.post(base + "/v1/sessions", json={"username": "alice", "password": DEMO_PASSWORD})
            assert reply.status_code == 201, reply.text

        killed = children(up.pid)["api1"]
        os.kill(killed, signal.SIGKILL)
        wait_until(
            "the killed API process started again",
            lambda: len(children(up.pid)) == 3 and killed not in children(up.pid).values(),
            up,
            tmp_path,
        )
        wait_until("the port answers", lambda: answers(base), up, tmp_path)

        started = list(children(up.pid).values())
        up.send_signal(signal.SIGTERM)
        up.wait(timeout=WAIT_S)
        for child in started:
            wait_until(f"process {child} stopped", lambda child=child: gone(child))
    finally:
        if up.poll() is None:
            up.kill()
            up.wait()
        for child in children(up.pid).values():
            os.kill(child, signal.SIGKILL)
