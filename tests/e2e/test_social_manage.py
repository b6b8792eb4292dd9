"""Managing friends and groups in the browser (withdraw, remove, leave) and server notices in the reader's language.

Every test registers fresh people, so the demo users' friendships and group stay as the other tests expect them.
"""

from __future__ import annotations

import uuid
from typing import Any

from tests.e2e.server import PHONE, call, token_of

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture then skips with the reason (fails under CI=true)
    expect = None

PASSWORD = "hongbao123"


class Person:
    """A fresh user registered through the API: username, display name, id and a token for set-up calls."""

    def __init__(self, base_url: str, name: str) -> None:
        self.name = name
        self.username = f"{name}_{uuid.uuid4().hex[:8]}"
        body = {"username": self.username, "password": PASSWORD, "display_name": name}
        self.id: int = call(base_url, "POST", "/v1/users", body=body)["id"]
        self.token = token_of(base_url, self.username)


def befriend(base_url: str, a: Person, b: Person) -> None:
    call(base_url, "POST", "/v1/friends/requests", a.token, {"user_id": b.id})
    call(base_url, "POST", f"/v1/friends/requests/{a.id}/accept", b.token)


def log_in(browser: Any, base_url: str, person: Person, locale: str = "en-US") -> Any:
    """A phone logged in through the login page's form (the language follows `locale`)."""
    context = browser.new_context(viewport=PHONE, locale=locale, base_url=base_url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto("/app/login")
    page.fill("#username", person.username)
    page.fill("#password", PASSWORD)
    page.press("#password", "Enter")
    page.wait_for_selector("#groups")
    return page


def test_a_friend_request_you_sent_can_be_withdrawn_before_it_is_answered(browser: Any, base_url: str) -> None:
    # given Mei asked Lin from the friends page
    mei, lin = Person(base_url, "mei"), Person(base_url, "lin")
    page = log_in(browser, base_url, mei)
    try:
        page.goto("/app/x/friends")
        page.fill("#friend-username", lin.username)
        page.click("#friend-request")
        sent = page.locator("#friend-sent li[data-sent]")
        expect(sent).to_have_count(1)
        expect(sent).to_contain_text("lin")

        # when she withdraws it
        sent.locator("button[data-withdraw]").click()

        # then it is gone from her page and Lin has nothing to answer
        expect(page.locator("#toast")).to_have_text("Friend request withdrawn")
        expect(page.locator("#friend-sent")).to_be_hidden()
        assert call(base_url, "GET", "/v1/friends", lin.token)["requests"] == []
    finally:
        page.context.close()


def test_a_friend_is_removed_only_after_the_confirm_step(browser: Any, base_url: str) -> None:
    # given Lin accepted Mei's request on the friends page
    mei, lin = Person(base_url, "mei"), Person(base_url, "lin")
    call(base_url, "POST", "/v1/friends/requests", mei.token, {"user_id": lin.id})
    page = log_in(browser, base_url, lin)
    try:
        page.goto("/app/x/friends")
        page.click(f"#friend-requests button[data-accept='{mei.id}']")
        friend = page.locator(f"#friend-list li[data-friend='{mei.id}']")
        expect(friend).to_have_count(1)

        # when Lin taps remove, then cancels: still friends
        friend.locator("button[data-remove]").click()
        expect(friend).to_contain_text("Remove mei from your friends?")
        friend.locator("button[data-cancel]").click()
        expect(friend.locator("button[data-remove]")).to_be_visible()
        assert [f["id"] for f in call(base_url, "GET", "/v1/friends", mei.token)["friends"]] == [lin.id]

        # when Lin taps remove and confirms
        friend.locator("button[data-remove]").click()
        friend.locator("button[data-confirm]").click()

        # then neither has the other as a friend
        expect(page.locator("#toast")).to_have_text("Friend removed")
        expect(page.locator("#friend-list li[data-friend]")).to_have_count(0)
        assert call(base_url, "GET", "/v1/friends", mei.token)["friends"] == []
    finally:
        page.context.close()


def make_group(base_url: str, owner: Person, members: list[Person], name: str) -> int:
    for member in members:
        befriend(base_url, owner, member)
    body = {"name": name, "member_ids": [m.id for m in members]}
    group_id: int = call(base_url, "POST", "/v1/groups", owner.token, body)["id"]
    return group_id


def test_the_group_owner_removes_a_member_and_only_the_owner_sees_remove(browser: Any, base_url: str) -> None:
    # given Mei's group with Lin and Zhao, and Mei and Lin on their groups pages
    mei, lin, zhao = Person(base_url, "mei"), Person(base_url, "lin"), Person(base_url, "zhao")
    group_id = make_group(base_url, mei, [lin, zhao], "年夜饭")
    mei_page, lin_page = log_in(browser, base_url, mei), log_in(browser, base_url, lin)
    try:
        for page in (mei_page, lin_page):
            page.goto("/app/x/groups")
            page.click(f"details[data-members='{group_id}'] summary")

        # then the owner may remove the two others and not leave; a member may leave and remove nobody
        mine = mei_page.locator(f"details[data-members='{group_id}']")
        expect(mine.locator("button[data-remove-member]")).to_have_count(2)
        expect(mine.locator("button[data-leave]")).to_have_count(0)
        theirs = lin_page.locator(f"details[data-members='{group_id}']")
        expect(theirs.locator("button[data-leave]")).to_have_count(1)
        expect(theirs.locator("button[data-remove-member]")).to_have_count(0)

        # when Mei removes Zhao and confirms
        mine.locator(f"button[data-remove-member='{zhao.id}']").click()
        mine.locator("button[data-confirm]").click()

        # then the group has two members, and Zhao no longer has the group
        group = mei_page.locator(f"#group-list li[data-group='{group_id}']")
        expect(group).to_contain_text("年夜饭 (2)")
        expect(mine.locator(f"li[data-user='{zhao.id}']")).to_have_count(0)
        assert call(base_url, "GET", "/v1/groups", zhao.token) == []
    finally:
        mei_page.context.close()
        lin_page.context.close()


def test_a_member_leaves_a_group_and_is_back_on_the_groups_list_without_it(browser: Any, base_url: str) -> None:
    # given Lin is in Mei's group and in one of his own
    mei, lin = Person(base_url, "mei"), Person(base_url, "lin")
    group_id = make_group(base_url, mei, [lin], "春节")
    own = call(base_url, "POST", "/v1/groups", lin.token, {"name": "lin's own", "member_ids": []})["id"]
    page = log_in(browser, base_url, lin)
    try:
        page.goto("/app/x/groups")
        expect(page.locator("#group-list li[data-group]")).to_have_count(2)

        # when he leaves Mei's group and confirms
        page.click(f"details[data-members='{group_id}'] summary")
        page.click(f"button[data-leave='{group_id}']")
        page.click(f"details[data-members='{group_id}'] button[data-confirm]")

        # then he is on the groups list, which keeps only his own group, and Mei's group has one member
        expect(page.locator("#toast")).to_have_text("You left “春节”")
        expect(page.locator("#group-list li[data-group]")).to_have_count(1)
        expect(page.locator(f"#group-list li[data-group='{own}']")).to_have_count(1)
        assert page.url.endswith("/app/x/groups")
        assert [m["id"] for m in call(base_url, "GET", f"/v1/groups/{group_id}", mei.token)["members"]] == [mei.id]
    finally:
        page.context.close()


def test_a_transfer_notice_reads_in_chinese_or_english_as_the_reader_chooses(browser: Any, base_url: str) -> None:
    # given Mei transferred ¥12.34 to her friend Lin, who reads Chinese
    mei, lin = Person(base_url, "mei"), Person(base_url, "lin")
    befriend(base_url, mei, lin)
    call(base_url, "POST", "/v1/wallet/top-ups", mei.token, {"amount_fen": 5_000})
    call(base_url, "POST", "/v1/transfers", mei.token, {"to_user_id": lin.id, "amount_fen": 1234})
    conversation = call(base_url, "POST", "/v1/conversations", lin.token, {"user_id": mei.id})["id"]
    page = log_in(browser, base_url, lin, locale="zh-CN")
    try:
        # when Lin opens the conversation
        page.goto(f"/app/c/{conversation}")

        # then the notice is in Chinese, with Mei's name and the amount
        notice = page.locator("#messages li.notice.system")
        expect(notice).to_have_text("mei向你转账¥12.34，等待收款")

        # when Lin switches to English, then the same notice reads in English
        page.click("#lang")
        expect(notice).to_have_text("mei sent you a transfer of ¥12.34: waiting to be accepted")
    finally:
        page.context.close()
