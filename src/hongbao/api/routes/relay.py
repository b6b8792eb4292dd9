"""Relay chains (接龙红包), asks (讨红包) and transfers (转账), plus the "allow friends to ask me" setting."""

from __future__ import annotations

from fastapi import APIRouter, status
from pydantic import Field, StrictBool, StrictStr

from hongbao.api.deps import AppDep, CurrentUser, Cursor, IdempotencyKeyHeader, PageLimit, PathId, page_cursor
from hongbao.api.openapi import operation_id
from hongbao.api.schemas import Strict
from hongbao.api.schemas_relay import (
    AskFulfilled,
    AskPage,
    AskPublic,
    AskSettings,
    RelayList,
    RelayPublic,
    TransferPage,
    TransferPublic,
)
from hongbao.api.types import Fen, Id, Int
from hongbao.service.idempotency import IdempotencyKey
from hongbao.service.results import asks as ask_results
from hongbao.service.results import relay as relay_results
from hongbao.service.results import transfers as transfer_results

router = APIRouter(prefix="/v1", generate_unique_id_function=operation_id)

Greeting = StrictStr | None
Count = Int


class RelayCreate(Strict):
    group_id: Id = Field(examples=[1])
    total_fen: Fen
    shares_count: Count = Field(examples=[5])
    greeting: Greeting = Field(default=None, max_length=1024, examples=["接龙！手气最佳发下一个"])
    min_fen: Fen | None = Field(default=None, description="Least amount of every round (default: a setting).")
    deadline_s: Int | None = Field(
        default=None, description="Seconds the best-luck claimer has to send the next round.", examples=[3600]
    )


class RelayNext(Strict):
    total_fen: Fen
    shares_count: Count = Field(examples=[5])
    greeting: Greeting = Field(default=None, max_length=1024)


class AskCreate(Strict):
    to_user_id: Id | None = Field(default=None, description="Ask a friend…", examples=[2])
    group_id: Id | None = Field(default=None, description="…or the members of a group.")
    amount_fen: Fen | None = None
    message: StrictStr | None = Field(default=None, max_length=1024, examples=["新年快乐，求红包！"])


class AskFulfil(Strict):
    amount_fen: Fen | None = Field(default=None, description="Default: the amount asked for.")
    greeting: Greeting = Field(default=None, max_length=1024)
    shares_count: Count | None = Field(default=None, description="Group asks: shares of the lucky packet.")


class SettingsUpdate(Strict):
    allow_asks: StrictBool


class TransferCreate(Strict):
    to_user_id: Id = Field(examples=[2])
    amount_fen: Fen
    note: StrictStr | None = Field(default=None, max_length=1024, examples=["房租"])


# ---------------------------------------------------------------------- relay chains


@router.post("/relays", status_code=status.HTTP_201_CREATED, tags=["relay"], response_model=RelayPublic)
async def start_relay(
    body: RelayCreate, app: AppDep, user_id: CurrentUser, key: IdempotencyKeyHeader = None
) -> relay_results.Chain:
    """Start a relay chain (接龙) in a group: round 1 is your lucky packet; its best-luck claimer owes round 2."""
    idem = IdempotencyKey.of(user_id, key, "relay", body.model_dump())
    return await app.relay.start(
        user_id, body.group_id, total_fen=body.total_fen, shares_count=body.shares_count, greeting=body.greeting,
        min_fen=body.min_fen, deadline_s=body.deadline_s, idem=idem,
    )


@router.get("/relays/{relay_id}", tags=["relay"], response_model=RelayPublic)
async def relay_detail(relay_id: PathId, app: AppDep, user_id: CurrentUser) -> relay_results.Chain:
    """The chain: rounds (sender, amount, best luck), who owes the next round and until when, events."""
    return await app.relay.detail(relay_id, user_id)


@router.get("/groups/{group_id}/relays", tags=["relay"], response_model=RelayList)
async def group_relays(group_id: PathId, app: AppDep, user_id: CurrentUser) -> relay_results.ChainList:
    """The group's relay chains, newest first: which is running, who owes the next round."""
    return await app.relay.of_group(group_id, user_id)


@router.post("/relays/{relay_id}/next", status_code=status.HTTP_201_CREATED, tags=["relay"], response_model=RelayPublic)
async def next_round(
    relay_id: PathId, body: RelayNext, app: AppDep, user_id: CurrentUser, key: IdempotencyKeyHeader = None
) -> relay_results.Chain:
    """The owing user sends the next round: 403 not_your_turn, 422 below_relay_minimum or relay_deadline_passed."""
    idem = IdempotencyKey.of(user_id, key, "relay_next", {"relay_id": relay_id, **body.model_dump()})
    return await app.relay.next_round(
        relay_id, user_id, total_fen=body.total_fen, shares_count=body.shares_count, greeting=body.greeting,
        idem=idem,
    )


# ---------------------------------------------------------------------- asks


