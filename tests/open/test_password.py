"""口令红包 over HTTP: send, claim by phrase, uniqueness among live packets, the card, guessing limits."""

from __future__ import annotations

import io

from PIL import Image

from tests.api.conftest import assert_problem, balance
from tests.open.conftest import post, send_password


def test_a_password_packet_gives_shares_to_anyone_who_types_the_phrase_in_any_spacing_or_width(client, new_user):
    sender = new_user("sender", fen=1_000)
    packet = send_password(client, sender, "马到成功 HongBao", greeting="新春快乐")
    assert packet["phrase"] == "马到成功 HongBao" and packet["kind"] == "password"
    typed = ["马到成功 hongbao", "  马到成功　ＨＯＮＧＢＡＯ ", "马到成功   HongBao"]
    for text in typed:
        claimer = new_user("claimer")
        got = post(client, "/v1/phrases/open", claimer, {"phrase": text})
        assert got.status_code == 200, got.text
        assert got.json()["amount_fen"] == 100 and balance(client, claimer) == 100
    assert_problem(post(client, "/v1/phrases/open", new_user("late"), {"phrase": "马到成功 HongBao"}), 409,
                   "packet_exhausted")


def test_a_phrase_already_live_gives_phrase_taken_and_is_free_again_once_that_packet_is_finished(client, new_user):
    alice, bob = new_user("alice", fen=1_000), new_user("bob", fen=1_000)
    send_password(client, alice, "年年有余", shares_count=1, amount_each_fen=100)
    taken = post(client, "/v1/packets/password", bob,
                 {"phrase": "  年年有余 ", "split": "equal", "shares_count": 1, "amount_each_fen": 100})
    assert_problem(taken, 409, "phrase_taken")
    assert balance(client, bob) == 1_000  # refused before any money moved
    assert post(client, "/v1/phrases/open", new_user("c"), {"phrase": "年年有余"}).status_code == 200
    again = send_password(client, bob, "年年有余", shares_count=1, amount_each_fen=100)
    got = post(client, "/v1/phrases/open", new_user("d"), {"phrase": "年年有余"})
    assert got.status_code == 200 and got.json()["packet_id"] == again["id"]


def test_a_wrong_phrase_gives_404_wrong_phrase_and_too_many_give_429(client, new_user):
    sender, guesser = new_user("sender", fen=1_000), new_user("guesser")
    send_password(client, sender, "恭喜发财")
    answers = [post(client, "/v1/phrases/open", guesser, {"phrase": f"猜{i}"}).status_code for i in range(11)]
    assert answers == [404] * 10 + [429]
    assert_problem(post(client, "/v1/phrases/open", guesser, {"phrase": "恭喜发财"}), 429, "too_many_attempts")
    assert_problem(post(client, "/v1/phrases/open", new_user("x"), {"phrase": "恭喜发"}), 404, "wrong_phrase")


def test_the_card_gives_a_png_to_the_sender_only(client, new_user):
    sender, stranger = new_user("sender", fen=1_000), new_user("stranger")
    packet = send_password(client, sender, "龙马精神")
    card = client.get(f"/v1/packets/{packet['id']}/card.png", headers=sender.headers)
    assert card.status_code == 200 and card.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(card.content)).size == (720, 960)
    assert client.get(f"/v1/packets/{packet['id']}/card.png", headers=stranger.headers).status_code == 404
    assert client.get(f"/v1/packets/{packet['id']}/secret", headers=sender.headers).json()["phrase"] == "龙马精神"


def test_campaign_sized_password_packets_accept_many_shares_and_refuse_more_than_the_setting(client, new_user):
    brand = new_user("brand", fen=2_000_000)
    big = send_password(client, brand, "双十一快乐", split="double_mean", shares_count=10_000, total_fen=1_000_000,
                        amount_each_fen=None)
    assert big["shares_count"] == 10_000
    too_many = post(client, "/v1/packets/password", brand,
                    {"phrase": "another", "split": "equal", "shares_count": 10_001, "amount_each_fen": 1})
    assert_problem(too_many, 422, "invalid_share_count")
    assert_problem(post(client, "/v1/packets/password", brand,
                        {"phrase": "  ", "split": "equal", "shares_count": 1, "amount_each_fen": 1}),
                   422, "invalid_phrase")
