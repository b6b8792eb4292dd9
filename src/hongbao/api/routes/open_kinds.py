"""Face-to-face, password and celebrity packets: send, claim by code or phrase, images, share links.

The page a share link opens (/s/{token}) is in landing.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Header, Path, Query, Request, status
from pydantic import Field, StrictBool, StrictStr
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from hongbao.adapters import images
from hongbao.api.deps import AppDep, CurrentUser, IdempotencyKeyHeader, PathId
from hongbao.api.openapi import PNG, operation_id
from hongbao.api.schemas import OpenPublic, Strict
from hongbao.api.schemas_open import (
    CodePacketCreated,
    OpenPacketCreated,
    PasswordPacketCreated,
    SecretPublic,
    ShareFigures,
    SharePublic,
)
from hongbao.api.types import Fen, Int, Number
from hongbao.domain.open_kinds import SecretKind, parse_channel, parse_platform
from hongbao.domain.packets import PacketKind
from hongbao.service.idempotency import IdempotencyKey
from hongbao.service.results import open_kinds as open_results
from hongbao.service.sharing import link_path

router = APIRouter(tags=["open packets"], generate_unique_id_function=operation_id)

Coordinate = Number
SplitName = Literal["equal", "double_mean", "line_cut"]
Token = Annotated[str, Path(min_length=8, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]
ChannelHeader = Annotated[str | None, Header(alias="X-Client-Channel", description="app or web")]


class _SplitBody(Strict):
    split: SplitName = Field(description="equal: amount_each_fen × shares_count; double_mean or line_cut: total_fen")
    shares_count: Int = Field(examples=[10])
    total_fen: Fen | None = None
    amount_each_fen: Fen | None = None
    greeting: StrictStr | None = Field(default=None, max_length=1024, examples=["恭喜发财"])


class FaceToFaceCreate(_SplitBody):
    lat: Coordinate | None = Field(default=None, description="the sender's latitude, for a distance check")
    lng: Coordinate | None = None
    radius_m: Int | None = Field(default=None, description="claimers must stand this close (10–10,000 m)")


class PasswordCreate(_SplitBody):
    phrase: StrictStr = Field(max_length=256, examples=["马到成功"])


class CelebrityCreate(_SplitBody):
    pass


class CodeOpen(Strict):
    code: StrictStr = Field(max_length=64, examples=["428193"])
    lat: Coordinate | None = None
    lng: Coordinate | None = None
    platform: StrictStr | None = Field(default=None, max_length=16)


class PhraseOpen(Strict):
    phrase: StrictStr = Field(max_length=256, examples=["马到成功"])
    platform: StrictStr | None = Field(default=None, max_length=16)


class LinkOpen(Strict):
    secret: StrictStr | None = Field(default=None, max_length=256, description="the code or phrase, if not embedded")
    lat: Coordinate | None = None
    lng: Coordinate | None = None
    platform: StrictStr | None = Field(default=None, max_length=16)


class ShareCreate(Strict):
    platform: StrictStr = Field(examples=["wechat"], max_length=16)
    embed_secret: StrictBool = Field(default=False, description="put the code or phrase in the link's page")


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def client_channel(header: str | None, query: str | None, default: str = "app") -> str:
    return parse_channel(header if header is not None else query, default)


def _base(request: Request, app: AppDep) -> str:
    return (app.settings.public_url or str(request.base_url)).rstrip("/")


def _json(reply: Mapping[str, Any], code: int = 200) -> Response:
    return Response(orjson.dumps(reply), status_code=code, media_type="application/json")


# ---------------------------------------------------------------------- send


@router.post("/v1/packets/face-to-face", status_code=status.HTTP_201_CREATED, response_model=CodePacketCreated)
async def send_face_to_face(
    body: FaceToFaceCreate, request: Request, app: AppDep, user_id: CurrentUser, key: IdempotencyKeyHeader = None
) -> Response:
    """面对面红包: anyone who enters its code (shown only to you) may open it; optionally only within radius_m."""
    idem = IdempotencyKey.of(user_id, key, "face_to_face", body.model_dump())
    reply = await app.open_kinds.send_face_to_face(
        user_id, how=body.split, shares_count=body.shares_count, total_fen=body.total_fen,
        amount_each_fen=body.amount_each_fen, greeting=body.greeting, lat=body.lat, lng=body.lng,
        radius_m=body.radius_m, idem=idem,
    )
    reply["share_url"] = _base(request, app) + reply["share_path"]
    return _json(reply, 201)


@router.post("/v1/packets/password", status_code=status.HTTP_201_CREATED, response_model=PasswordPacketCreated)
async def send_password(
    body: PasswordCreate, request: Request, app: AppDep, user_id: CurrentUser, key: IdempotencyKeyHeader = None
) -> Response:
    """口令红包: anyone who types the phrase may open it; a phrase is unique among live packets."""
    fingerprint = {**body.model_dump(), "phrase": await app.open_kinds.blind(SecretKind.PHRASE, body.phrase)}
    idem = IdempotencyKey.of(user_id, key, "password", fingerprint)
    reply = await app.open_kinds.send_password(
        user_id, phrase=body.phrase, how=body.split, shares_count=body.shares_count, total_fen=body.total_fen,
        amount_each_fen=body.amount_each_fen, greeting=body.greeting, idem=idem,
    )
    reply["share_url"] = _base(request, app) + reply["share_path"]
    return _json(reply, 201)


@router.post("/v1/packets/celebrity", status_code=status.HTTP_201_CREATED, response_model=OpenPacketCreated)
async def send_celebrity(
    body: CelebrityCreate, request: Request, app: AppDep, user_id: CurrentUser, key: IdempotencyKeyHeader = None
) -> Response:
    """明星红包: a verified celebrity's packet for their followers, with very many shares."""
    idem = IdempotencyKey.of(user_id, key, "celebrity", body.model_dump())
    reply = await app.open_kinds.send_celebrity(
        user_id, how=body.split, shares_count=body.shares_count, total_fen=body.total_fen,
        amount_each_fen=body.amount_each_fen, greeting=body.greeting, idem=idem,
    )
    reply["share_url"] = _base(request, app) + reply["share_path"]
    return _json(reply, 201)


