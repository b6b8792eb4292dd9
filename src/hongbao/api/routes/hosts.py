"""The platform API's own endpoints: admins register host apps; a host manages its keys and webhook, reads its figures.

A host's requests for its users go to every other endpoint with `Authorization: Bearer hk_…` and
`X-On-Behalf-Of: <external id>` (api/deps.py); the endpoints here take the host key alone.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.openapi.models import HTTPBearer as HTTPBearerModel
from fastapi.security.base import SecurityBase
from pydantic import BaseModel, ConfigDict, Field

from hongbao.api.deps import AppDep, CurrentUser, the_app
from hongbao.api.openapi import operation_id
from hongbao.api.schemas_hosts import HostCreated, HostDashboard, HostKeyPublic, NewHostKey, WebhookPublic
from hongbao.api.types import Int
from hongbao.domain.errors import Forbidden, Unauthorized
from hongbao.service.hosts import SCOPES, HostCaller, is_host_key
from hongbao.service.results import hosts as host_results

router = APIRouter(prefix="/v1", tags=["hosts"], generate_unique_id_function=operation_id)


class HostCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64, description="The host app's name (unique).")
    rate_per_min: Int | None = Field(default=None, ge=1, description="Requests a minute, all its keys together.")
    daily_volume_fen_max: Int | None = Field(default=None, ge=1, description="Fen its users may send a UTC day.")
    scopes: list[str] | None = Field(default=None, description=f"The first key's scopes: some of {list(SCOPES)}.")
    webhook_url: str | None = Field(default=None, max_length=2048, description="Where its webhooks are sent.")


class WebhookSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(max_length=2048, description="Where webhooks are sent; null stops them.")


class HostKey(SecurityBase):
    """The host whose key (with the `dashboard` scope) is in `Authorization: Bearer hk_…`, as a security scheme
    (OpenAPI lists it on these routes)."""

    def __init__(self) -> None:
        self.model = HTTPBearerModel(description="A host app's key (hk_…) with the dashboard scope.")
        self.scheme_name = "hostKey"

    async def __call__(self, request: Request) -> HostCaller:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not is_host_key(token.strip()):
            raise Unauthorized("Send 'Authorization: Bearer hk_…' (a host key).", code="host_key_missing")
        caller = await the_app(request).hosts.caller(token.strip())
        if "dashboard" not in caller.scopes:
            raise Forbidden("This key lacks the 'dashboard' scope.", code="scope_missing")
        return caller


HostDep = Annotated[HostCaller, Depends(HostKey())]


@router.post("/admin/hosts", status_code=201, response_model=HostCreated, response_model_exclude_unset=True)
async def create_host(body: HostCreate, app: AppDep, user_id: CurrentUser) -> host_results.HostCreated:
    """Admins only (403 not_admin): register a host app. The reply holds its first API key and, with a
    `webhook_url`, its webhook signing secret: both are shown this once."""
    host = await app.hosts.create(body.name, body.rate_per_min, body.daily_volume_fen_max, body.scopes, user_id)
    if body.webhook_url is not None:
        host["webhook_secret"] = await app.webhooks.set_endpoint(host["id"], body.webhook_url)
        host["webhook_url"] = body.webhook_url
    return host


@router.get("/host", response_model=HostDashboard)
async def host_dashboard(app: AppDep, caller: HostDep) -> host_results.HostDashboard:
    """The host's own figures: its users, what they sent, claimed and got back, today's volume, its webhooks."""
    return await app.hosts.dashboard_of(caller)


@router.put("/host/webhook", response_model=WebhookPublic)
async def set_webhook(body: WebhookSet, app: AppDep, caller: HostDep) -> dict[str, Any]:
    """Point the host's webhooks at `url` with a new signing secret (shown this once); null stops them."""
    secret = await app.webhooks.set_endpoint(caller.host_id, body.url)
    return {"webhook_url": body.url, "webhook_secret": secret}


@router.post("/host/keys/{key_id}/rotate", status_code=201, response_model=NewHostKey)
async def rotate_key(key_id: str, app: AppDep, caller: HostDep) -> host_results.NewHostKey:
    """A new key with the same scopes (shown this once); the old one is revoked."""
    return await app.hosts.rotate_key(key_id, host_id=caller.host_id)


@router.delete("/host/keys/{key_id}", response_model=HostKeyPublic)
async def revoke_key(key_id: str, app: AppDep, caller: HostDep) -> host_results.HostKey:
    """Revoke one of the host's keys (refused everywhere within 5 s, at once in this process)."""
    return await app.hosts.revoke_key(key_id, host_id=caller.host_id)
