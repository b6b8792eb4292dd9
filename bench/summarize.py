"""Print loadgen result files (bench/results/*.json) as one Markdown table, with the server's CPU per request.

    python bench/summarize.py bench/results/sqlite-w1.json bench/results/postgres-w1.json ...
"""

from __future__ import annotations

import json
import statistics
import sys
from typing import Any


def _cpu(runs: list[dict[str, Any]], who: str) -> list[float]:
    """Cores used by `who` ("server" sums the server and its workers) in each run."""
    out = []
    for r in runs:
        cpu = r["cpu"]
        if who == "server":
            out.append(sum(v["cores"] or 0 for k, v in cpu.items() if k == "server" or k.startswith("worker")))
        else:
            out.append(cpu[who]["cores"] or 0)
    return out


def _fmt(values: list[float], digits: int = 0) -> str:
    med = statistics.median(values)
    return f"{med:,.{digits}f} ({min(values):,.{digits}f}–{max(values):,.{digits}f})"


def row(path: str) -> str:
    with open(path) as f:
        res = json.load(f)
    name = path.rsplit("/", 1)[-1].removesuffix(".json")
    if res["workload"] == "w3":
        agg = res["aggregate"]
        return (f"| {name} | {agg['trials']} trials of 20 racers | — | — | — | — | — | — | "
                f"{agg['trials_with_more_than_one_claim']} trials with >1 claim, histogram "
                f"{agg['claims_histogram']}: {'**exact**' if agg['all_ok'] else '**FAILED**'} |")
    runs = res["runs"]
    rps = [r["req_per_s"] for r in runs]
    server = _cpu(runs, "server")
    us = [1e6 * c / x for c, x in zip(server, rps, strict=True)]
    busy = [r["cpu"]["machine"]["busy_pct"] or 0 for r in runs]
    checks = "all 2xx" if res["workload"] == "ceiling" else "exact"
    if res["workload"] != "ceiling":
        audits = [r.get("audit", {}) for r in runs]
        if all(a.get("claims_recorded") is not None for a in audits):
            checks += f", audit agrees ({sum(a['claims_recorded'] for a in audits)} claims)"
        if res["workload"] == "w1":
            emptied = [r["emptied_after_ms"] for r in runs if r.get("emptied_after_ms") is not None]
            checks += f"; emptied after {_fmt(emptied)} ms"
    if not res["aggregate"]["all_ok"]:
        checks = "**FAILED** " + checks
    return (f"| {name} | {_fmt(rps)} | {_fmt([r['latency_ms']['p50'] for r in runs], 1)} | "
            f"{_fmt([r['latency_ms']['p99'] for r in runs], 1)} | {_fmt(server, 2)} | {_fmt(us)} | "
            f"{_fmt(_cpu(runs, 'loadgen'), 2)} | {_fmt(busy)} | {checks} |")


def main(paths: list[str]) -> int:
    print("| run | req/s median (min–max) | p50 ms | p99 ms | server cores | server CPU µs/req | "
          "loadgen cores | machine busy % | correctness |")
    print("|---|---|---|---|---|---|---|---|---|")
    for path in paths:
        print(row(path))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
