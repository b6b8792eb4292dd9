"""`hongbao up`: the scaled topology on one machine (docs/deploy.md), and `hongbao serve`'s shared port.

`hongbao up --database-url postgresql+psycopg://… --redis-url redis://…` migrates the schema, then starts and
watches N `hongbao serve` processes that all listen on one port (SO_REUSEPORT: the kernel spreads connections
over them, where one shared listening socket let a few busy keep-alive connections pile on one process) and M
`hongbao worker`s (one of them sweeps at a time, adapters/sql/lease.py).  A process that exits is started again
after a pause; Ctrl-C or SIGTERM stops them all.  Used by the tests (tests/scaled) and by hand.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from hongbao.config import Settings

RESTART_PAUSE_S = 1.0


def shared_port_socket(host: str, port: int) -> socket.socket:
    """A listening socket on `host:port` that other processes may bind too (SO_REUSEPORT)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    return sock


def uvicorn_runner(reuse_port: bool) -> Callable[..., None]:
    """`uvicorn.run`, or with `reuse_port` (HONGBAO_REUSE_PORT=1, as `hongbao up` starts its API processes) the same
    on a SO_REUSEPORT socket that other `hongbao serve` processes share."""
    import uvicorn

    if not reuse_port:
        return uvicorn.run

    def run(asgi: Any, *, host: str, port: int, **options: Any) -> None:
        config = uvicorn.Config(asgi, host=host, port=port, **options)
        uvicorn.Server(config).run(sockets=[shared_port_socket(host, port)])

    return run


@dataclass
class Child:
    """One process of the topology and how to start it again."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    restarts: int = 0

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(self.argv, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        self.started_at = time.monotonic()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)


def _hongbao() -> list[str]:
    beside = Path(sys.executable).parent / "hongbao"
    return [str(beside)] if beside.exists() else [sys.executable, "-m", "hongbao"]


def register(app: typer.Typer) -> None:
    @app.command()
    def up(
        database_url: Annotated[str, typer.Option(help="PostgreSQL URL [HONGBAO_DATABASE_URL].",
                                                  envvar="HONGBAO_DATABASE_URL")],
        redis_url: Annotated[str, typer.Option(help="redis://… or redis+cluster://… [HONGBAO_REDIS_URL].",
                                               envvar="HONGBAO_REDIS_URL")],
        api: Annotated[int, typer.Option(help="API processes, all on one port.")] = 2,
        workers: Annotated[int, typer.Option(help="`hongbao worker` processes (one sweeps at a time).")] = 1,
        host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="The one port of every API process.")] = 8000,
        logs: Annotated[Path, typer.Option(help="Folder of the processes' logs.")] = Path("hongbao-logs"),
        demo: Annotated[bool, typer.Option("--demo/--no-demo", help="Create demo data first.")] = False,
    ) -> None:
        """Scaled mode on one machine: N API processes on one port, M workers, PostgreSQL and Redis (docs/deploy.md)."""
        from hongbao.bootstrap import build
        from hongbao.cli import console

        if api < 1 or workers < 0:
            raise typer.BadParameter("--api at least 1, --workers at least 0")
        if database_url.startswith("sqlite"):
            raise typer.BadParameter("scaled mode needs PostgreSQL (many processes write at once)")
        environ = {**os.environ, "HONGBAO_DATABASE_URL": database_url, "HONGBAO_REDIS_URL": redis_url}
        settings = Settings()
        settings = settings.model_copy(update={"database_url": database_url, "redis_url": redis_url})
        hb = build(settings)  # migrates the schema once, before any process serves
        try:
            if demo:
                import asyncio

                from hongbao.seed import seed_demo

                asyncio.run(seed_demo(hb))
        finally:
            hb.close()
        logs.mkdir(parents=True, exist_ok=True)
        serve_env = {**environ, "HONGBAO_REUSE_PORT": "1", "HONGBAO_SCHEDULER": "0", "HONGBAO_DEMO": "0"}
        children = [
            Child(f"api{i + 1}", [*_hongbao(), "serve", "--host", host, "--port", str(port), "--no-demo",
                                  "--no-scheduler"], serve_env, logs / f"api{i + 1}.log")
            for i in range(api)
        ] + [
            Child(f"worker{i + 1}", [*_hongbao(), "worker"], environ, logs / f"worker{i + 1}.log")
            for i in range(workers)
        ]  # fmt: skip
        stopping = False

        def stop(*_: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        for child in children:
            child.start()
        console.print(f"hongbao up: {api} API process(es) on http://{host}:{port}, {workers} worker(s); "
                      f"logs in {logs}/ (Ctrl-C stops them all)")
        while not stopping:
            time.sleep(0.2)
            for child in children:
                if child.proc is not None and child.proc.poll() is not None and not stopping:
                    if time.monotonic() - child.started_at < RESTART_PAUSE_S:
                        continue
                    child.restarts += 1
                    console.print(f"{child.name} exited ({child.proc.returncode}); starting it again")
                    child.start()
        for child in children:
            child.stop()
        deadline = time.monotonic() + settings.shutdown_grace_s + 5
        for child in children:
            if child.proc is not None:
                try:
                    child.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    child.proc.kill()
        console.print("hongbao up: stopped")
