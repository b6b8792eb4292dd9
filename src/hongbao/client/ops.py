"""Every call the typed clients make, as a `Call` (path, body, reply model, whether it moves money).

One function per operation of the API, named by its operation id (`packets_open`, `wallet_top_up`, …), is
generated from the OpenAPI document into `_generated.py` and re-exported here; below them, the short names the
client has always had (`top_up`, `send_personal`, …) and `request(...)` for a raw call.  `Client.call(ops.…)` /
`await AsyncClient.call(ops.…)` run one.
"""

from __future__ import annotations

from typing import Any

from hongbao.client import _generated as g
from hongbao.client._core import Call
from hongbao.client._generated import *  # noqa: F403  (one function per operation of the API)
from hongbao.client.models import Group, Packet, PacketPage, Statement, Transfer, TransferPage, User

Key = str | None


def request(method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None,
            moves_money: bool = False, idempotency_key: Key = None) -> Call[Any]:
    """Any endpoint, its reply as plain JSON; `moves_money` gives it an Idempotency-Key (and safe retries)."""
    return Call(method.upper(), path, None, json, params, moves_money or idempotency_key is not None, idempotency_key)


# ---------------------------------------------------------------------- short names whose arguments differ


def register(username: str, password: str, display_name: str | None = None) -> Call[User]:
    return g.users_register(username, password, display_name=display_name)


def statement(cursor: str | None = None, limit: int = 20) -> Call[Statement]:
    return g.wallet_statement(cursor=cursor, limit=limit)


def create_group(name: str, member_ids: list[int] | None = None) -> Call[Group]:
    return g.social_create_group(name, member_ids=member_ids or [])


def send_personal(recipient_id: int, amount_fen: int, greeting: str | None = None,
                  idempotency_key: Key = None) -> Call[Packet]:
    """A personal packet (个人红包) to a friend."""
    body = {"kind": "personal", "recipient_id": recipient_id, "amount_fen": amount_fen, "greeting": greeting}
    return g.packets_send(_given(body), idempotency_key=idempotency_key)


def send_group(group_id: int, shares_count: int, *, total_fen: int | None = None,
               amount_each_fen: int | None = None, split: str = "double_mean", greeting: str | None = None,
               idempotency_key: Key = None) -> Call[Packet]:
    """A group packet: lucky (`total_fen`, split double_mean or line_cut) or equal (`amount_each_fen`)."""
    body = {"kind": "group", "group_id": group_id, "split": split, "shares_count": shares_count,
            "total_fen": total_fen, "amount_each_fen": amount_each_fen, "greeting": greeting}
    return g.packets_send(_given(body), idempotency_key=idempotency_key)


def group_packets(group_id: int, cursor: str | None = None, limit: int = 20) -> Call[PacketPage]:
    return g.packets_group(group_id, cursor=cursor, limit=limit)


def send_transfer(to_user_id: int, amount_fen: int, note: str | None = None,
                  idempotency_key: Key = None) -> Call[Transfer]:
    """A transfer (转账) to a friend, who accepts or returns it."""
    return g.transfers_send(to_user_id, amount_fen, note=note, idempotency_key=idempotency_key)


def transfers(cursor: str | None = None, limit: int = 20) -> Call[TransferPage]:
    return g.transfers_transfers(cursor=cursor, limit=limit)


def _given(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if v is not None}
