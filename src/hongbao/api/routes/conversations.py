"""Conversations, messages, and the live event stream (Server-Sent Events)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

from fastapi import APIRouter, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field, StrictStr
from starlette.responses import StreamingResponse

from hongbao.adapters.events import DROPPED, Event
from hongbao.api.deps import (
    AppDep,
    CurrentUser,
    Cursor,
    IdempotencyKeyHeader,
    PageLimit,
    PathId,
    activity_cursor,
    bearer_user,
    page_cursor,
)
from hongbao.api.openapi import BEARER, EVENT_STREAM, operation_id
from hongbao.api.schemas_social import ConversationPage, ConversationPublic, MessagePage, MessagePublic, ReadPublic
from hongbao.api.types import Id
from hongbao.domain.errors import Rejected, Unauthorized
from hongbao.domain.social import MESSAGE_CHARS_MAX
from hongbao.service.hosts import is_host_key
from hongbao.service.idempotency import IdempotencyKey
from hongbao.service.results import social as social_results

router = APIRouter(prefix="/v1", tags=["conversations"], generate_unique_id_function=operation_id)


class ConversationOpen(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: Id | None = Field(default=None, description="A friend: your 1:1 conversation.")
    group_id: Id | None = Field(default=None, description="A group of yours: its conversation.")


class MessageCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: StrictStr = Field(max_length=MESSAGE_CHARS_MAX * 2, examples=["新年快乐！"])


class ReadMark(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message_id: Id | None = None


@router.get("/conversations", response_model=ConversationPage)
async def conversations(
    app: AppDep,
    user_id: CurrentUser,
    cursor: str | None = Query(None, max_length=40, json_schema_extra={"pattern": r"^[0-9]{1,18}\.[0-9]{1,18}$"}),
    limit: PageLimit = 20,
) -> social_results.ConversationPage:
    """Your conversations, most recently active first, each with its last message and unread count; pass
    `next_cursor` for the less active ones (one that becomes active meanwhile moves to the top, not to a later page)."""
    return await app.conversations.of_user(user_id, activity_cursor(cursor), limit)


@router.get("/conversations/{conversation_id}", response_model=ConversationPublic)
async def conversation(conversation_id: PathId, app: AppDep, user_id: CurrentUser) -> social_results.Conversation:
    """One of your conversations, as in the list (404 conversation_not_found for anyone else's)."""
    return await app.conversations.one(user_id, conversation_id)


@router.post("/conversations", response_model=ConversationPublic)
async def open_conversation(body: ConversationOpen, app: AppDep, user_id: CurrentUser) -> social_results.Conversation:
    """The conversation with a friend (`user_id`) or of a group (`group_id`), created on first use."""
    if (body.user_id is None) == (body.group_id is None):
        raise Rejected("Give either user_id (a friend) or group_id.", code="invalid_conversation")
    if body.user_id is not None:
        return await app.conversations.with_friend(user_id, body.user_id)
    assert body.group_id is not None
    return await app.conversations.of_group(user_id, body.group_id)


@router.get("/conversations/{conversation_id}/messages", response_model=MessagePage)
async def messages(
    conversation_id: PathId,
    app: AppDep,
    user_id: CurrentUser,
    cursor: Cursor = None,
    limit: PageLimit = 50,
) -> social_results.MessagePage:
    """Messages newest first: text, packets (`data.packet_id`), claim notices, system notices."""
    return await app.conversations.messages(user_id, conversation_id, page_cursor(cursor), limit)


@router.post("/conversations/{conversation_id}/messages", status_code=status.HTTP_201_CREATED,
             response_model=MessagePublic)
async def post_message(
    conversation_id: PathId,
    body: MessageCreate,
    app: AppDep,
    user_id: CurrentUser,
    idempotency_key: IdempotencyKeyHeader = None,
) -> social_results.Message:
    """Post a text message (participants only; a 1:1 conversation needs you to still be friends)."""
    idem = IdempotencyKey.of(user_id, idempotency_key, "post_message", [conversation_id, body.text])
    return await app.conversations.post_text(user_id, conversation_id, body.text, idem)


@router.post("/conversations/{conversation_id}/read", response_model=ReadPublic)
async def mark_read(
    conversation_id: PathId, app: AppDep, user_id: CurrentUser, body: ReadMark | None = None
) -> social_results.Read:
    """Mark the conversation read up to `message_id` (default: everything)."""
    return await app.conversations.mark_read(user_id, conversation_id, body.message_id if body else None)


# ---------------------------------------------------------------------- live events


def sse(event: Event) -> str:
    """One Server-Sent Event: `event:`, optional `id:`, one `data:` line of JSON."""
    head = f"event: {event.name}\n" + (f"id: {event.id}\n" if event.id is not None else "")
    return head + "data: " + json.dumps(event.data, ensure_ascii=False, separators=(",", ":")) + "\n\n"


@router.get("/events", response_class=StreamingResponse, responses=EVENT_STREAM, openapi_extra=BEARER)
async def events(request: Request, app: AppDep, token: str | None = Query(None, max_length=256)) -> StreamingResponse:
    """Live events as Server-Sent Events: `message` (any new message of your conversations), `packet_sent`,
    `packet_opened` (with `claimed_count` / `shares_count`), `packet_expired`; a comment every 15 s.

    Authenticate with `Authorization: Bearer …`, or with `?token=…` because the browser's EventSource
    cannot send headers.  The query form puts the token where access logs and proxies may record it:
    hongbao's own server logs no URLs, and a client should prefer a short-lived token for the stream.
    A host app's key streams its user's events as on every other endpoint (`Authorization: Bearer hk_…` with
    `X-On-Behalf-Of`); it is never taken from the query, where a long-lived key would end up in logs.
    """
    headers = request.headers
    header = headers.get("authorization", "")
    scheme, _, bearer = header.partition(" ")
    if scheme.lower() == "bearer" and bearer.strip():
        user_id = await bearer_user(app, header, headers.get("x-on-behalf-of"), request.method)
    elif token and is_host_key(token):
        raise Unauthorized("A host key goes in the Authorization header, never in the URL.", code="token_invalid")
    elif token:
        user_id = await app.users.authenticate(token)
    else:
        raise Unauthorized("Send 'Authorization: Bearer <token>' or ?token=<token>.", code="token_missing")
    live, settings = app.live, app.settings

    async def stream() -> AsyncIterator[str]:
        sub = await live.subscribe(user_id)
        try:
            yield "retry: 3000\n: connected\n\n"
            quiet_since = time.monotonic()
            while True:
                event = await sub.next(min(settings.events_poll_s, settings.events_heartbeat_s))
                if event is None:
                    if await request.is_disconnected():
                        return
                    await live.pump_if_due()
                    if time.monotonic() - quiet_since >= settings.events_heartbeat_s:
                        yield ": heartbeat\n\n"
                        quiet_since = time.monotonic()
                    continue
                yield sse(event)
                quiet_since = time.monotonic()
                if event is DROPPED:
                    return
        finally:
            live.unsubscribe(sub)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
