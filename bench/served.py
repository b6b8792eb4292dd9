"""A `hongbao serve` for HTTP benchmarks, shared by bench/shake_load.py, bench/cold_w1.py and bench/celebrity_http.py.

Set-up happens in process on the benchmark's store (`settings_for`, `build`), then `start_server` runs
`hongbao serve` on that store (this interpreter, so `PYTHONPATH=<another checkout>/src` serves that checkout) and
the storm goes through the shared load generator's raw keep-alive client (../shared/bench/loadgen.py, or the folder
in LOADGEN_DIR), whose names are re-exported here.  `fresh_database` makes (and drops) a PostgreSQL database of
its own; `reconcile_cli` runs `hongbao reconcile` on the store as an operator would.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Coroutine, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, os.environ.get("LOADGEN_DIR", str(ROOT.parent / "shared" / "bench")))

from loadgen import CpuMeter, RawEngine, Request, Sample, Storm, pct, storm  # noqa: E402

__all__ = [
    "BENCH_ENV", "ROOT", "CpuMeter", "RawEngine", "Request", "Sample", "Storm", "children", "classify", "code_version",
    "free_port",
    "fresh_database", "pct", "raise_open_files", "reconcile_cli", "run_async", "server_cpu_s", "server_pids",
    "settings_for", "start_server", "stop_server", "storm",
]  # fmt: skip

T = TypeVar("T")

# What every benchmark server (and the set-up that shares its store) runs with: cheap argon2 (set-up makes
# thousands of users), no access log, no sweeps (webhooks, expiry are not what is measured).
BENCH_ENV = {
    "HONGBAO_ARGON2_TIME_COST": "1",
    "HONGBAO_ARGON2_MEMORY_KIB": "8",
    "HONGBAO_ACCESS_LOG": "0",
    "HONGBAO_SCHEDULER": "0",
}


def settings_for(data_dir: str, database_url: str | None, env: Mapping[str, str], **extra: Any) -> Any:
    """The set-up's Settings: the server's environment (`env`, also put in this process's), then `extra`."""
    from hongbao.config import Settings

    os.environ.update(env)
    update: dict[str, Any] = {"data_dir": Path(data_dir), "scheduler": False, "demo": False, **extra}
    if database_url:
        update["database_url"] = database_url
    return Settings().model_copy(update=update)


def build_app_for(data_dir: str, database_url: str | None, env: Mapping[str, str], pepper: str, migrate: bool,
                  **extra: Any) -> Any:
    """The set-up's App on the server's store: `settings_for`, and no pepper at all where `pepper` is empty (the
    older tokens that need a read per cold token), as the server started with `env` has none either."""
    from hongbao.bootstrap import build

    settings = settings_for(data_dir, database_url, env, **extra)
    if not pepper:
        os.environ.pop("HONGBAO_SECRET_PEPPER", None)
        settings = settings.model_copy(update={"secret_pepper": None})
    return build(settings, migrate_schema=migrate)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(entry))
            except OSError:
                continue
    return out


