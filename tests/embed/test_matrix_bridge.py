"""The Matrix bridge end to end, against a real Synapse homeserver: two Matrix users in a room with the bot, a
personal packet and a transfer delivered in a direct chat, a lucky packet of 3 shares grabbed by 2 (by reacting),
the remainder refunded after expiry, the ledger reconciled.

The bridge runs as `hongbao matrix-bridge` (a host app with its own key), the hongbao server as `hongbao serve`
with a packet TTL of a few seconds, Synapse on SQLite on a port of this suite's range.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from hongbao.client import Client, ops
from tests.conftest import service_missing
from tests.e2e.server import DEMO_PASSWORD, _hongbao, running_server
from tests.embed.synapse import MatrixUser, register, running_synapse, stop, synapse_missing

SYNAPSE_PORT = 8561
WAIT_S_MAX = 60.0
T = TypeVar("T")


def eventually(what: str, probe: Callable[[], T | None], log: Path | None = None) -> T:
    """Poll `probe` until it gives something (a bounded wait for a condition, not a timing assertion)."""
    deadline = time.monotonic() + WAIT_S_MAX
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            tail = log.read_text()[-3000:] if log is not None and log.exists() else ""
            raise AssertionError(f"gave up waiting for {what}\n{tail}")
        time.sleep(0.2)


@contextlib.contextmanager
def running_bridge(workdir: Path, env: dict[str, str]) -> Iterator[Path]:
    log_path = workdir / "bridge.log"
    log = open(log_path, "wb")  # noqa: SIM115 - closed below, after the process
    proc = subprocess.Popen([*_hongbao(), "matrix-bridge", "--poll-s", "0.5"], env={**os.environ, **env},
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        yield log_path
    finally:
        stop(proc)
        log.close()


def test_two_matrix_users_share_a_lucky_packet_and_the_remainder_comes_back(tmp_path: Path) -> None:
    why = synapse_missing()
    if why is not None:
        service_missing("Synapse", why)
    (tmp_path / "hongbao").mkdir()
    (tmp_path / "synapse").mkdir()
    ttl = {"HONGBAO_PACKET_TTL_S": "12", "HONGBAO_SCHEDULER_INTERVAL_S": "0.5"}
    with running_server(tmp_path / "hongbao", **ttl) as api, running_synapse(tmp_path / "synapse",
                                                                           SYNAPSE_PORT) as homeserver:
        with Client(api) as anonymous:
            admin = anonymous.logged_in("alice", DEMO_PASSWORD)
            host = admin.call(ops.request("POST", "/v1/admin/hosts", json={"name": "matrix-bridge"}))
        key = host["key"]["key"]
        bot = register(homeserver, "hongbao", "bot password 1")
        alice = MatrixUser(homeserver, register(homeserver, "alice", "alice password 1"))
        bob = MatrixUser(homeserver, register(homeserver, "bob", "bob password 1"))
        env = {"HONGBAO_MATRIX_HOMESERVER": homeserver, "HONGBAO_MATRIX_USER": bot["user_id"],
               "HONGBAO_MATRIX_PASSWORD": "bot password 1", "HONGBAO_HOST_KEY": key, "HONGBAO_API_URL": api}
        with running_bridge(tmp_path, env) as log:
            room = alice.create_room(invite=[bob.user_id, bot["user_id"]])
            bob.join(room)
            eventually("the bot to join", lambda: bot["user_id"] in alice.members(room), log)

            def said(needle: str) -> list[tuple[str, str]]:
                return [m for m in alice.messages(room, bot["user_id"]) if needle in m[1]]

            alice.say(room, "/hongbao topup 100")
            eventually("the top-up", lambda: said("topped up ¥100.00"), log)

            # A personal packet and a transfer reach bob in his direct chat with the bot.
            alice.say(room, f"/hongbao {bob.user_id} 5.20 新年快乐")
            dm = eventually("the direct chat", bob.invites, log)[0]
            bob.join(dm)

            def told_bob(needle: str) -> list[tuple[str, str]]:
                return [m for m in bob.messages(dm, bot["user_id"]) if needle in m[1]]

            bob.react(dm, eventually("the personal envelope", lambda: told_bob("React to this message"), log)[0][0])
            eventually("bob's personal packet", lambda: told_bob(f"{bob.user_id} opened ¥5.20"), log)
            alice.say(room, f"/hongbao transfer {bob.user_id} 3.00 房租")
            bob.react(dm, eventually("the transfer", lambda: told_bob("React ✅"), log)[0][0], "✅")
            eventually("the accepted transfer", lambda: told_bob("¥3.00 from " + alice.user_id + ": accepted"), log)

            alice.say(room, "/hongbao 8.88 3 恭喜发财")
            envelope = eventually("the envelope", lambda: said("React to this message"), log)[0][0]
            bob.react(room, envelope)
            eventually("bob's claim", lambda: said(f"{bob.user_id} opened"), log)
            alice.react(room, envelope)
            eventually("alice's claim", lambda: said(f"{alice.user_id} opened"), log)
            refund = eventually("the refund after expiry", lambda: said("expired"), log)[0][1]
            assert "(2/3 opened: " in refund and alice.user_id in refund and bob.user_id in refund

        with Client(api, host_key=key) as bridge_host:
            as_alice, as_bob = bridge_host.as_user(alice.user_id), bridge_host.as_user(bob.user_id)
            packet_id = int(refund.split("packet ")[1].split()[0])
            packet = as_alice.packet(packet_id)
            claims = {c.user_id: c.amount_fen for c in packet.claims or []}
            assert packet.status == "expired" and packet.claimed_count == 2 and len(claims) == 2
            assert packet.claimed_fen + packet.refunded_fen == 888 and packet.refunded_fen >= 1
            alice_id, bob_id = as_alice.wallet().user_id, as_bob.wallet().user_id
            assert as_bob.wallet().balance_fen == claims[bob_id] + 520 + 300
            assert as_alice.wallet().balance_fen == (10_000 - 520 - 300 - 888 + claims[alice_id]
                                                     + packet.refunded_fen)
        alice.close()
        bob.close()
    checked = subprocess.run([*_hongbao(), "reconcile", "--data-dir", str(tmp_path / "hongbao")],
                             capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize(("text", "expected"), [
    ("/hongbao 8.88 5 恭喜发财", "SendGroup(total_fen=888, shares_count=5, split='double_mean', greeting='恭喜发财')"),
    ("/hongbao 1 3 equal", "SendGroup(total_fen=100, shares_count=3, split='equal', greeting=None)"),
    ("/hongbao @bob:localhost 5.20 新年快乐", "SendPersonal(recipient='@bob:localhost', amount_fen=520, "
                                               "greeting='新年快乐')"),
    ("/hongbao topup 100", "TopUp(amount_fen=10000)"),
    ("/hongbao transfer @bob:localhost 10 房租",
     "SendTransfer(recipient='@bob:localhost', amount_fen=1000, note='房租')"),
    ("/hongbao 8.888 5", "Help(reason='usage: /hongbao 8.88 5 greeting')"),
    ("/hongbao -1 5", "Help(reason='usage: /hongbao 8.88 5 greeting')"),
    ("hello", "None"),
])
def test_the_bridge_reads_its_commands(text: str, expected: str) -> None:
    from hongbao.matrix.commands import parse

    assert repr(parse(text)) == expected
