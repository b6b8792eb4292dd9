"""A private PostgreSQL cluster for the fault drills: `initdb` + `pg_ctl` in a temporary folder, on a port of its own.

The drills stop, kill and restart PostgreSQL, so they never touch the shared server on 5432: each test module
gets a cluster of its own, listening only on 127.0.0.1 with trust auth and fsync on (a committed transaction
must survive `pg_ctl stop -m immediate`, as in production).  initdb refuses to run as root, so under root the
binaries run as the `postgres` OS user, in a folder that user owns (pytest's own tmp folders are root-only).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from sqlalchemy import create_engine, text

from tests.e2e.server import free_port

STOP_MODES = ("smart", "fast", "immediate")
PG_CTL_TIMEOUT_S = 60


def find_bin_dir() -> Path | None:
    """The newest /usr/lib/postgresql/<version>/bin with initdb and pg_ctl (HONGBAO_PG_BIN to override)."""
    chosen = os.environ.get("HONGBAO_PG_BIN")
    candidates = [chosen] if chosen else sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version, reverse=True)
    for folder in candidates:
        if folder and (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    return None


def _version(folder: str) -> float:
    try:
        return float(Path(folder).parent.name)
    except ValueError:
        return 0.0


def why_unavailable() -> str | None:
    """Why a private cluster cannot be made on this machine, or None when it can."""
    if find_bin_dir() is None:
        return "no initdb/pg_ctl under /usr/lib/postgresql/*/bin (apt-get install postgresql, or set HONGBAO_PG_BIN)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no `postgres` OS user to run initdb as"
        if shutil.which("runuser") is None:
            return "running as root and `runuser` is missing (util-linux)"
    return None


class PgCluster:
    """One PostgreSQL cluster in its own folder; `stop`, `start` and `restart` drive it through pg_ctl."""

    def __init__(self) -> None:
        bin_dir = find_bin_dir()
        assert bin_dir is not None, why_unavailable()
        self.bin_dir = bin_dir
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="hongbao-drill-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            owner = pwd.getpwnam("postgres")
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
        self.running = False

    @property
    def admin_url(self) -> str:
        return self.url("postgres")

    def url(self, database: str, port: int | None = None) -> str:
        """A SQLAlchemy URL for `database`, on the cluster's port or (for the proxy) on another one."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{port or self.port}/{database}?sslmode=disable"

    def _run(self, *argv: str, timeout: float = PG_CTL_TIMEOUT_S) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin_dir / argv[0]), *argv[1:]]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, cwd=self.root, capture_output=True, text=True, timeout=timeout, check=False)
        if done.returncode != 0:
            said = f"{done.stdout}{done.stderr}\n{self.tail()}"
            raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}): {said}")
        return done

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C")
        settings = {
            "port": str(self.port),
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": "''",  # TCP only: nothing in /var/run/postgresql, no clash with 5432
            "fsync": "on",  # committed means on disk, also across `stop -m immediate`
            "synchronous_commit": "on",
            "max_connections": "60",
            "shared_buffers": "32MB",
            "logging_collector": "off",
        }
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write("\n# hongbao fault drill\n")
            conf.writelines(f"{name} = {value}\n" for name, value in settings.items())

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", str(PG_CTL_TIMEOUT_S), "start")
        self.running = True

    def stop(self, mode: str = "fast") -> None:
        assert mode in STOP_MODES, mode
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", str(PG_CTL_TIMEOUT_S), "stop")
        self.running = False

    def restart(self, mode: str = "fast") -> None:
        assert mode in STOP_MODES, mode
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-m", mode, "-w", "-t", str(PG_CTL_TIMEOUT_S),
            "restart",
        )  # fmt: skip
        self.running = True

    def create_database(self, name: str) -> str:
        """A fresh database on the cluster; returns its direct URL."""
        engine = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            engine.dispose()
        return self.url(name)

    def tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def destroy(self) -> None:
        """Stop the server (immediately: its data is thrown away) and remove the folder."""
        try:
            if (self.data / "postmaster.pid").exists():
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        except (RuntimeError, subprocess.TimeoutExpired):
            pass
        finally:
            self.running = False
            shutil.rmtree(self.root, ignore_errors=True)
