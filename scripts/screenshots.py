"""Phone-sized (390×844) screenshots of the browser app's pages into docs/screenshots/, one small scene each.

Starts `hongbao serve` with demo data on a throwaway folder (the e2e tests' helper), sets up what each page
needs through the JSON API as a client would, and drives Debian's Chromium with Playwright:
    python scripts/screenshots.py [--lang zh|en] [--out DIR]
File names are numbered and stable (the README links them); English versions end in `-en`.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Browser, Page, sync_playwright  # noqa: E402
from tests.e2e.server import CHROMIUM, CHROMIUM_ARGS, PHONE, call, running_server, token_of  # noqa: E402

# By the demo shop (src/hongbao/seed.py DEMO_SHOP): Tiananmen, about 560 m away.
BEIJING = {"latitude": 39.9042, "longitude": 116.4074}
LOCALES = {"zh": "zh-CN", "en": "en-US"}  # for dates the page formats itself


SCROLL = """at => {
  const el = at && document.querySelector(at);
  const bar = document.querySelector('.topbar')?.offsetHeight ?? 0;  // the share landing page has none
  window.scrollTo(0, el ? el.getBoundingClientRect().top + window.scrollY - bar - 8 : 0);
}"""


class Stage:
    """The demo server, one logged-in phone per demo user, and the API as each of them."""

    def __init__(self, base: str, browser: Browser, out: Path, lang: str) -> None:
        self.base, self.browser, self.out, self.lang = base, browser, out, lang
        self.suffix = "" if lang == "zh" else "-en"
        self._phones: dict[str, Page] = {}
        self._tokens: dict[str, str] = {}
        self._ids: dict[str, int] = {}

    def new_page(self) -> Page:
        context = self.browser.new_context(
            viewport=PHONE, device_scale_factor=1, locale=LOCALES[self.lang], timezone_id="Asia/Shanghai",
            geolocation=BEIJING, permissions=["geolocation", "clipboard-read", "clipboard-write"],
        )  # fmt: skip
        page = context.new_page()
        page.goto(self.base + "/app/login")
        page.evaluate("lang => localStorage.setItem('hongbao.lang', lang)", self.lang)
        page.goto(self.base + "/app/login")
        page.wait_for_selector(".demo-user")
        return page

    def phone(self, username: str) -> Page:
        """A phone logged in as a demo user (one per user, kept for the whole run)."""
        if username not in self._phones:
            page = self.new_page()
            page.click(f"button[data-username={username}]")
            page.wait_for_selector("#conversations, #groups")
            self._phones[username] = page
        return self._phones[username]

    def goto(self, username: str, path: str, ready: str) -> Page:
        page = self.phone(username)
        page.goto(path if path.startswith("http") else self.base + path)
        page.wait_for_selector(ready)
        return page

    def token(self, username: str) -> str:
        if username not in self._tokens:
            self._tokens[username] = token_of(self.base, username)
        return self._tokens[username]

    def api(self, username: str | None, method: str, path: str, body: Any = None) -> Any:
        return call(self.base, method, path, self.token(username) if username else None, body)

    def user_id(self, username: str) -> int:
        if username not in self._ids:
            self._ids[username] = self.api("alice", "GET", f"/v1/users?username={username}")["id"]
        return self._ids[username]

    def shoot(self, page: Page, name: str, *, at: str | None = None, blur: bool = False) -> None:
        """Save the phone's screen: from the top of the page, or scrolled so that `at` sits under the top bar."""
        page.evaluate(SCROLL, at)
        if blur:  # no focus ring on the last field filled in
            page.evaluate("document.activeElement?.blur()")
        page.wait_for_timeout(350)  # let animations settle
        page.evaluate("document.getElementById('toast')?.setAttribute('class', 'toast')")
        page.wait_for_timeout(250)
        path = self.out / f"{name}{self.suffix}.png"
        page.screenshot(path=str(path))
        print("wrote", path)


def in_minutes(minutes: float) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat()


def demo_group(s: Stage) -> int:
    """The demo users' group (the first made)."""
    return min(g["id"] for g in s.api("alice", "GET", "/v1/groups"))


def first_offer(s: Stage) -> int:
    """ACME's seeded coupon offer (¥10 off ¥50 at its shop)."""
    offer_id: int = s.api("acme", "GET", "/v1/merchants")["merchants"][0]["offers"][0]["id"]
    return offer_id