@router.post("/asks", status_code=status.HTTP_201_CREATED, tags=["asks"], response_model=AskPublic)
async def ask(body: AskCreate, app: AppDep, user_id: CurrentUser, key: IdempotencyKeyHeader = None) -> ask_results.Ask:
    """Ask a friend or a group for a red packet (讨红包); 429 asked_too_often past the daily cap."""
    idem = IdempotencyKey.of(user_id, key, "ask", body.model_dump())
    return await app.asks.ask(
        user_id, to_user_id=body.to_user_id, group_id=body.group_id, amount_fen=body.amount_fen,
        message=body.message, idem=idem,
    )


@router.get("/asks", tags=["asks"], response_model=AskPage)
async def asks(
    app: AppDep,
    user_id: CurrentUser,
    cursor: Cursor = None,
    limit: PageLimit = 20,
) -> ask_results.AskPage:
    """Asks you sent and asks you received (to you or to your groups), newest first; pass `next_cursor` for more."""
    return await app.asks.mine(user_id, page_cursor(cursor), limit)


@router.get("/asks/{ask_id}", tags=["asks"], response_model=AskPublic)
async def ask_detail(ask_id: PathId, app: AppDep, user_id: CurrentUser) -> ask_results.Ask:
    return await app.asks.detail(ask_id, user_id)


@router.post("/asks/{ask_id}/fulfil", status_code=status.HTTP_201_CREATED, tags=["asks"], response_model=AskFulfilled,
             response_model_exclude_unset=True)
async def fulfil(
    ask_id: PathId, body: AskFulfil, app: AppDep, user_id: CurrentUser, key: IdempotencyKeyHeader = None
) -> ask_results.AskFulfilled:
    """Answer an ask with a packet in one step (personal to the asker, or lucky to the asking group)."""
    idem = IdempotencyKey.of(user_id, key, "fulfil", {"ask_id": ask_id, **body.model_dump()})
    return await app.asks.fulfil(
        ask_id, user_id, amount_fen=body.amount_fen, greeting=body.greeting, shares_count=body.shares_count,
        idem=idem,
    )


@router.post("/asks/{ask_id}/decline", tags=["asks"], response_model=AskPublic)
async def decline(ask_id: PathId, app: AppDep, user_id: CurrentUser) -> ask_results.Ask:
    return await app.asks.decline(ask_id, user_id)


@router.get("/me/settings", tags=["asks"], response_model=AskSettings)
async def my_settings(app: AppDep, user_id: CurrentUser) -> ask_results.AskSettings:
    return await app.asks.settings(user_id)


@router.put("/me/settings", tags=["asks"], response_model=AskSettings)
async def update_settings(body: SettingsUpdate, app: AppDep, user_id: CurrentUser) -> ask_results.AskSettings:
    """`allow_asks: false` refuses friends' asks with 403 asks_disabled."""
    return await app.asks.update_settings(user_id, allow_asks=body.allow_asks)


# ---------------------------------------------------------------------- transfers


@router.post("/transfers", status_code=status.HTTP_201_CREATED, tags=["transfers"], response_model=TransferPublic)
async def send_transfer(
    body: TransferCreate, app: AppDep, user_id: CurrentUser, key: IdempotencyKeyHeader = None
) -> transfer_results.Transfer:
    """Pay a friend (转账): the money leaves your wallet at once and waits for them to accept it."""
    idem = IdempotencyKey.of(user_id, key, "transfer", body.model_dump())
    return await app.transfers.send(user_id, body.to_user_id, body.amount_fen, body.note, idem)


@router.get("/transfers", tags=["transfers"], response_model=TransferPage)
async def transfers(
    app: AppDep,
    user_id: CurrentUser,
    cursor: Cursor = None,
    limit: PageLimit = 20,
) -> transfer_results.TransferPage:
    """Transfers you sent and received, newest first; pass `next_cursor` for more."""
    return await app.transfers.mine(user_id, page_cursor(cursor), limit)


@router.get("/transfers/{transfer_id}", tags=["transfers"], response_model=TransferPublic)
async def transfer_detail(transfer_id: PathId, app: AppDep, user_id: CurrentUser) -> transfer_results.Transfer:
    return await app.transfers.detail(transfer_id, user_id)


@router.post("/transfers/{transfer_id}/accept", tags=["transfers"], response_model=TransferPublic)
async def accept_transfer(
    transfer_id: PathId, app: AppDep, user_id: CurrentUser, key: IdempotencyKeyHeader = None
) -> transfer_results.Transfer:
    """The recipient takes the money; 422 transfer_expired after the deadline, 409 transfer_settled if done."""
    idem = IdempotencyKey.of(user_id, key, "transfer_accept", transfer_id)
    return await app.transfers.accept(transfer_id, user_id, idem)


@router.post("/transfers/{transfer_id}/return", tags=["transfers"], response_model=TransferPublic)
async def return_transfer(
    transfer_id: PathId, app: AppDep, user_id: CurrentUser, key: IdempotencyKeyHeader = None
) -> transfer_results.Transfer:
    """The recipient sends the money back to the sender."""
    idem = IdempotencyKey.of(user_id, key, "transfer_return", transfer_id)
    return await app.transfers.give_back(transfer_id, user_id, idem)
