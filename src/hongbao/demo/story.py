"""What every scene of `hongbao demo` shares: the family, the frozen clock and the `Story` they act in."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from rich.console import Console
from rich.markup import escape

from hongbao.bootstrap import App
from hongbao.domain.errors import HongbaoError

PASSWORD = "hongbao-demo-2026"
# Lunar New Year's Eve (除夕) 2026, 20:00 in Beijing: the Gala starts.
EVE = datetime(2026, 2, 16, 12, 0, tzinfo=UTC)
BEIJING = timedelta(hours=8)


@dataclass(frozen=True)
class Member:
    """One person of the family: a role used by the script, a login name, a display name, a top-up."""

    role: str
    username: str
    display_name: str
    top_up_fen: int


FAMILY = [
    Member("grandma", "nainai", "奶奶 Grandma", 100_000),
    Member("mum", "mama", "妈妈 Mum", 50_000),
    Member("dad", "baba", "爸爸 Dad", 50_000),
    Member("ming", "xiaoming", "小明 Ming", 2_000),
    Member("hong", "xiaohong", "小红 Hong", 2_000),
    Member("uncle", "jiujiu", "舅舅 Uncle", 30_000),
]


class DemoClock:
    """The demo's clock: frozen on New Year's Eve until a scene moves it on."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    def jump(self, hours: float) -> None:
        self.at += timedelta(hours=hours)


@dataclass
class Story:
    """What the scenes share: the wired app, the console, the clock and who/what was created so far."""

    app: App
    console: Console
    clock: DemoClock
    ids: dict[str, int] = field(default_factory=dict)  # role → user id
    names: dict[int, str] = field(default_factory=dict)  # user id → display name
    group_id: int = 0
    packets: dict[str, int] = field(default_factory=dict)  # script name → packet id

    def name(self, role: str) -> str:
        return escape(self.names[self.ids[role]])

    def say(self, text: str) -> None:
        self.console.print(text)

    def refused(self, who: str, exc: HongbaoError) -> None:
        self.say(f"  {who}: refused [bold red]{exc.code}[/] — {escape(exc.detail)}")

    async def open(self, packet: str, role: str) -> int | HongbaoError:
        """`role` opens a packet: the amount won, or the refusal."""
        try:
            reply = await self.app.packets.open(self.packets[packet], self.ids[role])
        except HongbaoError as exc:
            return exc
        amount: int = reply["amount_fen"]
        return amount


Scene = Callable[[Story], Awaitable[None]]


def scene_title(story: Story, chinese: str, english: str) -> None:
    local = (story.clock.now() + BEIJING).strftime("%b %d %H:%M")
    story.console.rule(f"[bold red]{chinese}[/] · {english} [dim]· {local} 北京时间[/]")