def followers_campaign(s: Stage) -> int:
    """ACME's seeded campaign for its followers."""
    mine = s.api("acme", "GET", "/v1/campaigns")["campaigns"]
    campaign_id: int = next(c["id"] for c in mine if c["channel"] == "followers")
    return campaign_id


def give_coupon(s: Stage, username: str) -> tuple[int, str]:
    """ACME hands `username` a coupon through a coupon-only link campaign; returns the coupon's number and the
    redeem code its holder's coupon list shows."""
    campaign = s.api("acme", "POST", "/v1/campaigns", {
        "channel": "link", "name": "ACME 开业礼 Opening", "ends_at": in_minutes(7 * 24 * 60), "budget_fen": 0,
        "prizes": [{"kind": "coupon", "offer_id": first_offer(s), "weight": 1}], "per_user_max": 1,
    })  # fmt: skip
    s.api(username, "POST", f"/v1/campaigns/{campaign['id']}/claim", {"token": campaign["link_token"]})
    newest = s.api(username, "GET", "/v1/coupons")["coupons"][0]
    return int(newest["id"]), str(newest["redeem_code"])


# ---------------------------------------------------------------------- 01–14: the main pages


def login(s: Stage) -> None:
    page = s.new_page()
    s.shoot(page, "01-login")
    page.context.close()


def group_chat(s: Stage) -> None:
    """Carol's equal packet (opened by Dave), then Alice's lucky one from the send dialog, opened by two."""
    equal = s.api("carol", "POST", "/v1/packets", {
        "kind": "group", "group_id": demo_group(s), "split": "equal", "shares_count": 3,
        "amount_each_fen": 666, "greeting": "六六大顺",
    })  # fmt: skip
    s.api("dave", "POST", f"/v1/packets/{equal['id']}/open")
    alice = s.phone("alice")
    s.phone("bob")  # logged in before Alice sends, so the packet arrives live
    alice.click("[data-group]")
    alice.wait_for_selector("#send-packet")
    alice.click("#send-packet")
    alice.fill("#shares", "3")
    alice.fill("#amount", "88.88")
    alice.fill("#greeting", "马年大吉，拼手气！")
    s.shoot(alice, "04-send-lucky")
    alice.click("#send-btn")
    alice.wait_for_selector(".bubble")
    packet_id = int(alice.locator(".bubble").last.get_attribute("data-packet") or 0)
    for who in ("carol", "dave"):
        s.api(who, "POST", f"/v1/packets/{packet_id}/open")
    alice.wait_for_timeout(600)
    s.shoot(alice, "03-chat")


def open_packet(s: Stage) -> None:
    bob = s.goto("bob", "/app", "#conversations, #groups")
    s.shoot(bob, "02-home")
    bob.click("[data-conversation], [data-group]")
    bob.locator(".bubble").last.click()
    bob.wait_for_selector("#open-btn")
    s.shoot(bob, "05-envelope")
    bob.click("#open-btn")
    bob.wait_for_selector("#my-amount")
    s.shoot(bob, "06-opened")


def wallet_and_more(s: Stage) -> None:
    # A transfer from Alice and a packet from Carol, so the statement names who and what (红包 · 来自Carol).
    paid = s.api("alice", "POST", "/v1/transfers", {"to_user_id": s.user_id("bob"), "amount_fen": 5200, "note": "奶茶"})
    s.api("bob", "POST", f"/v1/transfers/{paid['id']}/accept")
    packet = s.api("carol", "POST", "/v1/packets", {"kind": "personal", "recipient_id": s.user_id("bob"),
                                                    "amount_fen": 888, "greeting": "生日快乐"})
    s.api("bob", "POST", f"/v1/packets/{packet['id']}/open")
    s.shoot(s.goto("bob", "/app/wallet", "#statement li"), "07-wallet")
    s.shoot(s.goto("bob", "/app/wallet", "#statement li[data-category=transfer]"), "34-statement", at="#statement")
    s.shoot(s.goto("bob", "/app/more", "#logout"), "08-more")


def refusal(s: Stage) -> None:
    """A refusal in the reader's language with its limit in yuan: ¥300 in a personal packet (at most ¥200)."""
    carol = s.goto("carol", f"/app/send/friend/{s.user_id('alice')}", "#amount")
    carol.fill("#amount", "300")
    carol.click("#send-btn")
    carol.wait_for_selector("#send-error:not([hidden])")
    s.shoot(carol, "35-refusal", blur=True)


