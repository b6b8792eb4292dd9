"""What the HTTP server under hongbao costs: uvicorn (as `hongbao serve` runs it) against variants and granian.

For each round, for each server named (alternated, so a noisy moment hits every one alike): a fresh SQLite store,
the server on it, loadgen's W1 storm (--audit; run 1 is the cold one, the warm figure is the median of the others)
and its `ceiling` against GET /health, then SIGTERM.  Prints, per server, the median over rounds of req/s and of
the server's CPU µs per request (every process of the server, all its threads: granian's Rust threads too).

Servers: `uvicorn` is `hongbao serve`; `uvicorn:KEY=VALUE,...` is the same uvicorn.run with keyword overrides
(e.g. `uvicorn:http=h11`, `uvicorn:server_header=false,date_header=false`, `uvicorn:limit_concurrency=none`;
`uvicorn:-` is it with none, the baseline for those);
`granian` is `granian --interface asgi --factory hongbao.api.asgi:app_from_env --loop uvloop`, and
`granian:--opt=value,...` adds options (e.g. `granian:--runtime-mode=st`).  GRANIAN names its executable.
`SERVER@PATH` serves the hongbao found in PATH (PYTHONPATH), e.g. `uvicorn@/work/main/src` for a before/after.

    PYTHONPATH=src .venv/bin/python bench/server_compare.py --servers uvicorn,granian --rounds 3
    GRANIAN=/tmp/venv-proto/bin/granian .venv/bin/python bench/server_compare.py --users 3000 --repeat 5 \
        --servers "uvicorn@../main/src;granian@../main/src;uvicorn@src;uvicorn:-@../main/src"
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from served import BENCH_ENV, ROOT, _healthy, children, free_port, stop_server

LOADGEN = str(Path(os.environ.get("LOADGEN_DIR", str(ROOT.parent / "shared" / "bench"))) / "loadgen.py")
HONGBAO = [sys.executable, "-c", "from hongbao.cli import app; app()"]

# `hongbao serve`'s uvicorn.run, with keyword overrides from the command line (JSON-ish scalars).
UVICORN_INLINE = """
import json, sys, uvicorn
from hongbao.api.asgi import app_from_env
from hongbao.api.protocol import PROTOCOL
from hongbao.config import Settings
s = Settings()
kw = dict(host="127.0.0.1", port=int(sys.argv[1]), log_config=None, access_log=False, loop="auto", http=PROTOCOL,
          ws=s.ws_protocol, ws_per_message_deflate=False, limit_concurrency=s.connections_max,
          timeout_graceful_shutdown=s.shutdown_grace_s, factory=True)
