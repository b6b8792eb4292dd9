"""Red packets: send, grab (抢), open (拆), detail with the claim list."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Body, status
from starlette.responses import Response

from hongbao.api.deps import AppDep, CurrentUser, Cursor, IdempotencyKeyHeader, PageLimit, PathId, page_cursor
from hongbao.api.openapi import operation_id
from hongbao.api.schemas import (
    PACKET_CREATE_EXAMPLES,
    GrabPublic,
    OpenPublic,
    PacketCreate,
    PacketPage,
    PacketPublic,
    PersonalPacketCreate,
)
from hongbao.service.idempotency import IdempotencyKey
from hongbao.service.results import opening as opening_results
from hongbao.service.results import packets as packet_results

router = APIRouter(prefix="/v1", tags=["packets"], generate_unique_id_function=operation_id)


@router.post("/packets", status_code=status.HTTP_201_CREATED, response_model=PacketPublic)
async def send(
    body: Annotated[PacketCreate, Body(openapi_examples=PACKET_CREATE_EXAMPLES)],
    app: AppDep,
    user_id: CurrentUser,
    key: IdempotencyKeyHeader = None,
) -> packet_results.Packet:
    """Send a red packet: the money leaves your wallet into the packet's escrow at once."""
    idem = IdempotencyKey.of(user_id, key, "send", body.model_dump())
    if isinstance(body, PersonalPacketCreate):
        return await app.packets.send_personal(
            user_id, body.recipient_id, body.amount_fen, body.greeting, idem
        )
    return await app.packets.send_group(
        user_id,
        body.group_id,
        how=body.split,
        shares_count=body.shares_count,
        total_fen=body.total_fen,
        amount_each_fen=body.amount_each_fen,
        greeting=body.greeting,
        idem=idem,
    )


@router.get("/packets/{packet_id}", response_model=PacketPublic)
async def detail(packet_id: PathId, app: AppDep, user_id: CurrentUser) -> packet_results.Packet:
    """The packet and its claim list (best luck marked once every share is taken)."""
    return await app.packets.detail(packet_id, user_id)


@router.post("/packets/{packet_id}/grab", response_model=GrabPublic)
async def grab(packet_id: PathId, app: AppDep, user_id: CurrentUser) -> opening_results.Grab:
    """抢: may I open it? Checks in order: not found → expired → not eligible → already claimed → exhausted."""
    return await app.packets.grab(packet_id, user_id)


@router.post(
    "/packets/{packet_id}/open",
    response_model=OpenPublic,
    responses={409: {"description": "already_claimed or packet_exhausted"}},
)
async def open_packet(
    packet_id: PathId, app: AppDep, user_id: CurrentUser, key: IdempotencyKeyHeader = None
) -> Response:
    """拆: take a share; the amount is credited to your wallet before this answers."""
    idem = IdempotencyKey.of(user_id, key, "open", packet_id) if key is not None else None
    reply = await app.packets.open(packet_id, user_id, idem)
    return Response(orjson.dumps(reply), media_type="application/json")


@router.get("/groups/{group_id}/packets", response_model=PacketPage)
async def group_packets(
    group_id: PathId,
    app: AppDep,
    user_id: CurrentUser,
    cursor: Cursor = None,
    limit: PageLimit = 20,
) -> packet_results.PacketPage:
    return await app.packets.list_for_group(group_id, user_id, page_cursor(cursor), limit)