def password(s: Stage) -> None:
    alice = s.goto("alice", "/app/x/password", "#phrase")
    alice.fill("#phrase", "马到成功")
    alice.fill("#shares", "5")
    alice.fill("#amount", "52.00")
    alice.click("#send-btn")
    alice.wait_for_selector("#password-sent img[src^=blob]")
    s.shoot(alice, "09-password-sent")
    bob = s.goto("bob", "/app/x/claim-password", "#phrase")
    bob.fill("#phrase", "马到成功")
    s.shoot(bob, "10-password-claim")


def face_to_face(s: Stage) -> None:
    alice = s.goto("alice", "/app/x/face-to-face", "#shares")
    alice.fill("#shares", "4")
    alice.fill("#amount", "20.00")
    alice.click("#send-btn")
    alice.wait_for_selector("#code-sent img[src^=blob]")
    s.shoot(alice, "11-face-to-face-code")
    bob = s.goto("bob", "/app/x/code", "#code")
    bob.fill("#code", alice.inner_text("#sent-code"))
    s.shoot(bob, "12-enter-code")


def shake(s: Stage) -> None:
    """ACME adds a Lantern Festival event whose round is on now, every shake winning ¥8.88; Bob shakes."""
    event = s.api("acme", "POST", "/v1/shake/events", {
        "name": "元宵摇一摇 Lantern Festival", "win_permille": 1000, "wins_per_user_max": 3,
        "rounds": [{"starts_at": in_minutes(-1), "ends_at": in_minutes(30)}],
    })  # fmt: skip
    s.api("acme", "POST", f"/v1/shake/events/{event['id']}/pools", {
        "name": "ACME 爱克米", "budget_fen": 8880, "prizes": [{"kind": "cash", "amount_fen": 888, "weight": 1}],
    })  # fmt: skip
    bob = s.goto("bob", f"/app/x/shake?event={event['id']}", "#shake-btn")
    bob.click("#shake-btn")
    bob.wait_for_selector("#shake-won, #shake-nothing, #shake-card")
    s.shoot(bob, "13-shake")


def relay(s: Stage) -> None:
    alice = s.goto("alice", "/app/x/relay", "#shares")
    alice.fill("#shares", "2")
    alice.fill("#amount", "6.00")
    alice.click("#send-btn")
    alice.wait_for_selector("#relay-rounds")
    s.shoot(alice, "14-relay")


# ---------------------------------------------------------------------- 15+: everything else


def asks(s: Stage) -> None:
    """Bob's asks: Alice asks him for ¥6.66 (he may answer), he asked Dave, who sent ¥8.88, and Carol."""
    bob, dave = s.user_id("bob"), s.user_id("dave")
    s.api("alice", "POST", "/v1/asks", {"to_user_id": bob, "amount_fen": 666, "message": "新年快乐，求红包！"})
    mine = s.api("bob", "POST", "/v1/asks", {"to_user_id": dave, "amount_fen": 888, "message": "发个红包吧"})
    s.api("dave", "POST", f"/v1/asks/{mine['id']}/fulfil", {"amount_fen": 888, "greeting": "拿去买糖"})
    s.api("bob", "POST", "/v1/asks", {"to_user_id": s.user_id("carol"), "message": "红包拿来"})
    s.shoot(s.goto("bob", "/app/x/asks", "[data-ask]"), "15-asks", at="#asks-received")


def transfers(s: Stage) -> None:
    """Bob's transfers: one from Alice waiting for him, one he sent Carol that she took."""
    bob, carol = s.user_id("bob"), s.user_id("carol")
    s.api("alice", "POST", "/v1/transfers", {"to_user_id": bob, "amount_fen": 20000, "note": "年夜饭 AA"})
    paid = s.api("bob", "POST", "/v1/transfers", {"to_user_id": carol, "amount_fen": 5200, "note": "电影票"})
    s.api("carol", "POST", f"/v1/transfers/{paid['id']}/accept")
    s.shoot(s.goto("bob", "/app/x/transfers", "[data-transfer]"), "16-transfers")


