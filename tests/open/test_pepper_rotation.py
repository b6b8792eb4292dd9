"""Rotating HONGBAO_SECRET_PEPPER: code and password packets made under the old pepper still open by their secret and
still show it to their sender while the old pepper is listed in HONGBAO_SECRET_PEPPER_PREVIOUS, and not after."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from starlette.exceptions import StarletteDeprecationWarning

from hongbao.api.app import create_app
from hongbao.bootstrap import build
from hongbao.service.reconcile import reconcile
from tests.api.conftest import PASSWORD, User, assert_problem, balance, sign_up, top_up
from tests.conftest import FrozenClock, fast_settings
from tests.open.conftest import post, send_face_to_face, send_password

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

PHRASE = "恭喜发财 rotation"


def log_in_again(client: TestClient, user: User) -> User:
    session = client.post("/v1/sessions", json={"username": user.username, "password": PASSWORD})
    assert session.status_code == 201, session.text
    return User(user.id, user.username, {"Authorization": f"Bearer {session.json()['token']}"})


@contextmanager
def server(store_url: str, tmp_path: Path, clock: FrozenClock, pepper: str, previous: str | None = None
           ) -> Iterator[TestClient]:
    """One run of the server on the shared store with these peppers; the ledger is checked when it stops."""
    app = build(fast_settings(database_url=store_url, data_dir=tmp_path, secret_pepper=pepper,
                              secret_pepper_previous=previous), clock=clock)
    try:
        with TestClient(create_app(app, scheduler=False)) as client:
            yield client
        assert reconcile(app.store).violations == []
    finally:
        app.close()


def packets_under_the_old_pepper(store_url: str, tmp_path: Path, clock: FrozenClock) -> tuple[User, dict, dict]:
    """A sender's face-to-face packet (sent with an Idempotency-Key) and password packet, made under pepper A."""
    with server(store_url, tmp_path, clock, "pepper-A") as client:
        sender = sign_up(client, "sender")
        top_up(client, sender, 1_000)
        body = {"split": "equal", "shares_count": 2, "amount_each_fen": 100}
        sent = post(client, "/v1/packets/face-to-face", sender, body, **{"Idempotency-Key": "f2f-1"})
        assert sent.status_code == 201, sent.text
        password = send_password(client, sender, PHRASE)
    return sender, sent.json(), password


def test_packets_made_under_the_old_pepper_open_and_show_their_secret_while_it_is_listed_as_previous(
    store_url: str, tmp_path: Path, clock: FrozenClock
) -> None:
    # Given a code packet and a password packet made under pepper A
    sender, code_packet, phrase_packet = packets_under_the_old_pepper(store_url, tmp_path, clock)
    code = code_packet["code"]

    # When the server restarts with pepper B and A listed as previous
    with server(store_url, tmp_path, clock, "pepper-B", previous="pepper-Z, pepper-A") as client:
        alice, bob, carol = (sign_up(client, name) for name in ("alice", "bob", "carol"))

        # Then the code opens the packet, typed or through its share link
        got = post(client, "/v1/codes/open", alice, {"code": code})
        assert got.json() == {"packet_id": code_packet["id"], "amount_fen": 100}, got.text
        token = code_packet["share_path"].removeprefix("/s/")
        assert post(client, f"/v1/shares/{token}/open", bob, {"secret": code}).status_code == 200
        # and the phrase opens its packet, and is still taken for a new password packet
        assert post(client, "/v1/phrases/open", carol, {"phrase": PHRASE}).status_code == 200
        taken = {"phrase": PHRASE, "split": "equal", "shares_count": 1, "amount_each_fen": 100}
        assert_problem(post(client, "/v1/packets/password", sender, taken), 409, "phrase_taken")

        # And the sender still sees both secrets, and the keyed retry of the send still shows the code
        secret = client.get(f"/v1/packets/{code_packet['id']}/secret", headers=sender.headers)
        assert secret.json()["code"] == code, secret.text
        phrase = client.get(f"/v1/packets/{phrase_packet['id']}/secret", headers=sender.headers)
        assert phrase.json()["phrase"] == PHRASE, phrase.text
        body = {"split": "equal", "shares_count": 2, "amount_each_fen": 100}
        retry = post(client, "/v1/packets/face-to-face", sender, body, **{"Idempotency-Key": "f2f-1"})
        assert retry.status_code == 201 and retry.json()["code"] == code, retry.text

        # And a packet made now opens with its own code too
        fresh = send_face_to_face(client, sender, split="equal", shares_count=1, total_fen=None, amount_each_fen=100)
        assert post(client, "/v1/codes/open", carol, {"code": fresh["code"]}).status_code == 200
        assert [balance(client, u) for u in (alice, bob, carol)] == [100, 100, 200]


def test_without_the_old_pepper_its_packets_no_longer_open_by_secret_nor_show_it(
    store_url: str, tmp_path: Path, clock: FrozenClock
) -> None:
    # Given a code packet and a password packet made under pepper A
    sender, code_packet, phrase_packet = packets_under_the_old_pepper(store_url, tmp_path, clock)

    # When the server restarts with pepper B and A dropped (sessions signed under A end too: the sender logs in again)
    with server(store_url, tmp_path, clock, "pepper-B") as client:
        assert client.get("/v1/wallet", headers=sender.headers).status_code == 401
        sender = log_in_again(client, sender)
        alice = sign_up(client, "alice")

        # Then neither secret matches, and the sender is told their secret is unreadable (not a server error)
        assert_problem(post(client, "/v1/codes/open", alice, {"code": code_packet["code"]}), 404, "wrong_code")
        assert_problem(post(client, "/v1/phrases/open", alice, {"phrase": PHRASE}), 404, "wrong_phrase")
        for packet in (code_packet, phrase_packet):
            seen = client.get(f"/v1/packets/{packet['id']}/secret", headers=sender.headers)
            assert_problem(seen, 409, "secret_unreadable")
        assert balance(client, alice) == 0
