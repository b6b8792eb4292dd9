"""The OpenAPI document as a contract: readable operation ids, the bearer scheme, and the errors each operation answers.

Every error the server sends is one `application/problem+json` shape (`Problem`, from api/errors.py), the 422 of a
malformed request included (FastAPI would document its own `HTTPValidationError`, which the server never sends).
Which statuses an operation can answer follows from what it takes: a bearer token (401), a path id (404), any
input (422), a body (413), the database (503), an Idempotency-Key (409 `idempotency_key_reused`); the refusals
of its rules (403, 409, 429) are listed per operation in `REFUSALS`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field

PROBLEM = "application/problem+json"
REF = "#/components/schemas/{model}"


class FieldError(BaseModel):
    loc: list[str] = Field(description='Where: `["body", "amount_fen"]`, `["path", "packet_id"]`, …')
    msg: str
    type: str


class Problem(BaseModel):
    """An RFC 9457 problem: `code` is stable (see `domain/errors.py`); `title` and `detail` are for people.
    Extension members name the limit a refusal met, for clients that word it themselves: `max_fen`, `min_fen`,
    `chars_max`, `members_max`, `subject` (what the limit is of), `reason` (e.g. of a weak_password)."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{
        "type": "/problems/packet_exhausted", "code": "packet_exhausted", "title": "Conflict with the current state",
        "status": 409, "detail": "Too late: every share has been taken.",
    }, {
        "type": "/problems/amount_too_large", "code": "amount_too_large", "title": "Rejected by a rule",
        "status": 422, "detail": "A packet holds at most ¥200.00.", "max_fen": 20000, "subject": "packet",
    }]})

    type: str = Field(description="`/problems/<code>`")
    title: str
    status: int
    detail: str
    code: str = Field(description="Stable machine-readable reason, e.g. `packet_exhausted`.")
    errors: list[FieldError] | None = Field(
        default=None, description="422 `invalid_request` only: each field that is malformed (at most 20)."
    )


WHY = {
    "400": "The body could not be read as JSON text (`invalid_request`).",
    "401": "No valid bearer token (`token_missing`, `token_invalid`): log in with POST /v1/sessions.",
    "403": "Known caller, not allowed (e.g. `not_group_member`, `not_eligible`, `not_admin`).",
    "404": "No such thing, or not yours to know about (`*_not_found`).",
    "409": "The state disagrees (e.g. `already_claimed`, `packet_exhausted`, `idempotency_key_reused`).",
    "413": "The body is over HONGBAO_BODY_BYTES_MAX (`too_large`).",
    "422": "Malformed request (`invalid_request`, with `errors`) or a rule of the product (e.g. "
    "`insufficient_funds`).",
    "429": "Tried too often (`too_many_attempts`, …); see Retry-After.",
    "503": "The database (or the payment channel, the rate limiter) did not answer (`store_unavailable`, …); "
    "see Retry-After.",
}

class HealthPublic(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: str = Field(description="ok, or writer_dead (503: restart the process)")
    version: str


class ReadyPublic(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: str = Field(description="ready, or unavailable (503)")
    database: str = Field(description="ok or unreachable")
    redis: str | None = Field(default=None, description="ok or unreachable; only with HONGBAO_REDIS_URL")
    writer: str = Field(description="ok, stuck (on one batch over 30 s) or dead")
    queued: int
    batches: int
    unknown_commits: int
    unresolved: int
    failed_recently: bool


HEALTH: dict[int | str, dict[str, Any]] = {200: {"model": HealthPublic}, 503: {"model": HealthPublic}}
READY: dict[int | str, dict[str, Any]] = {200: {"model": ReadyPublic}, 503: {"model": ReadyPublic}}

# For a route that reads the token itself (the event stream also takes ?token=, for EventSource).
BEARER: dict[str, Any] = {"security": [{"bearer": []}]}

# Answers that are not JSON, for `responses=` of their routes.
PNG: dict[int | str, dict[str, Any]] = {
    200: {"description": "A PNG image.", "content": {"image/png": {"schema": {"type": "string", "format": "binary"}}}}
}
EVENT_STREAM: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Server-Sent Events (`event:` name, `data:` one line of JSON) until the client leaves.",
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
    }
}

