"""面对面红包 over HTTP: send, claim by code or QR link, refusals, guessing limits."""

from __future__ import annotations

import io

from PIL import Image

from hongbao.service.idempotency import IdempotencyKey
from tests.api.conftest import assert_problem, balance
from tests.open.conftest import post, send_face_to_face


def test_a_face_to_face_packet_gives_its_code_to_the_sender_and_shares_to_strangers_who_type_it(client, hb, new_user):
    sender = new_user("sender", fen=1_000)
    packet = send_face_to_face(client, sender, split="equal", shares_count=2, total_fen=None, amount_each_fen=150)
    code = packet["code"]
    assert len(code) == 6 and code.isdigit()
    assert packet["kind"] == "face_to_face" and packet["share_url"].startswith("http")
    stranger, other = new_user("stranger"), new_user("other")

    got = post(client, "/v1/codes/open", stranger, {"code": code})
    assert got.status_code == 200, got.text
    assert got.json() == {"packet_id": packet["id"], "amount_fen": 150}
    assert balance(client, stranger) == 150
    assert post(client, "/v1/codes/open", other, {"code": f" {code[:3]} {code[3:]} "}).status_code == 200

    again = client.get(f"/v1/packets/{packet['id']}/secret", headers=sender.headers)
    assert again.json()["code"] == code
    late = new_user("late")
    assert_problem(post(client, "/v1/codes/open", late, {"code": code}), 409, "packet_exhausted")
    assert balance(client, sender) == 700


def test_the_code_is_stored_only_as_a_digest_and_shown_to_nobody_but_the_sender(client, hb, new_user):
    sender, stranger = new_user("sender", fen=1_000), new_user("stranger")
    packet = send_face_to_face(client, sender)
    code = packet["code"]
    row = hb.store.read_sync(lambda tx: tx.packet(packet["id"]))
    assert row.view.secret_hash is not None and len(row.view.secret_hash) == 32
    assert code not in str(row.view.extra) and code.encode() not in row.view.secret_hash
    replies = hb.store.read_sync(lambda tx: tx.conn.exec_driver_sql("SELECT response FROM idempotency_keys").all())
    assert all(code not in r[0] for r in replies)
    assert_problem(client.get(f"/v1/packets/{packet['id']}/secret", headers=stranger.headers), 404, "packet_not_found")
    assert_problem(client.get(f"/v1/packets/{packet['id']}", headers=stranger.headers), 404, "packet_not_found")


def test_a_wrong_code_gives_404_wrong_code_and_the_generic_open_without_code_gives_wrong_code(client, new_user):
    sender, stranger = new_user("sender", fen=1_000), new_user("stranger")
    packet = send_face_to_face(client, sender)
    wrong = f"{(int(packet['code']) + 1) % 1_000_000:06d}"
    assert_problem(post(client, "/v1/codes/open", stranger, {"code": wrong}), 404, "wrong_code")
    assert_problem(post(client, "/v1/codes/open", stranger, {"code": "12ab56"}), 422, "invalid_code")
    assert_problem(client.post(f"/v1/packets/{packet['id']}/open", headers=stranger.headers), 403, "wrong_code")


def test_too_many_wrong_codes_give_429_for_that_user_even_with_the_right_code(client, hb, new_user):
    sender, guesser, honest = new_user("sender", fen=1_000), new_user("guesser"), new_user("honest")
    code = send_face_to_face(client, sender)["code"]
    wrongs = [f"{(int(code) + i) % 1_000_000:06d}" for i in range(1, 12)]
    answers = [post(client, "/v1/codes/open", guesser, {"code": w}).status_code for w in wrongs]
    assert answers == [404] * 10 + [429]
    assert_problem(post(client, "/v1/codes/open", guesser, {"code": code}), 429, "too_many_attempts")
    assert post(client, "/v1/codes/open", honest, {"code": code}).status_code == 200


def test_too_many_wrong_codes_from_one_address_give_429_to_every_user_there(client, hb, new_user):
    sender = new_user("sender", fen=1_000)
    code = send_face_to_face(client, sender)["code"]
    guessers = [new_user("guesser") for _ in range(6)]
    answers = []
    for i in range(55):
        wrong = f"{(int(code) + 1 + i) % 1_000_000:06d}"
        answers.append(post(client, "/v1/codes/open", guessers[i % 6], {"code": wrong}).status_code)
    assert answers.count(404) == 50 and answers[50:] == [429] * 5  # 50 per address, every user behind it


def test_a_distance_check_gives_too_far_and_location_required_and_admits_the_near(client, new_user):
    sender, near, far = new_user("sender", fen=1_000), new_user("near"), new_user("far")
    packet = send_face_to_face(client, sender, lat=39.9055, lng=116.3976, radius_m=100)
    code = packet["code"]
    assert_problem(post(client, "/v1/codes/open", far, {"code": code, "lat": 39.9163, "lng": 116.3972}), 403, "too_far")
    assert_problem(post(client, "/v1/codes/open", far, {"code": code}), 422, "location_required")
    ok = post(client, "/v1/codes/open", near, {"code": code, "lat": 39.9058, "lng": 116.3978})
    assert ok.status_code == 200, ok.text


def test_the_qr_image_gives_a_png_to_the_sender_only(client, new_user):
    sender, stranger = new_user("sender", fen=1_000), new_user("stranger")
    packet = send_face_to_face(client, sender)
    qr = client.get(f"/v1/packets/{packet['id']}/qr.png", headers=sender.headers)
    assert qr.status_code == 200 and qr.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(qr.content))
    assert image.format == "PNG" and image.size[0] == image.size[1] >= 200
    assert client.get(f"/v1/packets/{packet['id']}/qr.png", headers=stranger.headers).status_code == 404


def test_an_idempotent_retry_of_a_claim_gives_the_first_answer_and_pays_once(client, hb, new_user):
    sender, claimer = new_user("sender", fen=1_000), new_user("claimer")
    code = send_face_to_face(client, sender)["code"]
    first = post(client, "/v1/codes/open", claimer, {"code": code}, **{"Idempotency-Key": "claim-1"})
    second = post(client, "/v1/codes/open", claimer, {"code": code}, **{"Idempotency-Key": "claim-1"})
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert balance(client, claimer) == first.json()["amount_fen"]
    # The stored fingerprint is of the code's keyed digest: a plain SHA-256 of the body would give the code away.
    stored = hb.store.read_sync(lambda tx: tx.idempotent_reply(claimer.id, "claim-1"))
    bare = IdempotencyKey.of(claimer.id, "claim-1", "open_code", {"code": code, "lat": None, "lng": None,
                                                                  "platform": None})
    assert stored is not None and stored[0] != bare.request_hash
    other = post(client, "/v1/codes/open", claimer, {"code": "000000"}, **{"Idempotency-Key": "claim-1"})
    assert_problem(other, 409, "idempotency_key_reused")


def test_an_expired_code_is_freed_and_refunded(client, hb, clock, new_user):
    sender, late = new_user("sender", fen=1_000), new_user("late")
    code = send_face_to_face(client, sender)["code"]
    clock.advance(hours=25)
    import asyncio

    assert asyncio.run(hb.packets.expire_due()) == 1
    assert_problem(post(client, "/v1/codes/open", late, {"code": code}), 404, "wrong_code")
    assert balance(client, sender) == 1_000
    assert hb.store.read_sync(lambda tx: tx.conn.exec_driver_sql("SELECT count(*) FROM live_secrets").scalar()) == 0
