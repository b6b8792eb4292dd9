"""Settings, read from HONGBAO_* environment variables at the edge (and CLI flags on top)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from hongbao.domain.packets import PacketRules


class Settings(BaseSettings):
    """Every knob of hongbao; the defaults are the embedded deployment's."""

    model_config = SettingsConfigDict(env_prefix="HONGBAO_", extra="ignore")

    data_dir: Path = Path("hongbao-data")
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default: SQLite file in data_dir. postgresql://… for scaled mode.",
    )
    host: str = "127.0.0.1"
    port: int = 8000
    demo: bool = True  # create demo users, a group and balances on first start (embedded serve only)
    scheduler: bool = (
        True  # run the expiry scheduler inside the server (embedded); `hongbao worker` otherwise
    )
    scheduler_interval_s: float = 1.0

    # Packet limits (DESIGN.md §1 defaults).
    share_fen_min: int = 1
    packet_fen_max: int = 20_000
    shares_count_max: int = 100
    packet_ttl_s: int = 24 * 3600
    greeting_chars_max: int = 64
    group_members_max: int = 500

    # Wallet.
    topup_fen_max: int = 5_000_000  # the sandbox channel declines single top-ups above 50,000 yuan

    # Auth.
    token_ttl_s: int = 7 * 24 * 3600
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    argon2_parallelism: int = 1

    # Store.
    write_batch_max: int = 256
    read_threads: int = 4

    def rules(self) -> PacketRules:
        return PacketRules(
            share_fen_min=self.share_fen_min,
            packet_fen_max=self.packet_fen_max,
            shares_count_max=self.shares_count_max,
            ttl_s=self.packet_ttl_s,
            greeting_chars_max=self.greeting_chars_max,
        )

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'hongbao.db').resolve()}"
