"""Chat as in WeChat: times between messages, claim notices only for those they involve, dates on records."""

from __future__ import annotations

import re
from typing import Any

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture then skips with the reason (fails under CI=true)
    expect = None

from tests.e2e.server import call, token_of

DATE_TIME = re.compile(r"\d{1,2} [A-Z][a-z]{2}(?: \d{4})? \d\d:\d\d")


def test_a_member_sees_times_and_only_the_claim_notices_that_involve_them(phone: Any, base_url: str) -> None:
    # given Alice's lucky packet in the demo group, opened by Carol and by Dave
    alice = token_of(base_url, "alice")
    group = call(base_url, "GET", "/v1/groups", alice)[0]
    packet = call(base_url, "POST", "/v1/packets", alice, {"kind": "group", "group_id": group["id"],
                                                           "split": "double_mean", "shares_count": 3,
                                                           "total_fen": 300, "greeting": "e2e who sees"})
    for name in ("carol", "dave"):
        call(base_url, "POST", f"/v1/packets/{packet['id']}/open", token_of(base_url, name))
    # when Carol and Bob look at the group chat
    carol, bob = phone("carol"), phone("bob")
    for page in (carol, bob):
        page.click(f"#groups [data-group='{group['id']}']")
        expect(page.locator(".bubble", has_text="e2e who sees")).to_be_visible()
    # then Carol sees her own claim, not Dave's, and Bob sees neither
    expect(carol.locator("#messages li.notice.claim", has_text="You opened")).to_have_count(1)
    expect(carol.locator("#messages li.notice.claim", has_text="Dave")).to_have_count(0)
    for other in ("Carol", "Dave"):  # (Bob's own claims from other tests he does see)
        expect(bob.locator("#messages li.notice.claim", has_text=other)).to_have_count(0)
    # and the chat shows when its messages were sent
    expect(bob.locator("#messages li.msg-time").first).to_have_text(re.compile(r"\d\d:\d\d"))


def test_the_yearly_report_gives_the_date_of_the_largest_packet(phone: Any, base_url: str) -> None:
    # given Dave opened a packet from Alice this year
    alice, dave_token = token_of(base_url, "alice"), token_of(base_url, "dave")
    dave_id = next(f["id"] for f in call(base_url, "GET", "/v1/friends", alice)["friends"] if f["username"] == "dave")
    packet = call(base_url, "POST", "/v1/packets", alice, {"kind": "personal", "recipient_id": dave_id,
                                                           "amount_fen": 66})
    call(base_url, "POST", f"/v1/packets/{packet['id']}/open", dave_token)
    # then his report says when his largest packet came: date and time, not the time alone
    dave = phone("dave")
    dave.goto("/app/x/report")
    expect(dave.locator("#report-luckiest")).to_contain_text(DATE_TIME)