# The rule refusals (403 Forbidden, 409 Conflict, 429 TooManyRequests of domain/errors.py) per operation id.
REFUSALS: dict[str, set[int]] = {
    "packets_send": {403}, "packets_detail": {403}, "packets_grab": {403, 409}, "packets_open": {403, 409},
    "packets_group": {403},
    "packets_send_password": {409}, "packets_send_celebrity": {403},
    "packets_open_by_code": {403, 404, 409, 429}, "packets_open_by_phrase": {404, 409, 429},
    "packets_open_by_link": {403, 409, 429}, "packets_secret": {403}, "packets_qr": {403}, "packets_card": {403},
    "packets_share": {403}, "packets_figures": {403},
    "users_register": {409}, "users_login": {401, 429}, "users_find": {404},
    "social_request_friend": {404, 409}, "social_accept_friend": {409}, "social_group": {403},
    "social_create_group": {403}, "social_add_member": {403, 409}, "social_remove_member": {403},
    "social_leave": {403},
    "followers_verify": {403}, "web_demo_users": {404}, "hosts_create": {403, 409},
    "conversations_open": {403}, "conversations_messages": {403}, "conversations_post_message": {403},
    "relay_start": {403}, "relay_detail": {403}, "relay_group_relays": {403}, "relay_next_round": {403},
    "asks_ask": {403, 429}, "asks_detail": {403}, "asks_fulfil": {403, 409}, "asks_decline": {403, 409},
    "transfers_send": {403}, "transfers_detail": {403}, "transfers_accept": {403, 409},
    "transfers_return": {403, 409},
    "campaigns_create": {403}, "campaigns_claim": {403, 409, 429}, "campaigns_top_up": {403},
    "campaigns_cancel": {403, 409}, "campaigns_figures": {403},
    "coupons_redeem": {403, 409, 429}, "coupons_take": {409},
    "merchants_register": {403}, "merchants_add_offer": {403},
    "shake_create_event": {403}, "shake_add_pool": {403}, "shake_shake": {409, 429},
}
# OpenAPI links: what one answer's id lets a client (and schemathesis's stateful tests) do next.
# (operation, its success status, the id's JSON pointer in the answer, the parameter it fills, the operations)
LINKS: list[tuple[str, str, str, str, list[str]]] = [
    ("packets_send", "201", "/id", "packet_id", ["packets_detail", "packets_grab", "packets_open"]),
    ("packets_send_face_to_face", "201", "/id", "packet_id", ["packets_secret", "packets_qr", "packets_share",
                                                              "packets_figures"]),
    ("packets_send_password", "201", "/id", "packet_id", ["packets_secret", "packets_card", "packets_share"]),
    ("packets_send_celebrity", "201", "/id", "packet_id", ["packets_detail", "packets_open", "packets_share"]),
    ("social_create_group", "201", "/id", "group_id", ["social_group", "social_add_member", "packets_group",
                                                       "relay_group_relays"]),
    ("conversations_open", "200", "/id", "conversation_id", ["conversations_conversation", "conversations_messages",
                                                             "conversations_post_message", "conversations_mark_read"]),
    ("relay_start", "201", "/id", "relay_id", ["relay_detail", "relay_next_round"]),
    ("asks_ask", "201", "/id", "ask_id", ["asks_detail", "asks_fulfil", "asks_decline"]),
    ("transfers_send", "201", "/id", "transfer_id", ["transfers_detail", "transfers_accept", "transfers_return"]),
    ("campaigns_create", "201", "/id", "campaign_id", ["campaigns_campaign", "campaigns_claim", "campaigns_top_up",
                                                       "campaigns_cancel", "campaigns_figures"]),
    ("merchants_register", "201", "/id", "merchant_id", ["merchants_add_offer"]),
    ("shake_create_event", "201", "/id", "event_id", ["shake_event", "shake_add_pool", "shake_shake"]),
    ("users_register", "201", "/id", "target_id", ["followers_profile", "followers_follow"]),
]

# Operations under /v1/ that take no token (all others answer 401 without one).
PUBLIC = frozenset({"users_register", "users_login", "web_demo_users"})
# Tags of several words get a short prefix.
PREFIXES = {"friends and groups": "social", "open packets": "packets"}


