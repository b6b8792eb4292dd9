"""One access line per request, hongbao's, whatever the number of processes: `hongbao serve --workers 2` wrote
uvicorn's own line for every request even with HONGBAO_ACCESS_LOG off (its worker processes set logging up again
after uvicorn had silenced its access logger), so a storm paid for a log line per request it was told not to write."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest
from tests.e2e.server import running_server

REQUESTS = 6


def _serve_and_read_log(tmp_path: Path, access_log: str) -> list[str]:
    data = tmp_path / f"data-{access_log}"
    data.mkdir()
    with running_server(data, "--workers", "2", HONGBAO_ACCESS_LOG=access_log) as base:
        for _ in range(REQUESTS):
            with urllib.request.urlopen(base + "/health", timeout=5) as reply:
                assert reply.status == 200
    return (data / "server.log").read_text().splitlines()


@pytest.mark.slow
@pytest.mark.parametrize("access_log", ["0", "1"])
def test_two_processes_log_each_request_once_and_only_when_asked(tmp_path: Path, access_log: str) -> None:
    lines = _serve_and_read_log(tmp_path, access_log)
    assert "Application startup complete." in "\n".join(lines)  # the workers' lines do reach the log
    assert [line for line in lines if "uvicorn.access" in line] == []
    ours = [line for line in lines if "hongbao.access" in line and "/health" in line]
    # The start-up wait polls /health too: at least our requests, each logged once by hongbao when it is on.
    assert len(ours) >= REQUESTS if access_log == "1" else ours == []
