"""Refusals a client can word in its user's language: a stable `code`, the limit as extension members, and a
Chinese and English wording of every code in the web app (amounts in ¥, never "20000 fen")."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from tests.api.conftest import TestClient, User, assert_problem, balance, befriend, top_up

from hongbao.bootstrap import App

SRC = Path(__file__).resolve().parents[2] / "src" / "hongbao"
CATALOG = SRC / "web" / "static" / "js" / "errors.js"


def test_a_packet_over_the_limit_names_the_limit_in_fen_for_clients_and_in_yuan_for_people(
    hb: App, client: TestClient, new_user: Callable[..., User]
) -> None:
    # given Alice with ¥500 and her friend Bob
    alice, bob = new_user("alice"), new_user("bob")
    befriend(client, alice, bob)
    top_up(client, alice, 50_000)
    # when she sends him a ¥300 personal packet
    body = {"kind": "personal", "recipient_id": bob.id, "amount_fen": 30_000}
    problem = assert_problem(client.post("/v1/packets", json=body, headers=alice.headers), 422, "amount_too_large")
    # then the problem carries the limit and what it limits, and its detail speaks yuan, and no money moved
    limit = hb.settings.packet_fen_max
    assert (problem["max_fen"], problem["subject"]) == (limit, "packet")
    assert f"¥{limit // 100}.{limit % 100:02d}" in problem["detail"] and "fen" not in problem["detail"]
    assert balance(client, alice) == 50_000


def test_a_top_up_over_the_limit_and_a_short_password_carry_their_limits(
    hb: App, client: TestClient, new_user: Callable[..., User]
) -> None:
    alice = new_user("alice")
    over = hb.settings.topup_fen_max + 1
    problem = assert_problem(
        client.post("/v1/wallet/top-ups", json={"amount_fen": over}, headers=alice.headers), 422, "amount_too_large"
    )
    assert (problem["max_fen"], problem["subject"]) == (hb.settings.topup_fen_max, "top_up")
    assert balance(client, alice) == 0
    short = assert_problem(client.post("/v1/users", json={"username": "carol", "password": "short"}), 422,
                           "weak_password")
    assert (short["reason"], short["chars_min"], short["chars_max"]) == ("length", 8, 256)


def _codes_raised() -> set[str]:
    """Every error code the server's source gives (`code="…"` in src/hongbao), outside the simulator and the
    platform API for host apps (hosts, webhooks: their developers read the detail; the web app never calls it)."""
    codes: set[str] = set()
    for path in SRC.rglob("*.py"):
        if "sim" in path.relative_to(SRC).parts or "host" in path.name or "webhook" in path.name:
            continue
        codes.update(re.findall(r"\bcode=\"([a-z_]+)\"", path.read_text(encoding="utf-8")))
    return codes


def _catalog() -> dict[str, str]:
    """code → its entry's text in web/static/js/errors.js."""
    text = CATALOG.read_text(encoding="utf-8")
    body = text.split("const MESSAGES = {", 1)[1].split("\n};", 1)[0]
    return dict(re.findall(r"^  (\w+): (.+?)(?=^  \w+: |\Z)", body, flags=re.M | re.S))


def test_every_error_code_the_server_gives_has_a_chinese_and_an_english_wording_in_the_web_app() -> None:
    catalog = _catalog()
    missing = sorted(_codes_raised() - set(catalog))
    assert missing == [], f"add a [zh, en] wording for these codes to {CATALOG.relative_to(SRC.parent.parent)}"
    for code, entry in catalog.items():
        wordings = re.findall(r"\[\"([^\"]+)\", \"([^\"]+)\"\]", entry)
        assert wordings, code
        for zh, en in wordings:
            assert re.search(r"[\u4e00-\u9fff]", zh), (code, zh)
            assert not re.search(r"[\u4e00-\u9fff]", en) and "fen" not in en.replace("{", " {").split(), (code, en)
