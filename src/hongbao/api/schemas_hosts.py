"""Answers of the platform API's own endpoints: host apps, their keys, webhook and figures."""

from __future__ import annotations

from pydantic import Field

from hongbao.api.schemas import Reply


class HostKeyPublic(Reply):
    key_id: str
    scopes: list[str]
    created_at: str
    revoked_at: str | None


class NewHostKey(Reply):
    key_id: str
    key: str = Field(description="`hk_…`: shown this once; send it as `Authorization: Bearer hk_…`.")
    scopes: list[str]


class HostPublic(Reply):
    id: int
    name: str
    created_at: str
    rate_per_min: int
    daily_volume_fen_max: int
    webhook_url: str | None
    keys: list[HostKeyPublic]


class HostCreated(HostPublic):
    key: NewHostKey
    webhook_secret: str | None = Field(default=None, description="With a webhook_url only: shown this once.")


class HostFigures(Reply):
    users_count: int
    packets_sent_count: int
    packets_sent_fen: int
    packets_refunded_fen: int
    claims_count: int
    claimed_fen: int
    volume_today_fen: int
    webhooks_delivered_count: int
    webhooks_failed_count: int
    webhooks_pending_count: int


class HostDashboard(HostPublic):
    figures: HostFigures


class WebhookPublic(Reply):
    webhook_url: str | None
    webhook_secret: str | None = Field(description="The new signing secret (shown this once); null: stopped.")