# ---------------------------------------------------------------------- claim


@router.post("/v1/codes/open", response_model=OpenPublic)
async def open_by_code(
    body: CodeOpen, request: Request, app: AppDep, user_id: CurrentUser, key: IdempotencyKeyHeader = None,
    channel_header: ChannelHeader = None, channel: str | None = Query(None, max_length=8),
) -> Response:
    """Open a face-to-face packet by its code. Wrong code: 404 wrong_code; too many wrong guesses: 429."""
    fingerprint = {**body.model_dump(), "code": await app.open_kinds.blind(SecretKind.CODE, body.code)}
    idem = IdempotencyKey.of(user_id, key, "open_code", fingerprint)
    reply = await app.open_kinds.open_by_code(
        user_id, body.code, address=_address(request), lat=body.lat, lng=body.lng,
        channel=client_channel(channel_header, channel), platform=_platform(body.platform), idem=idem,
    )
    return _json(reply)


@router.post("/v1/phrases/open", response_model=OpenPublic)
async def open_by_phrase(
    body: PhraseOpen, request: Request, app: AppDep, user_id: CurrentUser, key: IdempotencyKeyHeader = None,
    channel_header: ChannelHeader = None, channel: str | None = Query(None, max_length=8),
) -> Response:
    """Open a password packet by its phrase. Wrong phrase: 404 wrong_phrase; too many wrong guesses: 429."""
    fingerprint = {**body.model_dump(), "phrase": await app.open_kinds.blind(SecretKind.PHRASE, body.phrase)}
    idem = IdempotencyKey.of(user_id, key, "open_phrase", fingerprint)
    reply = await app.open_kinds.open_by_phrase(
        user_id, body.phrase, address=_address(request), channel=client_channel(channel_header, channel),
        platform=_platform(body.platform), idem=idem,
    )
    return _json(reply)


