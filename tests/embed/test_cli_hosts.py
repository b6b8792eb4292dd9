"""`hongbao hosts …` and `hongbao webhooks …`: an operator registers a host, manages its keys and webhooks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hongbao.cli import app as cli

runner = CliRunner()


@pytest.fixture(autouse=True)
def _no_store_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HONGBAO_DATABASE_URL", raising=False)
    monkeypatch.delenv("HONGBAO_DATA_DIR", raising=False)
    monkeypatch.setenv("HONGBAO_ARGON2_TIME_COST", "1")
    monkeypatch.setenv("HONGBAO_ARGON2_MEMORY_KIB", "8")


def run(tmp_path: Path, *args: str) -> str:
    result = runner.invoke(cli, [*args, "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    return result.stdout  # what a command answers; log lines (an earlier command may have set logging up) go to stderr


def test_an_operator_registers_a_host_and_rotates_and_revokes_its_keys(tmp_path: Path) -> None:
    made = json.loads(run(tmp_path, "hosts", "create", "acme-chat", "--rate-per-min", "120", "--webhook-url",
                          "http://127.0.0.1:8532/hooks", "--json"))
    assert made["key"]["key"].startswith("hk_") and made["webhook_secret"].startswith("whsec_")
    listed = run(tmp_path, "hosts", "list")
    assert "acme-chat" in listed and made["key"]["key_id"] in listed and made["key"]["key"] not in listed
    second = run(tmp_path, "hosts", "keys", "create", "acme-chat", "--scopes", "read")
    assert "hk_" in second and "scopes: read" in second
    rotated = run(tmp_path, "hosts", "keys", "rotate", made["key"]["key_id"])
    assert "hk_" in rotated and made["key"]["key"] not in rotated
    keys = run(tmp_path, "hosts", "keys", "list", "acme-chat")
    assert made["key"]["key_id"] in keys and keys.count("hk_") == 0  # secrets are never shown again
    run(tmp_path, "hosts", "limits", str(made["id"]), "--daily-volume-fen", "5000")
    assert "webhooks off" in run(tmp_path, "hosts", "webhook", "acme-chat", "--off")
    assert "msg id" in run(tmp_path, "webhooks", "list", "--status", "pending")


def test_refusals_print_their_code_and_exit_1(tmp_path: Path) -> None:
    run(tmp_path, "hosts", "create", "dup")
    taken = runner.invoke(cli, ["hosts", "create", "dup", "--data-dir", str(tmp_path)])
    assert taken.exit_code == 1 and "host_name_taken" in taken.output
    unknown = runner.invoke(cli, ["hosts", "keys", "revoke", "nope", "--data-dir", str(tmp_path)])
    assert unknown.exit_code == 1 and "host_key_not_found" in unknown.output
    replay = runner.invoke(cli, ["webhooks", "replay", "msg_nope", "--data-dir", str(tmp_path)])
    assert replay.exit_code == 1 and "no message msg_nope" in replay.output
    bad = runner.invoke(cli, ["hosts", "create", "x", "--scopes", "root", "--data-dir", str(tmp_path)])
    assert bad.exit_code == 1 and "invalid_scopes" in bad.output


def test_the_worker_delivers_webhooks(tmp_path: Path) -> None:
    import asyncio

    from hongbao.bootstrap import build
    from tests.conftest import fast_settings
    from tests.embed.receiver import Receiver

    receiver = Receiver(8534)
    made = json.loads(run(tmp_path, "hosts", "create", "worked", "--webhook-url", receiver.url, "--json"))
    hb = build(fast_settings(data_dir=tmp_path))
    try:
        user_id = asyncio.run(hb.hosts.acting_user(made["key"]["key"], "w-user", "POST"))
        asyncio.run(hb.wallet.top_up(user_id, 700))
    finally:
        hb.close()
    receiver.start()
    try:
        run(tmp_path, "worker", "--once")
    finally:
        receiver.stop()
    assert [json.loads(r.body)["type"] for r in receiver.got] == ["payment.settled"]
