"""Share links: a random token per packet, landing pages per platform, claims through links, figures."""

from __future__ import annotations

from tests.api.conftest import assert_problem, balance
from tests.open.conftest import post, send_face_to_face, send_password, verify_celebrity


def share(client, user, packet_id, platform, **extra):
    response = post(client, f"/v1/packets/{packet_id}/shares", user, {"platform": platform, **extra})
    assert response.status_code == 201, response.text
    return response.json()


def test_a_share_link_gives_a_random_token_not_the_packet_id_and_a_landing_page_naming_the_platform(client, new_user):
    sender = new_user("sender", fen=1_000)
    packet = send_password(client, sender, "金玉满堂")
    link = share(client, sender, packet["id"], "wechat")
    assert link["path"] == f"/s/{link['token']}?platform=wechat"
    assert len(link["token"]) >= 16 and str(packet["id"]) != link["token"]
    assert share(client, sender, packet["id"], "weibo")["token"] == link["token"]  # one link, many platforms

    page = client.get(link["path"])
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "微信" in page.text and "WeChat" in page.text
    assert "输入你收到的口令" in page.text and "Type the phrase you were given" in page.text
    assert "金玉满堂" not in page.text  # never the phrase unless the sharer embeds it
    card = client.get(f"/s/{link['token']}/card.png")
    assert card.status_code == 200 and card.headers["content-type"] == "image/png"
    assert client.get("/s/notatokenatall").status_code == 404


def test_an_embedded_link_shows_the_phrase_and_opens_without_typing_it(client, new_user):
    sender, claimer = new_user("sender", fen=1_000), new_user("claimer")
    packet = send_password(client, sender, "吉祥如意")
    link = share(client, sender, packet["id"], "qq", embed_secret=True)
    assert "吉祥如意" in client.get(link["path"]).text
    got = post(client, f"/v1/shares/{link['token']}/open", claimer, {"platform": "qq"})
    assert got.status_code == 200, got.text
    assert balance(client, claimer) == 100


def test_a_link_open_without_the_right_secret_gives_wrong_code_and_counts_as_a_guess(client, new_user):
    sender, guesser = new_user("sender", fen=1_000), new_user("guesser")
    packet = send_face_to_face(client, sender)
    token = share(client, sender, packet["id"], "alipay")["token"]
    for _ in range(10):
        assert_problem(post(client, f"/v1/shares/{token}/open", guesser, {"secret": "000000"}), 403, "wrong_code")
    assert_problem(post(client, f"/v1/shares/{token}/open", guesser, {"secret": packet["code"]}), 429,
                   "too_many_attempts")
    ok = post(client, f"/v1/shares/{token}/open", new_user("friend"), {"secret": packet["code"]})
    assert ok.status_code == 200, ok.text


def test_only_the_sender_shares_and_sees_figures_and_only_open_kinds_have_links(client, hb, new_user):
    sender, stranger = new_user("sender", fen=1_000), new_user("stranger")
    packet = send_password(client, sender, "步步高升")
    assert_problem(post(client, f"/v1/packets/{packet['id']}/shares", stranger, {"platform": "wechat"}), 404)
    assert_problem(client.get(f"/v1/packets/{packet['id']}/figures", headers=stranger.headers), 404)
    assert_problem(post(client, f"/v1/packets/{packet['id']}/shares", sender, {"platform": "myspace"}), 422,
                   "invalid_platform")
    friend = new_user("friend")
    from tests.api.conftest import befriend, send_personal

    befriend(client, sender, friend)
    personal = send_personal(client, sender, friend, 100)
    assert_problem(post(client, f"/v1/packets/{personal['id']}/shares", sender, {"platform": "wechat"}), 422,
                   "not_shareable")


def test_figures_give_shares_views_and_claims_by_platform_and_channel(client, hb, new_user):
    star = new_user("star", fen=100_000)
    verify_celebrity(hb, star)
    fans = [new_user("fan") for _ in range(3)]
    for fan in fans:
        client.post(f"/v1/users/{star.id}/follow", headers=fan.headers)
    packet = post(client, "/v1/packets/celebrity", star,
                  {"split": "equal", "shares_count": 10, "amount_each_fen": 100}).json()
    token = share(client, star, packet["id"], "weibo")["token"]
    share(client, star, packet["id"], "wechat")
    client.get(f"/s/{token}?platform=weibo")
    client.get(f"/s/{token}?platform=weibo&channel=app")
    assert post(client, f"/v1/shares/{token}/open", fans[0], {"platform": "weibo"}).status_code == 200
    assert post(client, f"/v1/shares/{token}/open", fans[1], {"platform": "weibo"},
                **{"X-Client-Channel": "app"}).status_code == 200
    assert client.post(f"/v1/packets/{packet['id']}/open", headers=fans[2].headers).status_code == 200

    figures = client.get(f"/v1/packets/{packet['id']}/figures", headers=star.headers).json()
    assert figures["shares"]["by_platform"]["weibo"] == 1 and figures["shares"]["by_platform"]["wechat"] == 1
    assert figures["views"]["by_platform"]["weibo"] == 2
    assert figures["views"]["by_channel"] == {"app": 1, "web": 1}
    assert figures["claims"]["total"] == 3 == figures["claimed_count"]
    assert figures["claims"]["by_platform"]["weibo"] == 2 and figures["claims"]["by_platform"]["direct"] == 1
    assert figures["claims"]["by_channel"] == {"app": 2, "web": 1}


def test_a_face_to_face_landing_page_hides_the_code_and_its_qr_encodes_a_link_that_opens(client, hb, new_user):
    from hongbao.adapters.images import qr_png

    sender, scanner = new_user("sender", fen=1_000), new_user("scanner")
    packet = send_face_to_face(client, sender, lat=31.2304, lng=121.4737, radius_m=200)
    link = share(client, sender, packet["id"], "laiwang")
    page = client.get(link["path"])
    assert "来往" in page.text and "Laiwang" in page.text and "200" in page.text
    assert packet["code"] not in page.text

    qr = client.get(f"/v1/packets/{packet['id']}/qr.png", headers=sender.headers).content
    embedded = hb.store.read_sync(lambda tx: tx.share_link_of(packet["id"], True))
    assert embedded is not None and embedded != link["token"]
    assert qr == qr_png(f"http://testserver/s/{embedded}")
    got = post(client, f"/v1/shares/{embedded}/open", scanner, {"lat": 31.2305, "lng": 121.4737})
    assert got.status_code == 200, got.text


def test_the_landing_page_writes_a_claimed_amount_from_integer_fen_never_by_a_float_division(client, new_user):
    sender = new_user("sender", fen=1_000)
    link = share(client, sender, send_password(client, sender, "年年有鱼")["id"], "wechat")
    page = client.get(link["path"]).text
    # its yuan() slices the digits of the fen (checked against format_fen in tests/e2e/test_share.py)
    assert "yuan(j.amount_fen)" in page and "function yuan(n)" in page
    assert "/100" not in page and "toFixed" not in page
