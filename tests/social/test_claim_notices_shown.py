"""Claim notices go, as in WeChat, only to the two they involve: the claimer and the packet's sender."""

from __future__ import annotations

from collections.abc import Callable

from tests.api.conftest import TestClient, User, make_group, send_lucky, top_up
from tests.social.test_conversations_api import _messages


def test_a_group_member_sees_only_the_claim_notices_that_involve_them(
    client: TestClient, new_user: Callable[..., User]
) -> None:
    # given a group of four and mum's lucky packet, opened by Ming and Hong
    mum, ming, hong, li = (new_user(n) for n in ("mum", "ming", "hong", "li"))
    group_id = make_group(client, mum, [ming, hong, li])
    top_up(client, mum, 10_000)
    packet = send_lucky(client, mum, group_id, total_fen=1_000, shares_count=3)
    for kid in (ming, hong):
        assert client.post(f"/v1/packets/{packet['id']}/open", headers=kid.headers).status_code == 200
    cid = client.post("/v1/conversations", json={"group_id": group_id}, headers=mum.headers).json()["id"]

    def claimers_seen_by(user: User) -> list[int]:
        shown = _messages(client, user, cid)["messages"]
        return sorted(m["data"]["user_id"] for m in shown if m["type"] == "claim")

    # then mum (the sender) sees both, Ming and Hong each only their own, Li none; everyone sees the packet
    assert claimers_seen_by(mum) == sorted([ming.id, hong.id])
    assert claimers_seen_by(ming) == [ming.id]
    assert claimers_seen_by(hong) == [hong.id]
    assert claimers_seen_by(li) == []
    assert any(m["type"] == "packet" for m in _messages(client, li, cid)["messages"])


def test_the_conversation_list_previews_and_counts_only_what_the_reader_is_shown(
    client: TestClient, new_user: Callable[..., User]
) -> None:
    # given a group whose newest message is Ming's claim notice of mum's packet
    mum, ming, li = (new_user(n) for n in ("mum", "ming", "li"))
    group_id = make_group(client, mum, [ming, li])
    top_up(client, mum, 10_000)
    packet = send_lucky(client, mum, group_id, total_fen=1_000, shares_count=3)
    assert client.post(f"/v1/packets/{packet['id']}/open", headers=ming.headers).status_code == 200
    # then Li's list previews the packet (not the notice) and counts only the packet as unread
    row = client.get("/v1/conversations", headers=li.headers).json()["conversations"][0]
    assert row["last_message"]["type"] == "packet" and row["unread_count"] == 1
    # and mum, whose packet it is, is previewed the notice
    assert client.get("/v1/conversations", headers=mum.headers).json()["conversations"][0]["last_message"]["type"] \
        == "claim"
