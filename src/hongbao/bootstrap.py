"""The one place that wires settings → adapters → services."""

from __future__ import annotations

from dataclasses import dataclass, field

from hongbao.adapters.channel import SandboxChannel
from hongbao.adapters.events import EventBus
from hongbao.adapters.passwords import Argon2Hasher
from hongbao.adapters.redis_limiter import RedisLimiters
from hongbao.adapters.redis_shared import Fanout
from hongbao.adapters.scaled import make_gate
from hongbao.adapters.sql import migrate
from hongbao.adapters.sql.lease import SweepLease
from hongbao.adapters.sql.store import SqlStore
from hongbao.config import Settings
from hongbao.domain.split import Rng
from hongbao.service.asks import Asks
from hongbao.service.campaigns import Campaigns
from hongbao.service.conversations import Conversations
from hongbao.service.deps import Deps, Limits
from hongbao.service.hosts import HostDefaults, Hosts
from hongbao.service.install_key import InstallKey, parse_peppers
from hongbao.service.live_feed import LiveFeed
from hongbao.service.open_kinds import OpenKinds
from hongbao.service.packets import Packets
from hongbao.service.ports import Clock, PaymentChannel, SystemClock
from hongbao.service.ratelimit import Limiters, memory_limiters
from hongbao.service.relay import Relay
from hongbao.service.shake import Shake
from hongbao.service.sharing import Sharing
from hongbao.service.social import Social
from hongbao.service.social_graph import SocialGraph
from hongbao.service.tokens import Revocations, TokenSigner
from hongbao.service.transfers import Transfers
from hongbao.service.users import LoginThrottle, Users
from hongbao.service.wallet import Wallet
from hongbao.service.webhooks import DeliveryRules, Webhooks


@dataclass
class App:
    """Every use case, wired."""

    settings: Settings
    store: SqlStore
    deps: Deps
    users: Users
    wallet: Wallet
    social: Social
    packets: Packets
    # Social area (followers, conversations, live events): wired by `_wire_social` after construction.
    social_graph: SocialGraph = field(init=False)
    conversations: Conversations = field(init=False)
    live: LiveFeed = field(init=False)
    # Campaign area (enterprise campaigns, coupons, merchants, shake): wired by `_wire_campaigns`.
    campaigns: Campaigns = field(init=False)
    shake: Shake = field(init=False)
    # Relay area (relay chains, asks, transfers): wired by `_wire_relay`.
    relay: Relay = field(init=False)
    asks: Asks = field(init=False)
    transfers: Transfers = field(init=False)
    # The install's secret key (code and phrase digests, sealed secrets), shared by the campaign and open areas.
    key: InstallKey = field(init=False)
    # Open area (face-to-face, password, celebrity packets and share links): wired by `_wire_open`.
    sharing: Sharing = field(init=False)
    open_kinds: OpenKinds = field(init=False)
    # Host apps acting for their own users (platform API) and their webhooks: wired by `_wire_embed`.
    hosts: Hosts = field(init=False)
    webhooks: Webhooks = field(init=False)
    # The one sweeper among every process's scheduler and worker (adapters/sql/lease.py).
    sweep_lease: SweepLease = field(init=False)
    # Scaled mode (HONGBAO_REDIS_URL): the notes to and from the other processes (adapters/scaled.py).
    fanout: Fanout | None = field(default=None, init=False)

    def close(self) -> None:
        if self.fanout is not None:
            self.fanout.close()
        self.shake.close()  # its unused win tickets go back to the pools now
        self.store.close()
        if isinstance(self.deps.limiters, RedisLimiters):
            self.deps.limiters.close()


def build(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    rng: Rng | None = None,
    migrate_schema: bool = True,
    channel: PaymentChannel | None = None,
) -> App:
    """Wire an App.  `channel`: the payment service to use; two Apps given one channel object behave as two
    API processes talking to one payment service (the default sandbox is this App's own)."""
    settings = settings or Settings()
    url = settings.resolved_database_url()
    if url.startswith("sqlite") and settings.database_url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = SqlStore(
        url,
        batch_max=settings.write_batch_max,
        readers=settings.read_threads,
        write_timeout_s=settings.write_timeout_s,
        write_retry_s=settings.write_retry_s,
        write_resolve_s=settings.write_resolve_s,
    )
    if migrate_schema:
        migrate.upgrade(store.engine)
    # Guess limits (logins, codes, phrases, link tokens, redeem codes): shared in Redis when scaled, else per process.
    limiters: Limiters = RedisLimiters(settings.redis_url) if settings.redis_url else memory_limiters
    deps = Deps(
        store=store,
        gate=make_gate(settings, store),
        clock=clock or SystemClock(),
        hasher=Argon2Hasher(
            time_cost=settings.argon2_time_cost,
            memory_kib=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
        ),
        channel=channel if channel is not None else SandboxChannel(decline_over_fen=settings.topup_fen_max),
        rules=settings.rules(),
        limits=Limits(
            group_members_max=settings.group_members_max,
            topup_fen_max=settings.topup_fen_max,
            token_ttl_s=settings.token_ttl_s,
        ),
        limiters=limiters,
    )
    throttle = LoginThrottle(
        failures_max_per_address=settings.login_failures_max_per_address,
        failures_max_per_account=settings.login_failures_max_per_account,
        failures_max_per_device=settings.login_failures_max_per_device,
        window_s=settings.login_window_s,
    )
    app = App(settings, store, deps, Users(deps, throttle), Wallet(deps), Social(deps), Packets(deps, rng))
    app.key = InstallKey(store, settings.secret_pepper, parse_peppers(settings.secret_pepper_previous))
    # Session tokens are signed and checked in memory, with a key the database alone does not hold (service/tokens.py);
    # logouts reach every process's deny-list.  PostgreSQL without a pepper keeps first-format tokens.
    ttl = settings.token_ttl_s
    if settings.secret_pepper:
        app.users.signer = TokenSigner.peppered(app.key, ttl)
    elif url.startswith("sqlite"):
        app.users.signer = TokenSigner.from_file(settings.data_dir / "session-token.key", ttl)
    app.users.revocations = Revocations(store, settings.token_revocation_poll_s)
    app.users.worlds = app.packets.worlds  # a session's user is hongbao's own: the worlds cache learns it
    app.sweep_lease = SweepLease(store, ttl_s=settings.sweeper_lease_s)
    _wire_social(app)
    _wire_relay(app)
    _wire_campaigns(app)
    _wire_open(app)
    _wire_embed(app)
    if settings.redis_url:
        from hongbao.adapters import scaled

        try:
            app.fanout = scaled.wire(app, settings.redis_url, settings.redis_prefix)
        except BaseException:  # the prefix is another database's (PrefixTaken): nothing of this App keeps running
            app.close()
            raise
    return app


