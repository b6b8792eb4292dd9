"""docs/embed.md: every example runs as written against a live server, and the client reference names every method."""

from __future__ import annotations

import inspect
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hongbao.client import AsyncClient, Client, ops
from tests.e2e.server import DEMO_PASSWORD, running_server

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "embed.md"
RECEIVER_PORT = 8562
WAIT_S_MAX = 60.0


def blocks(lang: str) -> list[str]:
    """The guide's fenced blocks in `lang`, in order; a block with a placeholder (…) is a recipe, not run here."""
    found = re.findall(rf"^```{lang}\n(.*?)^```", GUIDE.read_text(), flags=re.S | re.M)
    return [b for b in found if "…" not in b]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    with running_server(tmp_path_factory.mktemp("docs-live")) as base, Client(base) as anonymous:
        admin = anonymous.logged_in("alice", DEMO_PASSWORD)
        made = admin.call(ops.request("POST", "/v1/admin/hosts", json={"name": "docs"}))
        yield base, made["key"]["key"]


def run(code: list[str], env: dict[str, str], cwd: Path | None = None) -> str:
    """Run an example as a reader would, with this venv's `hongbao` and `python3` first on the PATH."""
    environ = {k: v for k, v in os.environ.items() if k not in ("HONGBAO_DATABASE_URL", "HONGBAO_DATA_DIR")}
    environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environ.get('PATH', '')}"
    done = subprocess.run(code, env={**environ, **env}, capture_output=True, text=True, timeout=120, cwd=cwd)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_the_guide_has_the_examples_this_test_runs() -> None:
    assert len(blocks("sh")) == 2 and len(blocks("python")) == 3


def test_registering_a_host_from_the_guide(tmp_path: Path) -> None:
    out = run(["bash", "-c", blocks("sh")[0]], {"HONGBAO_ARGON2_TIME_COST": "1", "HONGBAO_ARGON2_MEMORY_KIB": "8",
                                                "COLUMNS": "200"}, cwd=tmp_path)
    assert "hk_" in out and "whsec_" in out


def test_the_curl_example_acts_for_two_users(live: tuple[str, str]) -> None:
    base, key = live
    out = run(["bash", "-c", blocks("sh")[1]], {"U": base, "KEY": key})
    assert '"total_fen":520' in out and '"users_count":' in out


def test_the_python_examples_run(live: tuple[str, str]) -> None:
    base, key = live
    env = {"HONGBAO_URL": base, "HONGBAO_HOST_KEY": key}
    sync, _, crowd = blocks("python")
    assert "bob opened 520 fen; alice has 9480" in run([sys.executable, "-c", sync], env)
    assert "won 300 fen in 3 shares; refused: ['packet_exhausted', 'packet_exhausted']" in run(
        [sys.executable, "-c", crowd], env)


def test_the_webhook_receiver_example_gets_verified_events(live: tuple[str, str]) -> None:
    base, key = live
    receiver_code = blocks("python")[1]
    with Client(base, host_key=key) as host:
        secret = host.set_webhook(f"http://127.0.0.1:{RECEIVER_PORT}/").webhook_secret
        assert secret is not None
        receiver = subprocess.Popen([sys.executable, "-c", receiver_code], stdout=subprocess.PIPE, text=True,
                                    env={**os.environ, "WEBHOOK_SECRET": secret, "PORT": str(RECEIVER_PORT)})
        lines: list[str] = []
        threading.Thread(target=lambda: lines.extend(iter(receiver.stdout.readline, "")), daemon=True).start()
        try:
            host.as_user("hooked").top_up(2_500)
            deadline = time.monotonic() + WAIT_S_MAX  # the server's scheduler delivers within a pass or two
            while not any(line.startswith("payment.settled") for line in lines):
                assert time.monotonic() < deadline, f"no webhook arrived: {lines}"
                time.sleep(0.2)
            settled = next(line for line in lines if line.startswith("payment.settled"))
            assert '"amount_fen": 2500' in settled and '"external_id": "hooked"' in settled
        finally:
            host.set_webhook(None)
            receiver.terminate()
            receiver.wait(timeout=10)


def test_the_client_reference_names_every_method() -> None:
    text = GUIDE.read_text() + GUIDE.with_name("client-reference.md").read_text()
    for cls in (Client, AsyncClient):
        public = [n for n, f in inspect.getmembers(cls, inspect.isfunction) if not n.startswith("_")]
        named = [n for n in public if n not in ("call", "close", "aclose", "as_user", "logged_in")]
        missing = [n for n in named if f"`{n}(" not in text]
        assert missing == [], f"docs/embed.md and docs/client-reference.md do not list {missing}"
