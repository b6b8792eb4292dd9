"""Every call the typed clients make, described once (path, body, model, whether it moves money).

`Client` and `AsyncClient` run these; `Client.call(ops.…)` / `await AsyncClient.call(ops.…)` run one directly,
and `ops.request(method, path, …)` reaches any endpoint without a typed method (the OpenAPI at /docs lists them).
"""

from __future__ import annotations

from typing import Any

from hongbao.client import models as m
from hongbao.client._core import Call

Key = str | None


def request(method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None,
            moves_money: bool = False, idempotency_key: Key = None) -> Call[Any]:
    """Any endpoint, its reply as plain JSON; `moves_money` gives it an Idempotency-Key (and safe retries)."""
    return Call(method.upper(), path, None, json, params, moves_money or idempotency_key is not None, idempotency_key)


# ---------------------------------------------------------------------- accounts
def register(username: str, password: str, display_name: str | None = None) -> Call[m.User]:
    return Call("POST", "/v1/users", m.User, {"username": username, "password": password,
                                             "display_name": display_name})


def login(username: str, password: str) -> Call[m.Session]:
    return Call("POST", "/v1/sessions", m.Session, {"username": username, "password": password})


def me() -> Call[m.User]:
    return Call("GET", "/v1/me", m.User)


def find_user(username: str) -> Call[m.User]:
    return Call("GET", "/v1/users", m.User, params={"username": username})


# ---------------------------------------------------------------------- wallet
def wallet() -> Call[m.Balance]:
    return Call("GET", "/v1/wallet", m.Balance)


def top_up(amount_fen: int, idempotency_key: Key = None) -> Call[m.Payment]:
    return Call("POST", "/v1/wallet/top-ups", m.Payment, {"amount_fen": amount_fen}, keyed=True,
                idempotency_key=idempotency_key)


def withdraw(amount_fen: int, idempotency_key: Key = None) -> Call[m.Payment]:
    return Call("POST", "/v1/wallet/withdrawals", m.Payment, {"amount_fen": amount_fen}, keyed=True,
                idempotency_key=idempotency_key)


def statement(cursor: str | None = None, limit: int = 20) -> Call[m.Statement]:
    params: dict[str, Any] = {"limit": limit} | ({"cursor": cursor} if cursor else {})
    return Call("GET", "/v1/wallet/statement", m.Statement, params=params)


# ---------------------------------------------------------------------- friends and groups
def request_friend(user_id: int) -> Call[Any]:
    return Call("POST", "/v1/friends/requests", None, {"user_id": user_id})


def accept_friend(requester_id: int) -> Call[Any]:
    return Call("POST", f"/v1/friends/requests/{requester_id}/accept")


def friends() -> Call[Any]:
    return Call("GET", "/v1/friends")


def create_group(name: str, member_ids: list[int] | None = None) -> Call[m.Group]:
    return Call("POST", "/v1/groups", m.Group, {"name": name, "member_ids": member_ids or []})


def add_member(group_id: int, user_id: int) -> Call[m.Group]:
    return Call("POST", f"/v1/groups/{group_id}/members", m.Group, {"user_id": user_id})


# ---------------------------------------------------------------------- packets
def send_personal(recipient_id: int, amount_fen: int, greeting: str | None = None,
                  idempotency_key: Key = None) -> Call[m.Packet]:
    body = {"kind": "personal", "recipient_id": recipient_id, "amount_fen": amount_fen, "greeting": greeting}
    return Call("POST", "/v1/packets", m.Packet, body, keyed=True, idempotency_key=idempotency_key)


def send_group(group_id: int, shares_count: int, *, total_fen: int | None = None,
               amount_each_fen: int | None = None, split: str = "double_mean", greeting: str | None = None,
               idempotency_key: Key = None) -> Call[m.Packet]:
    body = {"kind": "group", "group_id": group_id, "split": split, "shares_count": shares_count,
            "total_fen": total_fen, "amount_each_fen": amount_each_fen, "greeting": greeting}
    return Call("POST", "/v1/packets", m.Packet, {k: v for k, v in body.items() if v is not None}, keyed=True,
                idempotency_key=idempotency_key)


def packet(packet_id: int) -> Call[m.Packet]:
    return Call("GET", f"/v1/packets/{packet_id}", m.Packet)


def grab(packet_id: int) -> Call[m.Grab]:
    return Call("POST", f"/v1/packets/{packet_id}/grab", m.Grab)


def open_packet(packet_id: int, idempotency_key: Key = None) -> Call[m.Opened]:
    return Call("POST", f"/v1/packets/{packet_id}/open", m.Opened, keyed=True, idempotency_key=idempotency_key)


def group_packets(group_id: int, cursor: str | None = None, limit: int = 20) -> Call[m.PacketPage]:
    params: dict[str, Any] = {"limit": limit} | ({"cursor": cursor} if cursor else {})
    return Call("GET", f"/v1/groups/{group_id}/packets", m.PacketPage, params=params)


# ---------------------------------------------------------------------- transfers
def send_transfer(to_user_id: int, amount_fen: int, note: str | None = None,
                  idempotency_key: Key = None) -> Call[m.Transfer]:
    return Call("POST", "/v1/transfers", m.Transfer, {"to_user_id": to_user_id, "amount_fen": amount_fen,
                                                      "note": note}, keyed=True, idempotency_key=idempotency_key)


def transfer(transfer_id: int) -> Call[m.Transfer]:
    return Call("GET", f"/v1/transfers/{transfer_id}", m.Transfer)


def accept_transfer(transfer_id: int, idempotency_key: Key = None) -> Call[m.Transfer]:
    return Call("POST", f"/v1/transfers/{transfer_id}/accept", m.Transfer, keyed=True,
                idempotency_key=idempotency_key)


def return_transfer(transfer_id: int, idempotency_key: Key = None) -> Call[m.Transfer]:
    return Call("POST", f"/v1/transfers/{transfer_id}/return", m.Transfer, keyed=True,
                idempotency_key=idempotency_key)


def transfers(cursor: str | None = None, limit: int = 20) -> Call[m.TransferPage]:
    params: dict[str, Any] = {"limit": limit} | ({"cursor": cursor} if cursor else {})
    return Call("GET", "/v1/transfers", m.TransferPage, params=params)


# ---------------------------------------------------------------------- the host itself (host key, no user)
def host_dashboard() -> Call[m.HostDashboard]:
    return Call("GET", "/v1/host", m.HostDashboard)


def set_webhook(url: str | None) -> Call[m.WebhookEndpoint]:
    return Call("PUT", "/v1/host/webhook", m.WebhookEndpoint, {"url": url})


def rotate_key(key_id: str) -> Call[m.HostKey]:
    return Call("POST", f"/v1/host/keys/{key_id}/rotate", m.HostKey)


def revoke_key(key_id: str) -> Call[m.HostKey]:
    return Call("DELETE", f"/v1/host/keys/{key_id}", m.HostKey)
