"""The one place that wires settings → adapters → services."""

from __future__ import annotations

from dataclasses import dataclass

from hongbao.adapters.channel import SandboxChannel
from hongbao.adapters.gate import LocalGate
from hongbao.adapters.passwords import Argon2Hasher
from hongbao.adapters.sql import migrate
from hongbao.adapters.sql.store import SqlStore
from hongbao.config import Settings
from hongbao.domain.split import Rng
from hongbao.service.deps import Deps, Limits
from hongbao.service.packets import Packets
from hongbao.service.ports import Clock, SystemClock
from hongbao.service.social import Social
from hongbao.service.users import Users
from hongbao.service.wallet import Wallet


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

    def close(self) -> None:
        self.store.close()


def build(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    rng: Rng | None = None,
    migrate_schema: bool = True,
) -> App:
    settings = settings or Settings()
    url = settings.resolved_database_url()
    if url.startswith("sqlite") and settings.database_url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = SqlStore(url, batch_max=settings.write_batch_max, readers=settings.read_threads)
    if migrate_schema:
        migrate.upgrade(store.engine)
    deps = Deps(
        store=store,
        gate=LocalGate(store),
        clock=clock or SystemClock(),
        hasher=Argon2Hasher(
            time_cost=settings.argon2_time_cost,
            memory_kib=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
        ),
        channel=SandboxChannel(decline_over_fen=settings.topup_fen_max),
        rules=settings.rules(),
        limits=Limits(
            group_members_max=settings.group_members_max,
            topup_fen_max=settings.topup_fen_max,
            token_ttl_s=settings.token_ttl_s,
        ),
    )
    return App(settings, store, deps, Users(deps), Wallet(deps), Social(deps), Packets(deps, rng))