def celebrity(s: Stage) -> None:
    """Bob looks up Star (a verified celebrity) among the accounts he follows."""
    bob = s.goto("bob", "/app/x/celebrity", "#following [data-user]")
    bob.fill("#find-username", "star")
    bob.press("#find-username", "Enter")
    bob.wait_for_selector("#found [data-user]")
    s.shoot(bob, "17-celebrity", blur=True)


def nearby(s: Stage) -> None:
    bob = s.goto("bob", "/app/x/nearby", "#locate-btn")
    bob.click("#locate-btn")
    bob.wait_for_selector("#offers li")
    s.shoot(bob, "18-nearby")


def campaign(s: Stage) -> None:
    """ACME's campaign for its followers, found from the list; Bob draws a prize."""
    for who in ("alice", "carol", "dave"):  # figures for the dashboard later
        s.api(who, "POST", f"/v1/campaigns/{followers_campaign(s)}/claim")
    bob = s.goto("bob", "/app/x/campaign", "#campaign-following [data-campaign]")
    s.shoot(bob, "19-campaigns")
    bob.click("#campaign-following [data-campaign]")
    bob.click("#campaign-claim")
    bob.wait_for_selector("#campaign-won, #campaign-error:not([hidden])")
    s.shoot(bob, "20-campaign-claim")


def coupons(s: Stage) -> None:
    """Bob's coupons: one still good, one already used at the shop."""
    used, code = give_coupon(s, "bob")
    s.api("acme", "POST", f"/v1/coupons/{used}/redeem", {"code": code})
    give_coupon(s, "bob")
    s.shoot(s.goto("bob", "/app/x/coupons", "[data-coupon]"), "21-coupons")


def friends(s: Stage) -> None:
    """Bob's friends: Erin (new) asks to be his friend, he asked Frank."""
    for name, shown in (("erin", "Erin 小芳"), ("frank", "Frank 老王")):
        s.api(None, "POST", "/v1/users", {"username": name, "password": "hongbao123", "display_name": shown})
    s.api("erin", "POST", "/v1/friends/requests", {"user_id": s.user_id("bob")})
    s.api("bob", "POST", "/v1/friends/requests", {"user_id": s.user_id("frank")})
    s.shoot(s.goto("bob", "/app/x/friends", "[data-request]"), "22-friends")


def groups(s: Stage) -> None:
    """Alice owns the demo group (she may remove members) and is in Bob's family group (she may leave it)."""
    family = [s.user_id("alice"), s.user_id("carol")]
    s.api("bob", "POST", "/v1/groups", {"name": "一家人 Family", "member_ids": family})
    alice = s.goto("alice", "/app/x/groups", "[data-members]")
    alice.locator("[data-members] summary").first.click()
    s.shoot(alice, "23-groups", at="#group-list")


def report(s: Stage) -> None:
    """Bob's year so far: he opens Dave's answer to his ask and sends the group a lucky packet of his own."""
    answered = next(a for a in s.api("bob", "GET", "/v1/asks")["sent"] if a.get("packet_id"))
    s.api("bob", "POST", f"/v1/packets/{answered['packet_id']}/open")
    lucky = s.api("bob", "POST", "/v1/packets", {
        "kind": "group", "group_id": demo_group(s), "split": "double_mean", "shares_count": 3, "total_fen": 3000,
        "greeting": "好运连连",
    })  # fmt: skip
    for who in ("alice", "carol", "dave"):
        s.api(who, "POST", f"/v1/packets/{lucky['id']}/open")
    s.shoot(s.goto("bob", "/app/x/report", "#report-chart"), "24-report")


def fairness(s: Stage) -> None:
    bob = s.goto("bob", "/app/x/fairness", "#fair-run")
    bob.click("#fair-run")
    bob.wait_for_selector("#fair-best-chart")
    s.shoot(bob, "25-fairness", at="#fairness-out")


def dashboard(s: Stage) -> None:
    """A small link campaign of ACME's, claimed by everyone so far: its budget burn shows."""
    campaign = s.api("acme", "POST", "/v1/campaigns", {
        "channel": "link", "name": "ACME 元宵红包 Lantern", "ends_at": in_minutes(7 * 24 * 60), "budget_fen": 3000,
        "prizes": [{"kind": "cash", "amount_fen": 188, "weight": 6}, {"kind": "cash", "amount_fen": 666, "weight": 1}],
        "per_user_max": 1,
    })  # fmt: skip
    for who in ("alice", "bob", "carol", "dave", "star", "erin", "frank"):
        s.api(who, "POST", f"/v1/campaigns/{campaign['id']}/claim", {"token": campaign["link_token"]})
    acme = s.goto("acme", f"/app/x/dashboard?id={campaign['id']}", "#dash-claims-chart")
    s.shoot(acme, "26-dashboard")