@router.post("/v1/shares/{token}/open", response_model=OpenPublic)
async def open_by_link(
    token: Token, body: LinkOpen, request: Request, app: AppDep, user_id: CurrentUser,
    key: IdempotencyKeyHeader = None, channel_header: ChannelHeader = None,
    channel: str | None = Query(None, max_length=8),
) -> Response:
    """Open the packet behind a share link (its code or phrase in `secret`, unless the sharer embedded it)."""
    # The secret's kind is unknown before the token is resolved: blind it both ways.
    blinded = [await app.open_kinds.blind(k, body.secret) for k in (SecretKind.CODE, SecretKind.PHRASE)]
    idem = IdempotencyKey.of(user_id, key, "open_link", [token, {**body.model_dump(), "secret": blinded}])
    reply = await app.open_kinds.open_by_link(
        token, user_id, secret=body.secret, lat=body.lat, lng=body.lng, address=_address(request),
        channel=client_channel(channel_header, channel, "web"), platform=body.platform, idem=idem,
    )
    return _json(reply)


def _platform(value: str | None) -> str:
    return parse_platform(value, required=False)


# ---------------------------------------------------------------------- the sender's views


@router.get("/v1/packets/{packet_id}/secret", response_model=SecretPublic, response_model_exclude_unset=True)
async def secret(packet_id: PathId, app: AppDep, user_id: CurrentUser) -> dict[str, Any]:
    """The code or phrase of your own face-to-face or password packet (nobody else is ever shown it)."""
    return await app.open_kinds.secret_of(packet_id, user_id)


@router.get("/v1/packets/{packet_id}/qr.png", response_class=Response, responses=PNG)
async def qr(packet_id: PathId, request: Request, app: AppDep, user_id: CurrentUser) -> Response:
    """A QR image of your packet's link; for a face-to-face packet, scanning it opens the packet without the code."""
    kind = await app.open_kinds.own_kind(packet_id, user_id)
    link = await app.sharing.own_link(packet_id, user_id, embed_secret=kind is PacketKind.FACE_TO_FACE)
    png = await run_in_threadpool(images.qr_png, _base(request, app) + link["path"])
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, no-store"})


@router.get("/v1/packets/{packet_id}/card.png", response_class=Response, responses=PNG)
async def card(packet_id: PathId, app: AppDep, user_id: CurrentUser) -> Response:
    """The card of your password packet, with its phrase: share it where links are blocked."""
    facts = await app.open_kinds.card_facts(packet_id, user_id)
    png = await run_in_threadpool(
        lambda: images.card_png(greeting=facts["greeting"], sender=facts["sender"], phrase=facts["secret"])
    )
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, no-store"})


@router.post("/v1/packets/{packet_id}/shares", status_code=status.HTTP_201_CREATED, response_model=SharePublic)
async def share(
    packet_id: PathId, body: ShareCreate, request: Request, app: AppDep, user_id: CurrentUser,
    channel_header: ChannelHeader = None, channel: str | None = Query(None, max_length=8),
) -> open_results.ShareLink:
    """Share your packet to a platform: its link /s/{token}?platform=…; the share is counted in the figures."""
    reply = await app.sharing.share(
        packet_id, user_id, platform=body.platform, channel=client_channel(channel_header, channel),
        embed_secret=body.embed_secret,
    )
    reply["url"] = _base(request, app) + reply["path"]
    return reply


@router.get("/v1/packets/{packet_id}/figures", response_model=ShareFigures)
async def figures(packet_id: PathId, app: AppDep, user_id: CurrentUser) -> open_results.ShareFigures:
    """Shares, landing-page views and claims of your packet, by platform and by channel (app or web)."""
    return await app.sharing.figures(packet_id, user_id)


__all__ = ["link_path", "router"]
