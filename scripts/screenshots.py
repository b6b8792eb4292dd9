"""Phone-sized (390×844) screenshots of the browser app's main pages into docs/screenshots/.

Starts `hongbao serve` with demo data on a throwaway folder (the e2e tests' helper) and drives
Debian's Chromium with Playwright:  python scripts/screenshots.py [--lang zh|en] [--out DIR]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Page, sync_playwright  # noqa: E402
from tests.e2e.server import CHROMIUM, CHROMIUM_ARGS, PHONE, call, running_server, token_of  # noqa: E402


def login(page: Page, base: str, username: str, lang: str) -> None:
    page.goto(base + "/app/login")
    page.evaluate("lang => localStorage.setItem('hongbao.lang', lang)", lang)
    page.goto(base + "/app/login")
    page.click(f"button[data-username={username}]")
    page.wait_for_selector("#conversations, #groups")


def gala(base: str) -> int:
    """ACME (a verified company in the demo data) schedules a round on now, with a pool of ¥8.88 prizes."""
    acme = token_of(base, "acme")
    now = datetime.now(UTC)
    event = call(base, "POST", "/v1/shake/events", acme, {
        "name": "春晚摇一摇 Gala", "win_permille": 1000, "wins_per_user_max": 3,
        "rounds": [{"starts_at": (now - timedelta(minutes=1)).isoformat(),
                    "ends_at": (now + timedelta(minutes=30)).isoformat()}],
    })  # fmt: skip
    call(base, "POST", f"/v1/shake/events/{event['id']}/pools", acme, {
        "name": "ACME 爱克米", "budget_fen": 8880, "prizes": [{"kind": "cash", "amount_fen": 888, "weight": 1}],
    })  # fmt: skip
    event_id: int = event["id"]
    return event_id


def shoot(page: Page, out: Path, name: str) -> None:
    page.wait_for_timeout(350)  # let animations settle
    page.evaluate("document.getElementById('toast').className = 'toast'")
    page.wait_for_timeout(250)
    page.screenshot(path=str(out / f"{name}.png"))
    print("wrote", out / f"{name}.png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lang", default="zh", choices=["zh", "en"])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    suffix = "" if args.lang == "zh" else "-en"
    with tempfile.TemporaryDirectory() as tmp, running_server(Path(tmp)) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        alice_ctx = browser.new_context(viewport=PHONE, device_scale_factor=1, locale="zh-CN")
        bob_ctx = browser.new_context(viewport=PHONE, device_scale_factor=1, locale="zh-CN")
        alice, bob = alice_ctx.new_page(), bob_ctx.new_page()

        alice.goto(base + "/app/login")
        alice.evaluate("lang => localStorage.setItem('hongbao.lang', lang)", args.lang)
        alice.goto(base + "/app/login")
        alice.wait_for_selector(".demo-user")
        shoot(alice, out, f"01-login{suffix}")

        # Some history in the group: carol sends an equal packet, dave opens it.
        carol, dave = token_of(base, "carol"), token_of(base, "dave")
        group_id = call(base, "GET", "/v1/groups", carol)[0]["id"]
        equal = call(base, "POST", "/v1/packets", carol, {
            "kind": "group", "group_id": group_id, "split": "equal", "shares_count": 3,
            "amount_each_fen": 666, "greeting": "六六大顺",
        })
        call(base, "POST", f"/v1/packets/{equal['id']}/open", dave)

        alice.click("button[data-username=alice]")
        alice.wait_for_selector("#conversations, #groups")
        login(bob, base, "bob", args.lang)

        # Alice sends a lucky packet from the send dialog.
        alice.click("[data-group]")
        alice.wait_for_selector("#send-packet")
        alice.click("#send-packet")
        alice.fill("#shares", "3")
        alice.fill("#amount", "88.88")
        alice.fill("#greeting", "马年大吉，拼手气！")
        shoot(alice, out, f"04-send-lucky{suffix}")
        alice.click("#send-btn")
        alice.wait_for_selector(".bubble")
        for token in (carol, dave):
            packet_id = int(alice.locator(".bubble").last.get_attribute("data-packet") or 0)
            call(base, "POST", f"/v1/packets/{packet_id}/open", token)
        alice.wait_for_timeout(600)
        shoot(alice, out, f"03-chat{suffix}")

        bob.goto(base + "/app")
        bob.wait_for_selector("#conversations, #groups")
        shoot(bob, out, f"02-home{suffix}")
        bob.click("[data-conversation], [data-group]")
        bob.locator(".bubble").last.click()
        bob.wait_for_selector("#open-btn")
        shoot(bob, out, f"05-envelope{suffix}")
        bob.click("#open-btn")
        bob.wait_for_selector("#my-amount")
        shoot(bob, out, f"06-opened{suffix}")

        bob.goto(base + "/app/wallet")
        bob.wait_for_selector("#statement li")
        shoot(bob, out, f"07-wallet{suffix}")
        bob.goto(base + "/app/more")
        bob.wait_for_selector("#logout")
        shoot(bob, out, f"08-more{suffix}")
        features = set(bob.eval_on_selector_all("[data-feature]", "els => els.map(e => e.dataset.feature)"))

        if "password" in features:
            alice.goto(base + "/app/x/password")
            alice.fill("#phrase", "马到成功")
            alice.fill("#shares", "5")
            alice.fill("#amount", "52.00")
            alice.click("#send-btn")
            alice.wait_for_selector("#password-sent img[src^=blob]")
            shoot(alice, out, f"09-password-sent{suffix}")
            bob.goto(base + "/app/x/claim-password")
            bob.fill("#phrase", "马到成功")
            shoot(bob, out, f"10-password-claim{suffix}")
        if "face-to-face" in features:
            alice.goto(base + "/app/x/face-to-face")
            alice.fill("#shares", "4")
            alice.fill("#amount", "20.00")
            alice.click("#send-btn")
            alice.wait_for_selector("#code-sent img[src^=blob]")
            shoot(alice, out, f"11-face-to-face-code{suffix}")
            bob.goto(base + "/app/x/code")
            bob.fill("#code", alice.inner_text("#sent-code"))
            shoot(bob, out, f"12-enter-code{suffix}")
        if "shake" in features:
            event_id = gala(base)
            bob.goto(f"{base}/app/x/shake?event={event_id}")
            bob.click("#shake-btn")
            bob.wait_for_selector("#shake-won, #shake-nothing, #shake-card")
            shoot(bob, out, f"13-shake{suffix}")
        if "relay" in features:
            alice.goto(base + "/app/x/relay")
            alice.fill("#shares", "2")
            alice.fill("#amount", "6.00")
            alice.click("#send-btn")
            alice.wait_for_selector("#relay-rounds")
            shoot(alice, out, f"14-relay{suffix}")
        browser.close()


if __name__ == "__main__":
    main()
