"""`hongbao demo`: a scripted Spring Festival (春节) story, run in-process on a throwaway SQLite store.

The story is a list of small scenes (`SCENES`), each an async function of the shared `Story`; a new
packet kind adds its scene to the list.  Scenes use only the service layer (users, wallet, social,
packets), print what happens with rich, and the demo ends with `reconcile`: it succeeds only when
every ledger invariant holds.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel

from hongbao.bootstrap import build
from hongbao.config import Settings
from hongbao.demo.business import enterprise_campaign, gala_shake
from hongbao.demo.family import (
    equal_group_packet,
    expiry_refund,
    family_joins,
    friends_and_group,
    idempotent_retry,
    line_cut_and_refusals,
    lucky_race,
    personal_packet,
    statements,
)
from hongbao.demo.kinds import (
    asks,
    celebrity_packet,
    face_to_face,
    followers_and_conversations,
    password_packet,
    relay_chain,
    transfers,
)
from hongbao.demo.story import EVE, DemoClock, Scene, Story
from hongbao.domain.money import format_fen
from hongbao.progress import progress_bar
from hongbao.service.reconcile import reconcile

__all__ = ["SCENES", "DemoClock", "Scene", "Story", "demo_settings", "family_joins", "run_demo"]


SCENES: list[Scene] = [
    family_joins,
    friends_and_group,
    personal_packet,
    equal_group_packet,
    lucky_race,
    line_cut_and_refusals,
    idempotent_retry,
    expiry_refund,
    followers_and_conversations,
    relay_chain,
    asks,
    transfers,
    face_to_face,
    password_packet,
    celebrity_packet,
    enterprise_campaign,
    gala_shake,
    statements,
]


# ---------------------------------------------------------------------- running


def demo_settings(folder: Path) -> Settings:
    """A throwaway SQLite store in `folder`, cheap password hashing, no scheduler (the script expires)."""
    return Settings(
        data_dir=folder,
        database_url=f"sqlite:///{folder / 'hongbao.db'}",  # explicit: never a HONGBAO_DATABASE_URL
        argon2_time_cost=1,
        argon2_memory_kib=8,
        scheduler=False,
        demo=False,
    )


async def _play(story: Story, scenes: list[Scene]) -> None:
    with progress_bar(story.console, "scenes", len(scenes)) as done:
        for i, scene in enumerate(scenes, 1):
            await scene(story)
            done(i)


def run_demo(console: Console, scenes: list[Scene] | None = None) -> bool:
    """Play the story on a temporary store; True when it ends with a clean reconcile."""
    console.print(
        Panel.fit(
            "[bold red]新春快乐 · 红包 demo[/]\nA family's Spring Festival, in-process on a temporary SQLite store",
            border_style="red",
        )
    )
    with tempfile.TemporaryDirectory(prefix="hongbao-demo-") as tmp:
        app = build(demo_settings(Path(tmp)), clock=(clock := DemoClock(EVE)))
        try:
            asyncio.run(_play(Story(app, console, clock), SCENES if scenes is None else scenes))
            report = reconcile(app.store)
        finally:
            app.close()
    console.rule("[bold]对账 · Reconcile[/]")
    console.print(
        f"accounts {report.accounts}, transfers {report.transfers}, packets {report.packets}, "
        f"claims {report.claims}; money inside the platform {format_fen(report.inside_fen)}"
    )
    if report.violations:
        for v in report.violations:
            console.print(f"[red]{escape(str(v))}[/]")
        console.print(f"[bold red]reconcile: {len(report.violations)} violation(s)[/]")
        return False
    console.print("[bold green]reconcile: clean[/]")
    return True
