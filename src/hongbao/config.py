"""Settings, read from HONGBAO_* environment variables at the edge (and CLI flags on top)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from hongbao.domain.campaigns import CampaignLimits
from hongbao.domain.packets import PacketRules
from hongbao.domain.relay import RelayRules


class Settings(BaseSettings):
    """Every knob of hongbao; the defaults are the embedded deployment's."""

    model_config = SettingsConfigDict(env_prefix="HONGBAO_", extra="ignore")

    data_dir: Path = Path("hongbao-data")  # folder of the embedded SQLite store (and its session-token key)
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default: SQLite file in data_dir. postgresql://… for scaled mode.",
    )
    redis_url: str | None = Field(
        default=None,
        description="redis://host:6379/0, or redis+cluster://host:port for a Redis Cluster: scaled mode (the grab "
        "gate, live events, logouts and guess limits shared by every process, docs/deploy.md); default: per process.",
    )
    # Every key and channel of this install in Redis starts with this (installs or tests sharing one Redis); one
    # database's: a process refuses to start on a prefix another database holds (docs/deploy.md).
    redis_prefix: str = "hongbao:"
    redis_gate: bool = True  # with redis_url: each packet's live state in Redis (0: in each process, store decides)
    host: str = "127.0.0.1"  # `hongbao serve` listens on this address
    port: int = 8000  # … and this port
    reuse_port: bool = False  # SO_REUSEPORT: several `hongbao serve` share the port (`hongbao up` sets it)
    shutdown_grace_s: int = 10  # on SIGTERM, requests and streams still open are cut after this
    # Demo users (alice … with a published password, alice an admin), a group and balances, created on the first
    # start: by default only for the embedded quick start (SQLite in data_dir, still empty); true or false decides.
    demo: bool | None = None
    scheduler: bool = (
        True  # run the expiry scheduler inside the server (embedded); `hongbao worker` otherwise
    )
    scheduler_interval_s: float = 1.0  # seconds between two passes of the sweeper
    # One process sweeps at a time (expiry, deadlines, pending payments); a sweeper that stops renewing its lease
    # (killed, frozen) is taken over by another process's scheduler or worker this long after its last renewal.
    sweeper_lease_s: float = 10.0
    # The sweeper deletes expired tokens and revocations, and idempotency keys older than this (Stripe keeps 24 h):
    # a retry with an older key runs again.
    idempotency_key_ttl_s: int = 24 * 3600

    # Operations: logs and metrics (logs.py, api/observe.py, adapters/metrics.py).
    log_format: Literal["text", "json"] = "text"  # json: one object a line, for a log collector
    log_level: Literal["debug", "info", "warning", "error"] = "info"  # the least severe lines written
    access_log: bool = False  # one `hongbao.access` line per request (method, route, status, duration, client)
    metrics: bool = True  # GET /metrics in Prometheus' text format

    # Packet limits (DESIGN.md §1 defaults).
    share_fen_min: int = 1  # smallest share
    packet_fen_max: int = 20_000  # largest packet (200 yuan)
    shares_count_max: int = 100  # most shares of a packet
    packet_ttl_s: int = 24 * 3600  # unopened shares are refunded to the sender after this
    greeting_chars_max: int = 64  # longest greeting
    group_members_max: int = 500  # largest group

    # Wallet.
    topup_fen_max: int = 5_000_000  # the sandbox channel declines single top-ups above 50,000 yuan

    # Auth.
    token_ttl_s: int = 7 * 24 * 3600  # session (bearer token) lifetime
    token_revocation_poll_s: float = 0.5  # a logout reaches the other API processes within this
    argon2_time_cost: int = 3  # password hashing: iterations
    argon2_memory_kib: int = 65536  # password hashing: memory
    argon2_parallelism: int = 1  # password hashing: lanes
    # Login throttling (service/users.py): wrong passwords per client address, per account from devices not
    # seen before, and per known device (a device token from an earlier login passes an account's lock).
    login_failures_max_per_address: int = 30
    login_failures_max_per_account: int = 10  # then devices not seen before are refused (429)
    login_failures_max_per_device: int = 10  # per known device
    login_window_s: float = 900.0  # the window the three login limits count in

    # Limits at the edge (api/middleware.py, api/protocol.py).
    body_bytes_max: int = 1_048_576  # larger request bodies are refused with 413 too_large
    body_read_timeout_s: float = 30.0  # a body not in by then is answered 408 body_timeout
    header_read_timeout_s: float = 10.0  # `hongbao serve`: a request head not in by then closes the connection
    connections_max: int | None = None  # `hongbao serve`: past this many connections or requests, answer 503
    # `hongbao serve`: uvicorn's WebSocket implementation: "auto" (websockets-sansio, the least server CPU per
    # shake-socket message measured), "websockets" (legacy), "wsproto" (if installed).
    ws_protocol: str = "auto"

    # Live delivery (Server-Sent Events at /v1/events).
    events_heartbeat_s: float = 15.0  # a comment line this often keeps proxies from closing idle streams
    events_poll_s: float = 1.0  # idle streams look for notices posted without a poke this often

    # Open-audience kinds (face-to-face, password, celebrity) and share links.
    face_code_digits: int = 6  # length of a face-to-face code
    password_shares_count_max: int = 10_000  # campaign-sized; Alipay allowed 999,999
    celebrity_shares_count_max: int = 1_000_000  # most shares of a celebrity packet
    open_packet_fen_max: int = 100_000_000  # password and celebrity packets: up to 1,000,000 yuan
    guess_failures_max_per_user: int = 10  # wrong codes or phrases per user per window
    guess_failures_max_per_address: int = 50  # wrong codes or phrases per client address per window
    guess_window_s: float = 900.0  # the window the guess limits count in
    # Mixed into the per-install key of code and phrase digests; kept out of the database, so a dump
    # alone cannot reverse a 6-digit code's digest.
    secret_pepper: str | None = None
    # Comma-separated peppers rotated out, newest first: used only to match codes and phrases and to open secrets
    # sealed before the rotation (new ones always use secret_pepper). Drop each once what it made has run out.
    secret_pepper_previous: str | None = None
    public_url: str | None = None  # e.g. https://hongbao.example; default: the request's own base URL

    # Relay chains (接龙), asks (讨红包) and transfers (转账).
    relay_deadline_s: int = 3600  # the best-luck claimer sends the next round within this
    relay_min_fen: int = 100  # a round's minimum when the chain's starter names none
    ask_ttl_s: int = 24 * 3600  # an ask not answered within this expires
    asks_per_day_max: int = 10  # per asker per day (China time)
    transfer_ttl_s: int = 24 * 3600  # not accepted within this → refunded to the sender
    transfer_fen_max: int = 5_000_000  # largest transfer (50,000 yuan)

    # Enterprise campaigns, coupons and shake (摇一摇).
    campaign_budget_fen_max: int = 10_000_000  # 100,000 yuan per campaign or shake pool
    campaign_days_max: int = 90  # longest campaign window
    campaign_day_utc_offset_h: int = 8  # per-day caps count China days
    shake_wins_per_user_max: int = 3  # K wins per user per event (WeChat's Gala: 3)
    shakes_per_second_max: int = 5  # per user, counted before any read
    shakes_per_round_max: int = 100  # per user and round
    shakes_per_address_second_max: int = 1000  # shakes per client address per second (0: no limit)

    # Store.
    write_batch_max: int = 256  # most writes per group commit
    read_threads: int = 4  # threads for reads; on PostgreSQL two connections each (pooled, and kept for lookups)
    write_timeout_s: float = 30.0  # the longest a request waits for its write; then 503 store_unavailable
    write_retry_s: float = 2.0  # a batch that surely did not commit (database away, deadlock) is retried this long
    # How long the writer asks whether a COMMIT whose reply was lost committed before its callers get 503 'outcome
    # unknown' (the writer settles the question once the database answers again, before any later batch).
    write_resolve_s: float = 3.0

    # Host apps (platform API, service/hosts.py) and their webhooks (service/webhooks.py).
    host_rate_per_min: int = 6000  # a new host's requests a minute (all its keys); `hongbao hosts limits` changes it
    host_daily_volume_fen_max: int = 100_000_000  # a new host's users' sends a UTC day (packets and transfers)
    webhook_backoff_s: float = 5.0  # the wait after a failed delivery; doubled after each further failure
    webhook_backoff_max_s: float = 3600.0  # the longest wait between two deliveries
    webhook_attempts_max: int = 15  # then the message is given up (`hongbao webhooks replay` sends it again)
    webhook_timeout_s: float = 5.0  # a host has this long to answer a delivery

    def rules(self) -> PacketRules:
        return PacketRules(
            share_fen_min=self.share_fen_min,
            packet_fen_max=self.packet_fen_max,
            shares_count_max=self.shares_count_max,
            ttl_s=self.packet_ttl_s,
            greeting_chars_max=self.greeting_chars_max,
        )

    def relay_rules(self) -> RelayRules:
        return RelayRules(
            relay_deadline_s=self.relay_deadline_s,
            relay_min_fen=self.relay_min_fen,
            ask_ttl_s=self.ask_ttl_s,
            asks_per_day_max=self.asks_per_day_max,
            transfer_ttl_s=self.transfer_ttl_s,
            transfer_fen_max=self.transfer_fen_max,
        )

    def campaign_limits(self) -> CampaignLimits:
        return CampaignLimits(
            budget_fen_max=self.campaign_budget_fen_max,
            cash_prize_fen_max=self.packet_fen_max,
            days_max=self.campaign_days_max,
            day_utc_offset_h=self.campaign_day_utc_offset_h,
            shake_wins_per_user_max=self.shake_wins_per_user_max,
            shakes_per_second_max=self.shakes_per_second_max,
            shakes_per_round_max=self.shakes_per_round_max,
        )

    def embedded(self) -> bool:
        """Embedded mode: SQLite (by default a file in the data folder), not a database server."""
        return self.database_url is None or self.database_url.startswith("sqlite")

    def demo_enabled(self) -> bool:
        """Demo data on: asked for, or by default on the embedded quick start (never silently on PostgreSQL)."""
        return self.demo if self.demo is not None else self.embedded()

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'hongbao.db').resolve()}"