def raise_open_files() -> None:
    import resource

    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def start_server(data_dir: str, database_url: str | None, workers: int, port: int, env: Mapping[str, str]
                 ) -> subprocess.Popen[bytes]:  # fmt: skip
    """`hongbao serve` on the store, its output appended to `data_dir`/server.log; returned once GET /health answers
    200 and, with several workers, every worker has logged its start (uvicorn binds the port before it spawns them,
    and on a busy machine they may take seconds to come up: a storm or a CPU count begun earlier misses them)."""
    cmd = [sys.executable, "-c", "from hongbao.cli import app; app()", "serve", "--no-demo", "--host", "127.0.0.1",
           "--port", str(port), "--data-dir", data_dir, "--workers", str(workers)]  # fmt: skip
    if database_url:
        cmd += ["--database-url", database_url]
    # Workers of older checkouts do not get the data folder (their token key) from `serve`: hand it over here.
    full_env = {**os.environ, **env, "HONGBAO_DATA_DIR": data_dir}
    log_path = Path(data_dir) / "server.log"
    log = open(log_path, "ab")  # noqa: SIM115 - kept open for the server's life
    offset = log.tell()
    proc = subprocess.Popen(cmd, env=full_env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while not _healthy(port) or (workers > 1 and _started(log_path, offset) < workers):
        if proc.poll() is not None:
            raise SystemExit(log_path.read_text()[-3000:])
        if time.monotonic() > deadline:
            stop_server(proc)
            raise SystemExit(f"the server was not up after 120 s:\n{log_path.read_text()[-3000:]}")
        time.sleep(0.3)
    time.sleep(0.3)
    return proc


def _healthy(port: int) -> bool:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", "/health")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def _started(log_path: Path, offset: int) -> int:
    """Workers that logged their start since `offset` (uvicorn's line, one per worker process)."""
    with open(log_path, "rb") as f:
        f.seek(offset)
        return f.read().count(b"Application startup complete")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def server_pids(proc: subprocess.Popen[bytes]) -> dict[str, int]:
    """The serving process and its children (uvicorn's workers), named for CpuMeter."""
    return {"server": proc.pid} | {f"worker{i}": c for i, c in enumerate(children(proc.pid), 1)}


def server_cpu_s(cpu: Mapping[str, Any]) -> float:
    """CPU seconds of the server's processes in a CpuMeter report (everything but the generator and the machine)."""
    return float(sum(v["cpu_s"] for k, v in cpu.items() if k not in ("loadgen", "machine")))


@contextlib.contextmanager
def fresh_database(server_url: str, prefix: str) -> Iterator[str]:
    """A new PostgreSQL database `<prefix>_<random>` on the server of `server_url` (connected to as given, or to
    its `postgres` database when the URL names none), dropped afterwards: the URL of the new one."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = make_url(server_url)
    admin_url = url if url.database else url.set(database="postgres")
    if admin_url.drivername == "postgresql":  # hongbao's driver (it rewrites such URLs too, adapters/sql/engine.py)
        admin_url = admin_url.set(drivername="postgresql+psycopg")
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield url.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def reconcile_cli(data_dir: str, database_url: str | None) -> tuple[bool, str]:
    """`hongbao reconcile` on the store (server stopped): (clean, its output)."""
    cmd = [sys.executable, "-c", "from hongbao.cli import app; app()", "reconcile", "--data-dir", data_dir]
    if database_url:
        cmd += ["--database-url", database_url]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    return done.returncode == 0, (done.stdout + done.stderr).strip()


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run a client coroutine on uvloop when installed, as loadgen.py does (a cheaper client on shared cores)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)


def classify(status: int, body: bytes) -> tuple[str, int]:
    """An open's answer: ("won", amount), or ("STATUS:code", 0)."""
    try:
        reply = json.loads(body) if body else {}
    except ValueError:
        reply = {}
    if not isinstance(reply, dict):
        reply = {}
    if status == 200 and isinstance(reply.get("amount_fen"), int):
        return "won", int(reply["amount_fen"])
    code = reply.get("code") or bytes(body[:60]).decode(errors="replace")
    return f"{status}:{code}", 0


def code_version() -> str:
    """The served checkout's commit (hongbao as imported, so PYTHONPATH=<checkout>/src names that checkout)."""
    import hongbao

    where = Path(hongbao.__file__).resolve().parent
    try:
        done = subprocess.run(["git", "-C", str(where), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, timeout=10, check=False)  # fmt: skip
    except OSError:
        return "unknown"
    changed = subprocess.run(["git", "-C", str(where), "status", "--porcelain", "--", "."], capture_output=True,
                             text=True, timeout=10, check=False).stdout.count("\n")  # fmt: skip
    return (done.stdout.strip() or "unknown") + (f" (+{changed} files changed under src/hongbao)" if changed else "")
