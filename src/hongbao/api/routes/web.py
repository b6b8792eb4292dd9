"""The browser app's server side: deep links under /app/ answer its one page, demo logins, and its figures."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from hongbao.adapters import images
from hongbao.api.deps import AppDep, CurrentUser
from hongbao.api.openapi import operation_id
from hongbao.api.schemas_open import DemoUser, FairnessPublic, ReportPublic
from hongbao.api.static import WebApp
from hongbao.api.types import DIGITS
from hongbao.domain.errors import NotFound, Rejected
from hongbao.domain.fairness import PositionStats, position_stats
from hongbao.domain.split import Split
from hongbao.seed import DEMO_PASSWORD, DEMO_USERS, DEMO_VERIFIED, SEEDED_KEY

router = APIRouter(tags=["web"], generate_unique_id_function=operation_id)


def _page(request: Request) -> Response:
    # The app is one static page: it routes /app/... itself, so a reload or a shared link lands on it.
    # create_app renders it once with the static tree's versioned prefix (api/static.py).
    web_app: WebApp | None = getattr(request.app.state, "web_app", None)
    if web_app is None:
        raise NotFound("This server has no web app.", code="not_found")
    return web_app.page()


@router.get("/app", include_in_schema=False)
async def app_root(request: Request) -> Response:
    return _page(request)


@router.get("/favicon.ico", include_in_schema=False)
async def favicon() -> Response:
    return Response(images.favicon_ico(), media_type="image/x-icon", headers={"Cache-Control": "public, max-age=86400"})


@router.get("/app/{rest:path}", include_in_schema=False)
async def app_page(rest: str, request: Request) -> Response:
    return _page(request)


@router.get("/v1/demo-users", response_model=list[DemoUser])
async def demo_users(app: AppDep) -> list[dict[str, Any]]:
    """Embedded mode with demo data on and created: the demo logins, for one-tap buttons on the login page."""
    settings = app.settings
    if not (settings.demo_enabled() and settings.embedded()
            and await app.store.read(lambda tx: tx.meta_get(SEEDED_KEY)) is not None):
        raise NotFound("Demo users exist only in embedded mode with demo data on.", code="not_found")
    people: list[tuple[str, str, str | None]] = [(name, shown, None) for name, shown in DEMO_USERS]
    people += [(name, shown, verified_as) for name, shown, verified_as, _ in DEMO_VERIFIED]
    return [
        {"username": name, "display_name": shown, "password": DEMO_PASSWORD, "verified_as": verified_as}
        for name, shown, verified_as in people
    ]


FAIRNESS_RUNS_MAX = 20_000
FAIRNESS_SHARES_MAX = 100
FAIRNESS_DRAWS_MAX = 200_000  # about half a second of one core with double_mean
_FAIRNESS_LOCK = threading.Lock()
FAIRNESS_TOTAL_FEN_MAX = 10**10  # a study may exceed any packet a user can send, within reason
REPORT_YEAR_MIN, REPORT_YEAR_MAX = 2000, 2100
_PACKET_REFS = frozenset({"packet", "claim", "refund"})


@router.get("/v1/me/report", response_model=ReportPublic)
async def yearly_report(
    app: AppDep, user_id: CurrentUser, year: Annotated[int | None, DIGITS, Query()] = None
) -> dict[str, Any]:
    """Your red packets in one calendar year (UTC): sent, received, by month, and your luckiest claim."""
    if year is None:
        year = app.deps.clock.now().year
    if not REPORT_YEAR_MIN <= year <= REPORT_YEAR_MAX:
        raise Rejected(f"year must be {REPORT_YEAR_MIN}–{REPORT_YEAR_MAX}.", code="invalid_year")
    start, end = datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
    months = [{"month": m, "sent_fen": 0, "received_fen": 0} for m in range(1, 13)]
    totals = {"sent_fen": 0, "sent_count": 0, "received_fen": 0, "received_count": 0, "refunded_fen": 0}
    luckiest: dict[str, Any] | None = None
    cursor: int | None = None
    while True:
        # Only the caller's own wallet statement is read: the report never names another user.
        page = await app.wallet.statement(user_id, cursor, 100)
        for entry in page["entries"]:
            at = datetime.fromisoformat(entry["created_at"])
            if at.tzinfo is None:
                at = at.replace(tzinfo=UTC)
            # Red packets only ("packet:7" funds, "claim:7:2" claims, "refund:7" refunds), not transfers.
            ref = str(entry["ref"] or "").split(":")
            if at >= end or ref[0] not in _PACKET_REFS:
                continue
            if at < start:
                break
            kind, fen, month = entry["kind"], abs(int(entry["amount_fen"])), months[at.month - 1]
            if kind in ("sent", "received"):
                totals[f"{kind}_fen"] += fen
                totals[f"{kind}_count"] += 1
                month[f"{kind}_fen"] += fen
            elif kind == "refunded":
                totals["refunded_fen"] += fen
            if kind == "received" and (luckiest is None or fen > luckiest["amount_fen"]):
                luckiest = {
                    "amount_fen": fen,
                    "packet_id": int(ref[1]) if len(ref) > 1 and ref[1].isdigit() else None,
                    "created_at": entry["created_at"],
                }
        else:
            if page["next_cursor"] is not None:
                cursor = int(page["next_cursor"])
                continue
        break
    return {"year": year, **totals, "luckiest": luckiest, "months": months}


@router.get("/v1/fairness", response_model=FairnessPublic)
async def fairness(
    total_fen: Annotated[int, DIGITS, Query(description="The packet's total, in fen.")],
    shares: Annotated[int, DIGITS, Query(description=f"How many shares (at most {FAIRNESS_SHARES_MAX}).")],
    runs: Annotated[int, DIGITS, Query(description=f"How many packets to draw (at most {FAIRNESS_RUNS_MAX}).")] = 2000,
    algorithm: Split = Query(Split.DOUBLE_MEAN, description="equal, double_mean or line_cut."),
    *,
    _: CurrentUser,
) -> dict[str, Any]:
    """What each grab position gets over many simulated packets: mean, stdev, min, max, best-luck odds.

    CPU-bound: logged-in users only, one simulation at a time per process, at most
    FAIRNESS_DRAWS_MAX shares drawn per request.
    """
    if not 1 <= runs <= FAIRNESS_RUNS_MAX:
        raise Rejected(f"runs must be 1–{FAIRNESS_RUNS_MAX}.", code="invalid_runs")
    if not 1 <= shares <= FAIRNESS_SHARES_MAX:
        raise Rejected(f"shares must be 1–{FAIRNESS_SHARES_MAX}.", code="invalid_share_count")
    if total_fen > FAIRNESS_TOTAL_FEN_MAX:
        raise Rejected(f"total_fen must be at most {FAIRNESS_TOTAL_FEN_MAX}.", code="invalid_amount")
    if runs * shares > FAIRNESS_DRAWS_MAX:
        raise Rejected(f"runs × shares must be at most {FAIRNESS_DRAWS_MAX}.", code="invalid_runs")
    def simulate() -> list[PositionStats]:
        with _FAIRNESS_LOCK:
            return position_stats(total_fen, shares, runs, algorithm)

    stats = await anyio.to_thread.run_sync(simulate)
    return {
        "total_fen": total_fen,
        "shares": shares,
        "runs": runs,
        "algorithm": algorithm.value,
        "positions": [
            {
                "position": p.position,
                "mean_fen": p.mean_fen,
                "stdev_fen": p.stdev_fen,
                "best_luck_probability": p.best_luck_probability,
                "min_fen": p.min_fen,
                "max_fen": p.max_fen,
            }
            for p in stats
        ],
    }