def _wire_embed(app: App) -> None:
    """Host apps (API keys, their users by external id, daily volume) and the webhook outbox beside the money."""
    s = app.settings
    hooks = app.deps.hooks
    app.hosts = Hosts(app.deps, app.key, HostDefaults(s.host_rate_per_min, s.host_daily_volume_fen_max),
                      worlds=app.packets.worlds)  # a host's key names its users' world: the cache learns it
    hooks.sent.append(app.hosts.count_packet)  # a host's daily volume, counted in the transaction that moves it
    hooks.money.append(app.hosts.count_transfer)
    app.webhooks = Webhooks(app.deps, app.key, DeliveryRules(
        backoff_s=s.webhook_backoff_s, backoff_max_s=s.webhook_backoff_max_s, attempts_max=s.webhook_attempts_max,
        timeout_s=s.webhook_timeout_s,
    ))
    hooks.sent.append(app.webhooks.on_sent)  # the outbox row commits with the money it tells of
    hooks.opened_many.append(app.webhooks.on_opened_many)
    hooks.expired.append(app.webhooks.on_expired)
    hooks.money.append(app.webhooks.on_money)


def _wire_open(app: App) -> None:
    """Share links (they record attributed claims) and the open-audience kinds (audiences, secret release)."""
    hooks = app.deps.hooks
    app.sharing = Sharing(app.deps)
    hooks.opened_many.append(app.sharing.record_claims)  # a claim through a link is attributed to it
    app.open_kinds = OpenKinds(app.deps, app.packets, app.sharing, app.settings, app.key)
    for kind, audience in app.open_kinds.audiences().items():
        app.packets.register_audience(kind, audience)
    hooks.opened.append(app.open_kinds.release_when_finished)  # a finished or expired packet frees its code
    hooks.expired.append(app.open_kinds.release_when_expired)


def _wire_social(app: App) -> None:
    """Followers, conversations and live events; packets post their bubbles and notices through hooks."""
    deps = app.deps
    app.live = LiveFeed(app.store, EventBus(), poll_s=app.settings.events_poll_s)
    app.social_graph = SocialGraph(deps)
    app.conversations = Conversations(deps, app.live)
    deps.hooks.sent.append(app.conversations.on_sent)
    deps.hooks.opened_many.append(app.conversations.on_opened_many)
    deps.hooks.expired.append(app.conversations.on_expired)
    deps.hooks.after_commit.append(app.live.on_after_commit)


def _wire_campaigns(app: App) -> None:
    """Enterprise campaigns, coupons and nearby merchants, and shake events (pools are campaigns)."""
    # One cache of users' worlds with the open path: a campaign, offer or shake event is its owner's world's only.
    app.campaigns = Campaigns(app.deps, app.key, app.settings.campaign_limits(), worlds=app.packets.worlds)
    app.shake = Shake(app.deps, app.campaigns, address_second_max=app.settings.shakes_per_address_second_max)
    app.deps.hooks.after_commit.append(app.shake.on_published)
    app.campaigns.on_budget_changed.append(lambda _campaign_id: app.shake.tickets.budget_changed())
    if app.settings.redis_url:  # scaled mode: win tickets granted by Redis, rate limits over every process
        from hongbao.adapters.redis_shake_counts import SharedCounts
        from hongbao.adapters.redis_tickets import RedisTickets

        app.shake.tickets.redis = RedisTickets(app.settings.redis_url, app.settings.redis_prefix)
        app.shake.rates.shared = SharedCounts(app.settings.redis_url, app.settings.redis_prefix)


def _wire_relay(app: App) -> None:
    """Relay chains (they hook packet opens and expiries), asks and transfers."""
    limits = app.settings.relay_rules()
    app.relay = Relay(app.deps, app.packets, limits)
    # Chain steps happen inside the transaction that moves the money: never lost, never doubled.
    app.deps.hooks.opened.append(app.relay.on_opened)
    app.deps.hooks.expired.append(app.relay.on_expired)
    app.asks = Asks(app.deps, app.packets, limits)
    app.transfers = Transfers(app.deps, limits)
