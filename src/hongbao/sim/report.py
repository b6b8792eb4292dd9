"""The simulator's report: a Rich table of what ran and what was checked, then ok or the failure with its seed."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from hongbao.sim.base import SimResult


def report(out: Console, result: SimResult) -> None:
    st = result.stats
    title = f"simulation: seed {result.seed}, {result.ops} operations"
    if result.runs > 1:
        title = (f"simulation: {result.runs} runs in parallel (seeds {result.seed}-{result.seed + result.runs - 1}), "
                 f"{result.ops} operations between them")
    table = Table("what", "count", title=title)
    for key, n in st.items():
        if key.startswith("op:"):
            table.add_row(key[3:], str(n))
    table.add_section()
    for key, label in (("packets", "packets sent"), ("claims", "claims (opened shares)"),
                       ("bursts", "bursts of concurrent opens"), ("retries", "retries answered from the key"),
                       ("twins", "twin requests racing each other"),
                       ("refunds", "packets refunded at expiry"), ("refunded_fen", "refunded (fen)"),
                       ("crashes", "crashes survived"), ("audits", "audits"), ("users", "users"),
                       ("inside_fen", "money inside (fen)")):
        table.add_row(label, str(st.get(key, 0)))
    table.add_section()
    for key, label in (("campaigns", "campaigns created"), ("pools", "shake pools funded"),
                       ("prizes_won", "prizes won (claims and shakes)"), ("prizes_paid_fen", "prizes paid (fen)"),
                       ("claim_bursts", "bursts of concurrent claims"), ("shakes", "shakes answered"),
                       ("shake_wins", "shakes won"), ("shake_bursts", "bursts of shakes"),
                       ("replays", "claims and shakes replayed"), ("budget_top_ups", "budgets topped up"),
                       ("cancelled", "campaigns cancelled"), ("campaigns_closed", "campaigns and pools closed"),
                       ("returned_fen", "returned to owners (fen)")):
        table.add_row(label, str(st.get(key, 0)))
    table.add_section()
    for key, label in (("fault:lose_request", "COMMITs lost on the way (rolled back)"),
                       ("fault:lose_reply", "COMMIT replies lost (committed)"),
                       ("fault:restart", "database restarts at a COMMIT"), ("fault:outage", "outages (503 answered)"),
                       ("fault:kill", "kill -9 between COMMIT and reply"),
                       ("unknown_outcomes", "requests with an unknown outcome"),
                       ("unknown_settled_by_retry", "  settled by a keyed retry"),
                       ("unknown_settled_by_reading", "  settled by reading the store"),
                       ("step_audits", "audits of what the steps touched")):
        table.add_row(label, str(st.get(key, 0)))
    out.print(table)
    if result.seconds:
        done = result.steps
        out.print(f"{done:,} operations in {result.seconds:,.1f} s: {done / result.seconds:,.0f} ops/s")
    if result.ok:
        seeds = f"seed {result.seed}" if result.runs == 1 else f"seeds {result.seed}-{result.seed + result.runs - 1}"
        out.print(f"[green]ok[/]: every audit passed ({seeds})")
        return
    for failure in result.failures:
        out.print(f"[red]FAILED[/] {escape(failure)}")
    if result.runs == 1:  # a run of several names each failing run's seed and operations itself
        out.print(f"replay with: hongbao simulate --seed {result.seed} --ops {result.ops}", markup=False)