def shake_events(s: Stage) -> None:
    s.shoot(s.goto("bob", "/app/x/shake", "#shake-events [data-event]"), "27-shake-events")


def share_sheet(s: Stage) -> None:
    """Alice shares her password packet to WeChat from its page."""
    packet = s.api("alice", "POST", "/v1/packets/password", {
        "phrase": "年年有余", "split": "double_mean", "shares_count": 10, "total_fen": 10000, "greeting": "年年有余",
    })  # fmt: skip
    alice = s.goto("alice", f"/app/packet/{packet['id']}?view=detail", "#share-btn")
    alice.click("#share-btn")
    alice.click("#share-sheet [data-platform=wechat]")
    alice.wait_for_selector("#share-card img")
    url = alice.locator("#share-url").input_value()
    s.shoot(alice, "28-share-sheet")
    alice.click("#share-close")
    # Dave, logged in to the app on his phone, opens the link: no second login; then the claim list.
    dave = s.goto("dave", url, "#claim")
    s.shoot(dave, "36-landing")
    dave.fill("input[name=secret]", "年年有余")
    dave.click("#claim button")
    dave.wait_for_selector("#claims li")
    s.shoot(dave, "37-landing-opened", at="#result", blur=True)


def new_campaign(s: Stage) -> None:
    acme = s.goto("acme", "/app/x/new-campaign", "#campaign-form")
    acme.fill("#c-name", "ACME 元宵红包 Lantern")
    acme.fill("#c-cover", "元宵节快乐 · Happy Lantern Festival")
    acme.check("#c-channel-followers")
    acme.locator(".prize-amount").first.fill("6.66")
    acme.fill("#c-budget", "666.00")
    s.shoot(acme, "29-new-campaign", blur=True)


def new_event(s: Stage) -> None:
    acme = s.goto("acme", "/app/x/new-event", "#event-form")
    acme.fill("#e-name", "元宵摇一摇 Lantern Festival")
    acme.click("#add-round")
    acme.fill("#e-cards", "花好月圆 Full moon, full hearts\n团团圆圆 Together again")
    s.shoot(acme, "30-new-event", blur=True)


def new_pool(s: Stage) -> None:
    event_id = s.api("bob", "GET", "/v1/shake/events")["events"][0]["id"]
    acme = s.goto("acme", f"/app/x/new-pool?event={event_id}", "#pool-form")
    acme.fill("#p-name", "ACME 便利店 Store")
    acme.fill("#p-cover", "进店满 50 减 10")
    acme.locator(".prize-kind").first.select_option("coupon")
    acme.fill("#p-budget", "0")
    s.shoot(acme, "31-new-pool", blur=True)


def merchant(s: Stage) -> None:
    acme = s.goto("acme", "/app/x/merchant", "[data-merchant]")
    s.shoot(acme, "32-merchant", at="#merchants")


def redeem(s: Stage) -> None:
    """At the till: ACME redeems the coupon number and redeem code Carol reads out."""
    number, code = give_coupon(s, "carol")
    acme = s.goto("acme", "/app/x/redeem", "#redeem-form")
    acme.fill("#rd-number", str(number))
    acme.fill("#rd-code", f"{code[:4]} {code[4:]}")
    acme.click("#rd-btn")
    acme.wait_for_selector("#rd-done, #rd-error:not([hidden])")
    s.shoot(acme, "33-redeem")


SCENES: list[Callable[[Stage], None]] = [
    login, group_chat, open_packet, wallet_and_more, password, face_to_face, shake, relay,
    asks, transfers, celebrity, nearby, campaign, coupons, friends, groups, report, fairness, dashboard,
    shake_events, share_sheet, new_campaign, new_event, new_pool, merchant, redeem, refusal,
]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lang", default="zh", choices=["zh", "en"])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, running_server(Path(tmp)) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        stage = Stage(base, browser, out, args.lang)
        for scene in SCENES:
            scene(stage)
        browser.close()


if __name__ == "__main__":
    main()
