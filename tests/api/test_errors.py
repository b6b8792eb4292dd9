"""Bad input never gets a 500 or a traceback: every refusal is application/problem+json with a stable code."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from tests.api.conftest import TestClient, User, assert_problem, balance, make_group, top_up

FUNDS_FEN = 5_000_000


@dataclass(frozen=True)
class Scene:
    """A funded sender, a friend of theirs, and a group of the two."""

    sender: User
    friend: User
    group_id: int


@pytest.fixture
def scene(client: TestClient, new_user: Callable[..., User]) -> Scene:
    sender, friend = new_user("sender"), new_user("friend")
    group_id = make_group(client, sender, [friend])
    top_up(client, sender, FUNDS_FEN)
    return Scene(sender, friend, group_id)


def _lucky(scene: Scene, **fields: Any) -> dict[str, Any]:
    body = {"kind": "group", "group_id": scene.group_id, "split": "double_mean", "shares_count": 10,
            "total_fen": 1_000}
    return {**body, **fields}


def _equal(scene: Scene, **fields: Any) -> dict[str, Any]:
    body = {"kind": "group", "group_id": scene.group_id, "split": "equal", "shares_count": 10, "amount_each_fen": 100}
    return {**body, **fields}


def _personal(scene: Scene, **fields: Any) -> dict[str, Any]:
    return {"kind": "personal", "recipient_id": scene.friend.id, "amount_fen": 1_000, **fields}


BAD_AMOUNTS: list[tuple[object, str]] = [
    (-1, "invalid_amount"),
    (0, "invalid_amount"),
    (1.5, "invalid_request"),
    ("100", "invalid_request"),
    (True, "invalid_request"),
    (10**30, "amount_too_large"),
    (2**63, "amount_too_large"),
]


def test_bad_amounts_give_422_with_a_stable_code_and_move_no_money(client: TestClient, scene: Scene) -> None:
    for amount, code in BAD_AMOUNTS:
        for path, body in (
            ("/v1/packets", _lucky(scene, total_fen=amount)),
            ("/v1/packets", _personal(scene, amount_fen=amount)),
            ("/v1/packets", _equal(scene, amount_each_fen=amount)),
            ("/v1/wallet/top-ups", {"amount_fen": amount}),
            ("/v1/wallet/withdrawals", {"amount_fen": amount}),
        ):
            response = client.post(path, json=body, headers=scene.sender.headers)
            assert_problem(response, 422, code, case=(path, body))
    assert balance(client, scene.sender) == FUNDS_FEN


def test_bad_shares_counts_give_422_with_a_stable_code(client: TestClient, scene: Scene) -> None:
    for shares_count, code in [
        (0, "invalid_share_count"),
        (101, "invalid_share_count"),
        (-1, "invalid_share_count"),
        (10**30, "invalid_share_count"),
        ("10", "invalid_request"),
        (2.0, "invalid_request"),
        (None, "invalid_request"),
    ]:
        body = _lucky(scene, shares_count=shares_count)
        assert_problem(client.post("/v1/packets", json=body, headers=scene.sender.headers), 422, code, case=body)
    assert balance(client, scene.sender) == FUNDS_FEN


def test_bad_greetings_give_422_and_one_of_64_chars_is_accepted(client: TestClient, scene: Scene) -> None:
    for greeting, code in [
        ("福" * 65, "invalid_greeting"),
        ("x" * 2_000, "invalid_request"),
        ("新年\x00快乐", "invalid_greeting"),
        ("新年\x07快乐", "invalid_greeting"),
        ("red\x1b[31m packet", "invalid_greeting"),
        (123, "invalid_request"),
        (True, "invalid_request"),
        (["恭喜发财"], "invalid_request"),
        ({"text": "hi"}, "invalid_request"),
    ]:
        for body in (_lucky(scene, greeting=greeting), _personal(scene, greeting=greeting)):
            response = client.post("/v1/packets", json=body, headers=scene.sender.headers)
            assert_problem(response, 422, code, case=body)
    assert balance(client, scene.sender) == FUNDS_FEN

    accepted = client.post("/v1/packets", json=_lucky(scene, greeting="福" * 64), headers=scene.sender.headers)
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["greeting"] == "福" * 64


def test_unknown_or_impossible_packet_ids_give_404_or_422(client: TestClient, scene: Scene) -> None:
    headers = scene.sender.headers
    for path in ("/v1/packets/999999", "/v1/packets/999999/grab", "/v1/packets/999999/open"):
        response = client.get(path, headers=headers) if path.count("/") == 3 else client.post(path, headers=headers)
        assert_problem(response, 404, "packet_not_found", case=path)
    for packet_id in ["0", "-1", "abc", "1e3", "1.5", str(2**62 + 1), str(2**63), str(2**64), "9" * 30, "9" * 5_000]:
        get = client.get(f"/v1/packets/{packet_id}", headers=headers)
        assert_problem(get, 422, "invalid_request", case=packet_id)
        opened = client.post(f"/v1/packets/{packet_id}/open", headers=headers)
        assert_problem(opened, 422, "invalid_request", case=packet_id)


def test_malformed_or_unreadable_bodies_give_a_problem_and_move_no_money(client: TestClient, scene: Scene) -> None:
    headers = {**scene.sender.headers, "Content-Type": "application/json"}
    for content in (b'{"kind": ', b"{'kind': 'group'}", b"", b"[1, 2, 3]", b'"group"', b"null", b"NaN"):
        response = client.post("/v1/packets", content=content, headers=headers)
        assert_problem(response, 422, "invalid_request", case=content)
    # Bodies the JSON parser itself refuses (not UTF-8, nested too deep, a 5,000-digit number): 400.
    for content in (
        b"\xff\xfe\x00",
        b"[" * 100_000 + b"]" * 100_000,
        b'{"kind": "group", "total_fen": ' + b"9" * 5_000 + b"}",
    ):
        response = client.post("/v1/packets", content=content, headers=headers)
        assert_problem(response, 400, "invalid_request", case=content[:40])
    assert balance(client, scene.sender) == FUNDS_FEN


def test_wrong_content_type_gives_422_invalid_request(client: TestClient, scene: Scene) -> None:
    headers = scene.sender.headers
    text = client.post("/v1/packets", content=b"hello", headers={**headers, "Content-Type": "text/plain"})
    assert_problem(text, 422, "invalid_request")
    form = client.post("/v1/packets", data={"kind": "group", "group_id": str(scene.group_id)}, headers=headers)
    assert_problem(form, 422, "invalid_request")
    assert balance(client, scene.sender) == FUNDS_FEN


def test_extra_or_missing_fields_give_422_invalid_request(client: TestClient, scene: Scene) -> None:
    headers = scene.sender.headers
    for path, body in (
        ("/v1/packets", _lucky(scene, is_admin=True)),
        ("/v1/packets", _personal(scene, sender_id=scene.friend.id)),
        ("/v1/packets", {"kind": "group", "group_id": scene.group_id}),
        ("/v1/packets", {"kind": "mystery", "total_fen": 100}),
        ("/v1/packets", {}),
        ("/v1/wallet/top-ups", {"amount_fen": 100, "currency": "USD"}),
        ("/v1/wallet/top-ups", {}),
    ):
        assert_problem(client.post(path, json=body, headers=headers), 422, "invalid_request", case=(path, body))
    assert balance(client, scene.sender) == FUNDS_FEN


def test_missing_or_bad_tokens_give_401_with_www_authenticate(client: TestClient) -> None:
    for response in (client.get("/v1/wallet"), client.post("/v1/packets", json={"kind": "group"})):
        assert_problem(response, 401, "token_missing")
        assert response.headers["www-authenticate"] == "Bearer"
    for authorization, code in [
        ("Bearer nope", "token_invalid"),
        ("Bearer a.b", "token_invalid"),
        ("Bearer " + "x" * 500, "token_invalid"),
        ("Bearer", "token_missing"),
        ("Basic dXNlcjpwYXNz", "token_missing"),
        ("token", "token_missing"),
    ]:
        response = client.get("/v1/wallet", headers={"Authorization": authorization})
        assert_problem(response, 401, code, case=authorization)
        assert response.headers["www-authenticate"] == "Bearer"


def test_unknown_route_gives_404_and_wrong_method_405_problems(client: TestClient, scene: Scene) -> None:
    assert_problem(client.get("/v1/nothing-here", headers=scene.sender.headers), 404, "not_found")
    assert_problem(client.get("/nothing-here"), 404, "not_found")
    wrong_method = client.delete("/v1/wallet", headers=scene.sender.headers)
    assert_problem(wrong_method, 405, "method_not_allowed")
    assert "GET" in wrong_method.headers["allow"]


def test_bad_query_parameters_give_422(client: TestClient, scene: Scene) -> None:
    headers = scene.sender.headers
    for params in ({"limit": "0"}, {"limit": "101"}, {"limit": "ten"}, {"limit": "9" * 5_000}):
        response = client.get("/v1/wallet/statement", params=params, headers=headers)
        assert_problem(response, 422, "invalid_request", case=params)
    bad_cursor = client.get("/v1/wallet/statement", params={"cursor": "abc"}, headers=headers)
    assert_problem(bad_cursor, 422, "invalid_cursor")


# ---------------------------------------------------------------------------- fuzzing POST /v1/packets

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=6,
)


def _field_values(scene: Scene) -> dict[str, st.SearchStrategy[Any]]:
    """Per field: a plausible value (so the fuzz also reaches the rules behind the schema), or any JSON."""
    ids = st.sampled_from([scene.group_id, scene.friend.id, scene.sender.id, 999_999, 0, -1, 2**63])
    plausible: dict[str, st.SearchStrategy[Any]] = {
        "kind": st.sampled_from(["group", "personal", "relay"]),
        "group_id": ids,
        "recipient_id": ids,
        "split": st.sampled_from(["equal", "double_mean", "line_cut", "lucky"]),
        "shares_count": st.integers(min_value=-1, max_value=102),
        "total_fen": st.integers(min_value=-1, max_value=30_000),
        "amount_each_fen": st.integers(min_value=-1, max_value=300),
        "amount_fen": st.integers(min_value=-1, max_value=30_000),
        "greeting": st.text(max_size=70),
    }
    return {name: st.one_of(value, JSON_VALUES) for name, value in plausible.items()}


@st.composite
def _packet_bodies(draw: st.DrawFn, scene: Scene) -> Any:
    """A valid body with some fields changed, dropped or added; now and then any JSON value at all."""
    if draw(st.integers(min_value=0, max_value=9)) == 0:
        return draw(JSON_VALUES)
    body: dict[str, Any] = dict(draw(st.sampled_from([_lucky(scene), _personal(scene), _equal(scene)])))
    values = _field_values(scene)
    for name in draw(st.lists(st.sampled_from(sorted(values)), max_size=3, unique=True)):
        body[name] = draw(values[name])
    for name in draw(st.lists(st.sampled_from(sorted(body)), max_size=2, unique=True)):
        body.pop(name, None)
    return body


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzzed_packet_bodies_never_give_a_500(client: TestClient, scene: Scene, data: st.DataObject) -> None:
    body = data.draw(_packet_bodies(scene), label="body")
    response = client.post("/v1/packets", json=body, headers=scene.sender.headers)
    event(f"status {response.status_code}")  # --hypothesis-show-statistics shows how deep the fuzz went
    assert response.status_code in {201, 401, 403, 404, 409, 422}, response.text
    if response.status_code == 201:
        assert response.json()["sender_id"] == scene.sender.id
    else:
        assert_problem(response, response.status_code)
