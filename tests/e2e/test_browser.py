"""The browser app in Chromium: two people on two phones send, open and watch red packets live."""

from __future__ import annotations

from typing import Any

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture then skips with the reason (fails under CI=true)
    expect = None

from tests.e2e.server import fen_of, yuan


def open_group_chat(page: Any) -> None:
    page.click("#groups [data-group]")
    page.wait_for_selector("#send-packet")


def send_lucky(page: Any, shares: str, amount: str, greeting: str) -> None:
    page.click("#send-packet")
    page.fill("#shares", shares)
    page.fill("#amount", amount)
    page.fill("#greeting", greeting)
    page.click("#send-btn")


def test_lucky_packet_sent_by_a_is_opened_by_b_while_a_watches_the_claim_list_live(phone: Any) -> None:
    # given Alice and Bob, each on a phone, in the group chat
    alice, bob = phone("alice"), phone("bob")
    open_group_chat(alice)
    open_group_chat(bob)
    bob.evaluate("window.__same_page = true")
    alice.evaluate("window.__same_page = true")

    # when Alice sends a lucky packet of ¥6.66 in 3 shares
    send_lucky(alice, "3", "6.66", "e2e lucky 拼手气")

    # then it appears in Bob's chat without a reload
    bubble = bob.locator(".bubble", has_text="e2e lucky 拼手气").last
    expect(bubble).to_be_visible()
    packet_id = bubble.get_attribute("data-packet")

    # and Alice watches its claim list while Bob opens it (拆) and sees his amount
    alice.click(f".bubble[data-packet='{packet_id}']")
    alice.click(".envelope-details")
    expect(alice.locator("#claims-summary")).to_contain_text("0/3")
    bubble.click()
    bob.click("#open-btn")
    amount = bob.locator("#my-amount .amount-number")
    expect(amount).to_be_visible()
    bob_fen = fen_of(amount.inner_text())
    assert 1 <= bob_fen <= 666 - 2

    claim = alice.locator("#claims li[data-user]", has_text="Bob")
    expect(claim).to_be_visible()
    assert fen_of(claim.inner_text()) == bob_fen
    expect(alice.locator("#claims-summary")).to_contain_text("1/3")
    assert alice.evaluate("window.__same_page") is True
    assert bob.evaluate("window.__same_page") is True


def test_a_bad_amount_shows_an_error_inline_and_sends_nothing(phone: Any) -> None:
    # given Carol on the send dialog of the group
    carol = phone("carol")
    open_group_chat(carol)
    bubbles_before = carol.locator(".bubble").count()

    # when she types an amount with three decimals, then one above the packet limit
    send_lucky(carol, "2", "1.234", "too precise")
    error = carol.locator("#send-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("two decimals")
    carol.fill("#amount", "300")
    carol.click("#send-btn")

    # then the refusal is worded from its code and limit (in yuan), and no packet went out
    expect(error).to_contain_text("A red packet is at most ¥200.00")
    carol.click("#back")
    carol.wait_for_selector("#messages", state="attached")  # an empty chat's list has no height: not "visible"
    expect(carol.locator(".bubble")).to_have_count(bubbles_before)


def test_wallet_top_up_adds_to_the_balance_and_heads_the_statement(phone: Any) -> None:
    # given Dave on his wallet
    dave = phone("dave")
    dave.click("[data-tab=wallet]")
    balance = dave.locator("#balance")
    expect(balance).to_contain_text("¥")
    before = fen_of(balance.inner_text())

    # when he tops up ¥12.34 through the sandbox channel
    dave.fill("#topup-amount", "12.34")
    dave.click("#topup-btn")

    # then the balance grows by exactly 1234 fen and the statement starts with the top-up
    expect(balance).to_have_text(yuan(before + 1234))
    expect(dave.locator("#statement li").first).to_contain_text("+¥12.34")
    expect(dave.locator("#statement li").first).to_have_attribute("data-kind", "top_up")


def test_a_send_retried_after_a_lost_answer_reuses_its_key_and_sends_one_packet(phone: Any) -> None:
    # given Dave's phone loses the answer to his first send (the server did get it)
    dave = phone("dave")
    open_group_chat(dave)
    greeting = "e2e retried send"
    keys: list[str] = []

    def lose_first_answer(route: Any) -> None:
        keys.append(route.request.headers["idempotency-key"])
        if len(keys) == 1:
            route.fetch()  # the server sends the packet…
            route.abort()  # …but the answer never arrives
        else:
            route.continue_()

    dave.route("**/v1/packets", lose_first_answer)
    send_lucky(dave, "2", "1.00", greeting)
    expect(dave.locator("#send-error")).to_contain_text("Network error")

    # when he taps send again with the same packet
    dave.click("#send-btn")

    # then the retry carried the same Idempotency-Key, and the chat shows one packet, not two
    dave.wait_for_selector("#messages")
    expect(dave.locator(".bubble", has_text=greeting)).to_have_count(1)
    assert len(keys) == 2 and keys[0] == keys[1]