def operation_id(route: APIRoute) -> str:
    """`<tag>_<function>`, e.g. `packets_open` for packets.open_packet: the tag's own word is not repeated."""
    tag = str(route.tags[0]) if route.tags else route.endpoint.__module__.rsplit(".", 1)[-1]
    prefix = re.sub(r"[^a-z0-9]+", "_", PREFIXES.get(tag, tag).lower()).strip("_")
    words = route.name.split("_")
    kept = [w for w in words if w not in {prefix, prefix.removesuffix("s")}]
    return f"{prefix}_{'_'.join(kept or words)}"


def document(spec: dict[str, Any]) -> None:
    """Add the problem+json errors to every operation of an OpenAPI document built by FastAPI."""
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    for model in (FieldError, Problem):
        found = model.model_json_schema(ref_template=REF)
        schemas.update(found.pop("$defs", {}))
        schemas[model.__name__] = found
    for path, operations in spec.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status in sorted(_statuses(spec, path, operation)):
                answer = responses.setdefault(str(status), {})
                if "HTTPValidationError" in str(answer.get("content")):  # FastAPI's default, never sent
                    answer.clear()
                answer["description"] = answer.get("description") or WHY.get(str(status), "An error.")
                if "content" not in answer or ("application/json" in answer["content"] and not _model(answer)):
                    answer["content"] = {PROBLEM: {"schema": {"$ref": REF.format(model="Problem")}}}
            operation["responses"] = dict(sorted(responses.items()))
    _link(spec)
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)


def _link(spec: dict[str, Any]) -> None:
    by_id = {op.get("operationId"): op for ops in spec.get("paths", {}).values() for op in ops.values()}
    for source, status, pointer, parameter, targets in LINKS:
        answer = by_id.get(source, {}).get("responses", {}).get(status)
        if answer is None:
            continue
        links = answer.setdefault("links", {})
        for target in targets:
            if target in by_id:
                links[target] = {"operationId": target, "parameters": {parameter: f"$response.body#{pointer}"}}


def _model(answer: dict[str, Any]) -> bool:
    """A response a route documented with a model of its own (e.g. /health's 503), left as it is."""
    return any(media.get("schema") for media in answer.get("content", {}).values())


def _body_fields(spec: dict[str, Any], operation: dict[str, Any]) -> set[str]:
    """The property names of an operation's JSON body, through $ref and unions."""
    content = operation.get("requestBody", {}).get("content", {})
    todo = [media.get("schema", {}) for media in content.values()]
    names: set[str] = set()
    while todo:
        schema = todo.pop()
        if "$ref" in schema:
            schema = spec["components"]["schemas"].get(schema["$ref"].rsplit("/", 1)[-1], {})
        names |= set(schema.get("properties", {}))
        todo += [*schema.get("anyOf", []), *schema.get("oneOf", []), *schema.get("allOf", [])]
    return names


def _statuses(spec: dict[str, Any], path: str, operation: dict[str, Any]) -> set[int]:
    parameters = operation.get("parameters", [])
    found = set(REFUSALS.get(operation.get("operationId", ""), ()))
    found |= {int(s) for s in operation.get("responses", {}) if s[0] in "45" and s.isdigit()}
    if operation.get("security") or (path.startswith("/v1/") and operation.get("operationId") not in PUBLIC):
        found.add(401)
    if any(p.get("in") == "path" for p in parameters) or any(
        name.endswith(("_id", "_ids")) for name in _body_fields(spec, operation)
    ):
        found.add(404)  # an id that names nothing (or nothing of yours)
    if parameters or "requestBody" in operation:
        found.add(422)
    if "requestBody" in operation:
        found |= {400, 413}  # 400: a body that is not even text (invalid UTF-8)
    if any(p.get("in") == "header" and p.get("name") == "Idempotency-Key" for p in parameters):
        found.add(409)
    if path.startswith("/v1/"):
        found.add(503)
    return found


def install(api: FastAPI) -> None:
    """Make `api.openapi()` return the documented contract (built once, on first ask)."""
    build: Callable[[], dict[str, Any]] = api.openapi

    def openapi() -> dict[str, Any]:
        if api.openapi_schema is None:
            document(build())
        assert api.openapi_schema is not None
        return api.openapi_schema

    api.openapi = openapi  # type: ignore[method-assign]
