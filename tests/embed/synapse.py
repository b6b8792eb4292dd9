"""A real Synapse homeserver for tests: SQLite, started on a port of its own, users registered with its shared
secret (the admin API's HMAC registration).  Needs the `synapse` extra (pip install -e '.[synapse]')."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

SHARED_SECRET = "hongbao-test-shared-secret"
START_S_MAX = 90.0
UNLIMITED = "{per_second: 10000, burst_count: 10000}"

CONFIG = """\
server_name: "localhost"
pid_file: {dir}/homeserver.pid
listeners:
  - port: {port}
    bind_addresses: ['127.0.0.1']
    type: http
    tls: false
    x_forwarded: false
    resources:
      - names: [client]
        compress: false
database:
  name: sqlite3
  args:
    database: {dir}/homeserver.db
media_store_path: {dir}/media_store
registration_shared_secret: "{secret}"
report_stats: false
macaroon_secret_key: "hongbao-test-macaroon"
form_secret: "hongbao-test-form"
signing_key_path: "{dir}/localhost.signing.key"
trusted_key_servers: []
suppress_key_server_warning: true
enable_metrics: false
caches:
  sync_response_cache_duration: 0
rc_message: {unlimited}
rc_registration: {unlimited}
rc_login:
  address: {unlimited}
  account: {unlimited}
  failed_attempts: {unlimited}
rc_joins:
  local: {unlimited}
rc_invites:
  per_room: {unlimited}
  per_user: {unlimited}
"""


def synapse_missing() -> str | None:
    """Why Synapse cannot be started here, or None."""
    try:
        import synapse  # type: ignore[import-untyped]  # noqa: F401
    except ImportError as exc:
        return f"matrix-synapse is not installed (pip install -e '.[synapse]'): {exc}"
    return None


@contextlib.contextmanager
def running_synapse(workdir: Path, port: int) -> Iterator[str]:
    """Synapse on 127.0.0.1:`port` with a fresh SQLite database; yields its URL and stops it after."""
    config = workdir / "homeserver.yaml"
    config.write_text(CONFIG.format(dir=workdir, port=port, secret=SHARED_SECRET, unlimited=UNLIMITED))
    homeserver = [sys.executable, "-m", "synapse.app.homeserver", "-c", str(config)]
    subprocess.run([*homeserver, "--generate-keys"], check=True, capture_output=True, timeout=60)
    log = open(workdir / "synapse.log", "wb")  # noqa: SIM115 - closed below, after the process
    proc = subprocess.Popen(homeserver, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_S_MAX
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"Synapse exited: {(workdir / 'synapse.log').read_text()[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url + "/_matrix/client/versions", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("Synapse did not answer in time")
            time.sleep(0.2)
        yield url
    finally:
        stop(proc)
        log.close()


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if it is still there after 15 s."""
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def register(url: str, username: str, password: str) -> dict[str, Any]:
    """Register a user with the shared secret; returns {user_id, access_token, …}."""
    nonce = httpx.get(url + "/_synapse/admin/v1/register", timeout=10).json()["nonce"]
    mac = hmac.new(SHARED_SECRET.encode(), b"\x00".join(
        [nonce.encode(), username.encode(), password.encode(), b"notadmin"]), hashlib.sha1).hexdigest()
    answer = httpx.post(url + "/_synapse/admin/v1/register", timeout=10, json={
        "nonce": nonce, "username": username, "password": password, "admin": False, "mac": mac})
    answer.raise_for_status()
    registered: dict[str, Any] = answer.json()
    return registered


class MatrixUser:
    """A Matrix user driven by the test over the client-server API."""

    def __init__(self, url: str, registered: dict[str, Any]) -> None:
        self.user_id: str = registered["user_id"]
        self.http = httpx.Client(base_url=url + "/_matrix/client/v3", timeout=10,
                                 headers={"Authorization": f"Bearer {registered['access_token']}"})
        self._txn = 0
        self._since: str | None = None

    def create_room(self, invite: list[str]) -> str:
        room: str = self.http.post("/createRoom", json={"invite": invite, "preset": "private_chat"}).json()["room_id"]
        return room

    def join(self, room_id: str) -> None:
        self.http.post(f"/join/{room_id}", json={}).raise_for_status()

    def send(self, room_id: str, event_type: str, content: dict[str, Any]) -> str:
        self._txn += 1
        answer = self.http.put(f"/rooms/{room_id}/send/{event_type}/t{self._txn}-{time.time_ns()}", json=content)
        answer.raise_for_status()
        event_id: str = answer.json()["event_id"]
        return event_id

    def say(self, room_id: str, text: str) -> str:
        return self.send(room_id, "m.room.message", {"msgtype": "m.text", "body": text})

    def react(self, room_id: str, event_id: str, key: str = "🧧") -> str:
        return self.send(room_id, "m.reaction", {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id,
                                                                  "key": key}})

    def invites(self) -> list[str]:
        """Rooms this user was invited to since the last call (incremental syncs: Synapse caches a repeated one)."""
        params: dict[str, Any] = {"timeout": 0} | ({"since": self._since} if self._since else {})
        answer = self.http.get("/sync", params=params).json()
        self._since = answer.get("next_batch", self._since)
        return list(answer.get("rooms", {}).get("invite", {}))

    def members(self, room_id: str) -> list[str]:
        return list(self.http.get(f"/rooms/{room_id}/joined_members").json().get("joined", {}))

    def messages(self, room_id: str, sender: str) -> list[tuple[str, str]]:
        """(event id, body) of `sender`'s messages in the room, oldest first."""
        answer = self.http.get(f"/rooms/{room_id}/messages", params={"dir": "b", "limit": 100}).json()
        found = [(e["event_id"], e["content"].get("body", "")) for e in answer.get("chunk", [])
                 if e.get("type") == "m.room.message" and e.get("sender") == sender]
        return list(reversed(found))

    def close(self) -> None:
        self.http.close()