kw.update(json.loads(sys.argv[2]))
uvicorn.run(app_from_env, **kw)
"""


def _scalar(text: str) -> Any:
    low = text.lower()
    if low in ("none", "true", "false"):
        return {"none": None, "true": True, "false": False}[low]
    return int(low) if low.isdigit() else text


def server_command(spec: str, port: int) -> list[str]:
    kind, _, extra = spec.partition(":")
    if kind == "uvicorn" and not extra:
        return [*HONGBAO, "serve", "--no-demo", "--host", "127.0.0.1", "--port", str(port)]
    if kind == "uvicorn":
        items = [item.partition("=") for item in extra.split(",") if item != "-"]
        overrides = {k: _scalar(v) for k, _, v in items}
        if overrides.get("http") in ("h11", "httptools"):
            overrides["http"] = {"h11": "hongbao.api.protocol:H11WithHeadDeadline",
                                 "httptools": "hongbao.api.protocol:HttpToolsWithHeadDeadline"}[overrides["http"]]
        return [sys.executable, "-c", UVICORN_INLINE, str(port), json.dumps(overrides)]
    if kind == "granian":
        granian = os.environ.get("GRANIAN", str(Path(sys.executable).with_name("granian")))
        options = [o for o in extra.split(",") if o]
        return [granian, "--interface", "asgi", "--factory", "--host", "127.0.0.1", "--port", str(port),
                "--workers", "1", "--loop", "uvloop", "--no-access-log", "--log-level", "warning", *options,
                "hongbao.api.asgi:app_from_env"]  # fmt: skip
    raise SystemExit(f"unknown server {spec!r}")


def start(spec: str, data_dir: str, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    spec, _, src = spec.partition("@")
    if src:  # that checkout's hongbao (e.g. main's, for before/after)
        env = {**env, "PYTHONPATH": src}
    subprocess.run([*HONGBAO, "migrate"], env=env, check=True, capture_output=True, timeout=300)
    log = open(Path(data_dir) / "server.log", "ab")  # noqa: SIM115 - kept open for the server's life
    proc = subprocess.Popen(server_command(spec, port), env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while not _healthy(port):
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_server(proc)
            raise SystemExit((Path(data_dir) / "server.log").read_text()[-3000:])
        time.sleep(0.3)
    time.sleep(1.0)  # granian's worker is a child: let it be listed
    return proc


def loadgen(args: list[str], pids: dict[str, int], out: Path) -> dict[str, Any]:
    cmd = [sys.executable, LOADGEN, *(f"--pid={k}={v}" for k, v in pids.items()), "--json", str(out), *args]
    subprocess.run(cmd, check=True, timeout=1800, cwd=ROOT, stdout=subprocess.DEVNULL)
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def per_run(result: dict[str, Any], names: set[str]) -> list[tuple[float, float, bool]]:
    """(req/s, server CPU µs per request, checks ok) of each run."""
    rows = []
    for run in result["runs"]:
        cpu_s = sum(v["cpu_s"] for k, v in run["cpu"].items() if k in names)
        rows.append((run["req_per_s"], cpu_s / run["completed"] * 1e6, bool(run.get("ok", True))))
    return rows


def one(spec: str, a: argparse.Namespace, out_dir: Path, tag: str) -> dict[str, Any]:
    data_dir = tempfile.mkdtemp(prefix="hongbao-srvcmp-")
    port = free_port()
    env = {**os.environ, **BENCH_ENV, "HONGBAO_DATA_DIR": data_dir, "HONGBAO_DEMO": "0",
           "HONGBAO_GROUP_MEMBERS_MAX": str(max(a.users + 1, 20001))}  # fmt: skip
    proc = start(spec, data_dir, port, env)
    pids = {"server": proc.pid} | {f"child{i}": c for i, c in enumerate(children(proc.pid), 1)}
    url = f"http://127.0.0.1:{port}"
    try:
        w1 = loadgen(["--adapter-file", "bench/loadgen_adapter.py", "--adapter", "hongbao", "--url", url, "w1",
                      "--users", str(a.users), "--shares", str(a.shares), "--repeat", str(a.repeat), "--audit"],
                     pids, out_dir / f"{tag}-w1.json")  # fmt: skip
        health = loadgen(["ceiling", f"{url}/health", "--requests", str(a.ceiling_requests), "--repeat", "3"],
                         pids, out_dir / f"{tag}-health.json")
    finally:
        stop_server(proc)
        shutil.rmtree(data_dir, ignore_errors=True)
    names = set(pids)
    w1_runs, health_runs = per_run(w1, names), per_run(health, names)
    warm = w1_runs[1:] or w1_runs
    return {
        "server": spec, "ok": all(ok for *_, ok in w1_runs),
        "w1_warm_rps": statistics.median(r for r, _, _ in warm), "w1_warm_us": statistics.median(u for _, u, _ in warm),
        "w1_cold_rps": w1_runs[0][0], "w1_cold_us": w1_runs[0][1],
        "health_rps": statistics.median(r for r, _, _ in health_runs),
        "health_us": statistics.median(u for _, u, _ in health_runs),
    }  # fmt: skip


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--servers", default="uvicorn,granian", help="comma-separated (see above); ';' also separates")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--users", type=int, default=10_000)
    p.add_argument("--shares", type=int, default=100)
    p.add_argument("--repeat", type=int, default=4, help="W1 runs per server start (run 1 is cold)")
    p.add_argument("--ceiling-requests", type=int, default=30_000)
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "server_compare")
    a = p.parse_args(argv)
    specs = [s for s in a.servers.split(";" if ";" in a.servers else ",") if s]
    a.out.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    for rnd in range(1, a.rounds + 1):
        for i, spec in enumerate(specs):
            row = one(spec, a, a.out, f"r{rnd}-s{i}")
            rows.append(row | {"round": rnd})
            print(json.dumps(row | {"round": rnd}), flush=True)
    print(f"\n{'server':44} {'W1 warm req/s':>14} {'µs/req':>7} {'cold req/s':>11} {'/health req/s':>14} {'µs/req':>7}")
    for spec in specs:
        mine = [r for r in rows if r["server"] == spec]
        med = {k: statistics.median(r[k] for r in mine) for k in mine[0] if k not in ("server", "ok", "round")}
        checks = "ok" if all(r["ok"] for r in mine) else "FAILED"
        print(f"{spec:44} {med['w1_warm_rps']:14,.0f} {med['w1_warm_us']:7.0f} {med['w1_cold_rps']:11,.0f}"
              f" {med['health_rps']:14,.0f} {med['health_us']:7.0f}  {checks}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
