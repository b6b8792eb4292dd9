"""The caller's wallet: balance, top-up and withdrawal (sandbox channel), statement."""

from __future__ import annotations

from fastapi import APIRouter, status

from hongbao.api.deps import AppDep, CurrentUser, Cursor, IdempotencyKeyHeader, PageLimit, PathId, page_cursor
from hongbao.api.openapi import operation_id
from hongbao.api.schemas import AmountBody, BalancePublic, PaymentPublic, StatementPage
from hongbao.domain.errors import NotFound
from hongbao.service.idempotency import IdempotencyKey
from hongbao.service.results.wallet import Payment, Statement

router = APIRouter(prefix="/v1", tags=["wallet"], generate_unique_id_function=operation_id)


def _own(user_id: int, path_user_id: int) -> None:
    if user_id != path_user_id:
        # Another user's wallet does not exist for you.
        raise NotFound("No such wallet.", code="account_not_found")


@router.get("/wallet", response_model=BalancePublic)
async def balance(app: AppDep, user_id: CurrentUser) -> BalancePublic:
    return BalancePublic(user_id=user_id, balance_fen=await app.wallet.balance(user_id))


@router.get("/users/{owner_id}/wallet", response_model=BalancePublic)
async def balance_of(owner_id: PathId, app: AppDep, user_id: CurrentUser) -> BalancePublic:
    """A wallet by user id: only your own (others answer 404)."""
    _own(user_id, owner_id)
    return BalancePublic(user_id=user_id, balance_fen=await app.wallet.balance(user_id))


@router.post("/wallet/top-ups", status_code=status.HTTP_201_CREATED, response_model=PaymentPublic)
async def top_up(
    body: AmountBody, app: AppDep, user_id: CurrentUser, key: IdempotencyKeyHeader = None
) -> Payment:
    """Add money from the (sandbox) payment channel."""
    idem = IdempotencyKey.of(user_id, key, "top-up", body.model_dump())
    return await app.wallet.top_up(user_id, body.amount_fen, idem)


@router.post("/wallet/withdrawals", status_code=status.HTTP_201_CREATED, response_model=PaymentPublic)
async def withdraw(
    body: AmountBody, app: AppDep, user_id: CurrentUser, key: IdempotencyKeyHeader = None
) -> Payment:
    """Send money out through the (sandbox) payment channel."""
    idem = IdempotencyKey.of(user_id, key, "withdraw", body.model_dump())
    return await app.wallet.withdraw(user_id, body.amount_fen, idem)


@router.get("/wallet/statement", response_model=StatementPage)
async def statement(
    app: AppDep,
    user_id: CurrentUser,
    cursor: Cursor = None,
    limit: PageLimit = 20,
) -> Statement:
    """Sent, received, refunded, top-ups and withdrawals, newest first; pass `next_cursor` for more."""
    return await app.wallet.statement(user_id, page_cursor(cursor), limit)


@router.get("/users/{owner_id}/statement", response_model=StatementPage)
async def statement_of(
    owner_id: PathId,
    app: AppDep,
    user_id: CurrentUser,
    cursor: Cursor = None,
    limit: PageLimit = 20,
) -> Statement:
    """A statement by user id: only your own (others answer 404)."""
    _own(user_id, owner_id)
    return await app.wallet.statement(user_id, page_cursor(cursor), limit)
