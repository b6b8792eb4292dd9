"""The seeded simulator: clean runs on both stores (packets, campaigns and shakes), the same seed replays the same
operations, and a corrupted ledger is caught and reported with the seed that replays it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hongbao.cli import app as cli
from hongbao.sim import run_simulation, runner
from hongbao.sim.auditor import audit_step, inject_fault
from hongbao.sim.base import Mismatch
from hongbao.sim.runner import sim_settings
from hongbao.sim.workload import Workload

OPS = 250


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_seeded_workload_on_a_temporary_sqlite_store_passes_every_audit(seed: int) -> None:
    # When the simulator runs a mixed workload of sends, opens, bursts, retries, expiries and crashes (no faults:
    # a fault's outcome changes what the model holds, so which operations come later, and this test counts them)
    result = run_simulation(seed=seed, ops=OPS, database_url=None, console=None, faults=False)

    # Then every audit passed, and the workload really moved money through packets
    assert result.ok, "\n".join(result.failures)
    assert result.log[-1].startswith(f"{OPS:05d} ")
    assert result.stats["claims"] > 0
    assert result.stats["refunds"] > 0
    assert result.stats["bursts"] > 0


@pytest.mark.parametrize("seed", [1, 2])
def test_campaigns_and_shakes_pay_within_budgets_and_caps_and_return_the_rest_once(seed: int) -> None:
    # When the workload runs enterprises' campaigns and shake events beside the packets
    result = run_simulation(seed=seed, ops=600, database_url=None, console=None)

    # Then every audit passed (budgets, caps, K wins, returns), and each part of the campaign workload ran
    assert result.ok, "\n".join(result.failures)
    for counted in ("campaigns", "pools", "prizes_won", "claim_bursts", "shakes", "shake_wins", "campaigns_closed"):
        assert result.stats.get(counted, 0) > 0, counted
    assert result.stats["returned_fen"] > 0
    assert result.stats.get("refused:cap_reached", 0) + result.stats.get("refused:campaign_exhausted", 0) > 0


def test_a_seeded_workload_passes_every_audit_on_each_store(store_url: str) -> None:
    # Given an empty database on SQLite or PostgreSQL
    # When the simulator runs on it
    result = run_simulation(seed=4, ops=OPS, database_url=store_url, console=None)

    # Then every audit passed
    assert result.ok, "\n".join(result.failures)
    assert result.stats["claims"] > 0


def test_the_same_seed_gives_the_same_operations_and_outcomes_twice() -> None:
    first = run_simulation(seed=11, ops=120, database_url=None, console=None)
    second = run_simulation(seed=11, ops=120, database_url=None, console=None)

    assert first.ok and second.ok, "\n".join(first.failures + second.failures)
    assert first.log == second.log
    # Outcomes too (refusal counts aside: which of two twin opens the gate refuses is a real race)
    assert _outcomes(first.stats) == _outcomes(second.stats)


def _outcomes(stats: dict[str, int]) -> dict[str, int]:
    return {k: v for k, v in stats.items() if not k.startswith("refused:")}


def test_another_seed_gives_other_operations() -> None:
    first = run_simulation(seed=12, ops=60, database_url=None, console=None)
    second = run_simulation(seed=13, ops=60, database_url=None, console=None)

    assert first.log != second.log


@pytest.mark.parametrize("fault_at", [120, 233])  # 233: past the every-step audits, and not a multiple of 10
def test_a_balance_changed_without_a_transfer_fails_the_run_and_names_the_seed(fault_at: int) -> None:
    # When a cached wallet balance is moved by raw SQL in the middle of the run
    result = run_simulation(seed=5, ops=OPS, database_url=None, console=None, inject_fault_at=fault_at)

    # Then the auditor stops the run at that step, and the failure says how to replay it
    assert not result.ok
    [failure] = result.failures
    assert f"seed=5 step={fault_at}/{OPS}" in failure
    assert "cached-balance" in failure
    assert f"replay with: hongbao simulate --seed 5 --ops {OPS}" in failure
    assert result.log[-1] == f"{fault_at:05d} fault: unbalanced cached-balance update"


def test_a_database_that_is_not_empty_is_refused(tmp_path) -> None:
    # Given a database where a simulation already ran
    url = f"sqlite:///{tmp_path / 'used.db'}"
    assert run_simulation(seed=6, ops=20, database_url=url, console=None).ok

    # When another simulation is pointed at it
    result = run_simulation(seed=6, ops=20, database_url=url, console=None)

    # Then it refuses: the auditor's model starts from an empty ledger
    assert not result.ok
    assert "not empty" in result.failures[0]
    assert result.log == []


def test_the_simulate_command_exits_0_on_a_clean_run_and_prints_the_summary() -> None:
    result = CliRunner().invoke(cli, ["simulate", "--seed", "7", "--ops", "60"])

    assert result.exit_code == 0, result.output
    assert "simulation: seed 7, 60 operations" in result.output
    assert "every audit passed" in result.output


HOSTILE = 0.5  # half the money requests meet a fault, so that a short run meets every kind


def test_under_faults_every_request_takes_effect_once_and_every_audit_passes(store_url: str) -> None:
    # Given a store whose COMMITs lose their request or reply, whose database restarts or goes away, and whose
    # process is killed between COMMIT and reply, on SQLite and PostgreSQL
    # When the simulator runs with half its money requests meeting one of those faults
    result = run_simulation(seed=21, ops=300, database_url=store_url, console=None, fault_rate=HOSTILE)

    # Then every audit passed: no lost reply moved money twice, no lost request was taken for done
    assert result.ok, "\n".join(result.failures)
    for kind in ("lose_request", "lose_reply", "restart", "kill"):
        assert result.stats.get(f"fault:{kind}", 0) > 0, kind
    # And the requests whose outcome the client could not know were settled, by a keyed retry or by reading
    assert result.stats["unknown_outcomes"] > 0
    assert result.stats["unknown_outcomes"] == (
        result.stats.get("unknown_settled_by_retry", 0) + result.stats.get("unknown_settled_by_reading", 0)
        + result.stats.get("unknown_settled_by_sweeping", 0)
    )
    assert result.stats["kills"] == result.stats["fault:kill"]


def test_an_outage_answers_store_unavailable_and_the_client_settles_the_outcome() -> None:
    # When the database goes away at a COMMIT until the client has its answer
    result = run_simulation(seed=22, ops=400, database_url=None, console=None, fault_rate=HOSTILE)

    # Then the store answered (503, not a hang), and the run stayed clean
    assert result.ok, "\n".join(result.failures)
    assert result.stats.get("fault:outage", 0) > 0


def test_the_same_seed_gives_the_same_faults_and_outcomes_twice() -> None:
    first = run_simulation(seed=23, ops=200, database_url=None, console=None, fault_rate=HOSTILE)
    second = run_simulation(seed=23, ops=200, database_url=None, console=None, fault_rate=HOSTILE)

    assert first.ok and second.ok, "\n".join(first.failures + second.failures)
    assert any(" fault: " in line for line in first.log)
    assert first.log == second.log
    assert _outcomes(first.stats) == _outcomes(second.stats)


def test_without_faults_the_run_draws_the_same_workload_and_meets_none() -> None:
    # The faults come from their own seeded stream: switching them off leaves the workload's draws alone
    result = run_simulation(seed=24, ops=150, database_url=None, console=None, faults=False)

    assert result.ok, "\n".join(result.failures)
    assert not any(k.startswith("fault:") for k in result.stats)
    assert not any(" fault: " in line for line in result.log)


def test_the_simulate_command_reports_the_rate_and_the_faults() -> None:
    result = CliRunner().invoke(cli, ["simulate", "--seed", "8", "--ops", "80", "--no-faults"])

    assert result.exit_code == 0, result.output
    assert "ops/s" in result.output
    assert "kill -9 between COMMIT and reply" in result.output


def test_the_simulate_command_runs_in_parallel_with_jobs() -> None:
    result = CliRunner().invoke(cli, ["simulate", "--seed", "9", "--ops", "80", "--jobs", "2", "--no-faults"])

    assert result.exit_code == 0, result.output
    assert "every audit passed (seeds 9-10)" in result.output


def test_the_step_audit_alone_catches_a_balance_moved_without_a_transfer(tmp_path: Path) -> None:
    # Given 300 steps run and audited step by step, the audit clean
    sim = Workload(5, sim_settings(f"sqlite:///{tmp_path / 'sim.db'}", tmp_path), None, faults=False)
    try:
        asyncio.run(_steps(sim, 300))
        audit_step(sim)

        # When a wallet that no step touched since is moved by raw SQL
        inject_fault(sim)

        # Then the cheap audit after the next step (touched rows and the wallets' total, no reconcile) sees it
        with pytest.raises(Mismatch, match="the total of every wallet"):
            audit_step(sim)
    finally:
        sim.close()


async def _steps(sim: Workload, n: int) -> None:
    for step in range(1, n + 1):
        sim.step_no = step
        await sim.step(sim.choose())
        audit_step(sim)


def test_runs_in_parallel_add_up_and_each_is_the_run_its_seed_makes_alone() -> None:
    # When two runs share 240 operations in two processes (seeds 31 and 32)
    both = run_simulation(seed=31, ops=240, database_url=None, console=None, jobs=2)
    # And seed 32's share runs alone
    alone = run_simulation(seed=32, ops=120, database_url=None, console=None)

    # Then every audit passed in each, the figures add up, and seed 32 ran exactly as it runs alone
    assert both.ok and alone.ok, "\n".join(both.failures + alone.failures)
    assert (both.runs, both.steps) == (2, 240)
    assert both.stats["audits"] > alone.stats["audits"]
    assert [line.removeprefix("seed 32: ") for line in both.log if line.startswith("seed 32: ")] == alone.log


def test_runs_in_parallel_need_the_sqlite_store(store_url: str) -> None:
    result = run_simulation(seed=33, ops=20, database_url=store_url, console=None, jobs=2)

    assert not result.ok
    assert "need the SQLite store" in result.failures[0]


def test_a_wrong_row_found_by_a_later_step_audit_names_the_steps_since_the_last(monkeypatch) -> None:
    # Given a run (no faults) audited in full only at its end, what the steps touched every 10 steps, and a
    # wallet moved by raw SQL right after step 233, with no audit at once (as an injected fault would have)
    step = Workload.step

    async def step_then_corrupt(sim: Workload, kind: str) -> None:
        await step(sim, kind)
        if sim.step_no == 233:
            inject_fault(sim)

    monkeypatch.setattr(Workload, "step", step_then_corrupt)
    monkeypatch.setattr(runner, "full_audit_steps", lambda ops: {ops})
    result = run_simulation(seed=5, ops=300, database_url=None, console=None, faults=False)

    # Then the next step audit (after step 240) fails the run and names the steps since the one before (230)
    assert not result.ok
    [failure] = result.failures
    assert "seed=5 step=240/300" in failure
    assert "the total of every wallet" in failure
    assert "steps 231-240 ran since the last one" in failure
