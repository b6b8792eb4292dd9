"""Registration, sessions (login / logout) and looking users up."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response, status

from hongbao.api.deps import AppDep, CurrentUser
from hongbao.api.openapi import operation_id
from hongbao.api.schemas import MePublic, SessionCreate, SessionPublic, UserCreate, UserPublic

router = APIRouter(prefix="/v1", tags=["users"], generate_unique_id_function=operation_id)
DEVICE_COOKIE = "hongbao_device"
DEVICE_COOKIE_MAX_AGE_S = 365 * 24 * 3600


@router.post("/users", status_code=status.HTTP_201_CREATED, response_model=UserPublic)
async def register(body: UserCreate, app: AppDep) -> UserPublic:
    """Create an account (no token needed)."""
    user_id = await app.users.register(body.username, body.password, body.display_name)
    return await _user(app, user_id)


@router.post("/sessions", status_code=status.HTTP_201_CREATED, response_model=SessionPublic)
async def login(
    body: SessionCreate, app: AppDep, request: Request, response: Response,
    device_header: Annotated[str | None, Header(alias="Hongbao-Device", max_length=64)] = None,
) -> SessionPublic:
    """Log in: returns a bearer token for `Authorization: Bearer <token>`.

    Wrong passwords are limited per client address and per account (429 `too_many_attempts` with Retry-After).
    A locked account still lets in the right password from a device that logged in before: the answer sets a
    `hongbao_device` cookie (browsers send it back by themselves) and a `Hongbao-Device` header, which other
    clients keep and send back as a `Hongbao-Device` header.
    """
    address = request.client.host if request.client else "unknown"
    device = device_header or request.cookies.get(DEVICE_COOKIE)
    session = await app.users.login(body.username, body.password, address=address, device=device)
    if session.device is not None:
        response.headers["Hongbao-Device"] = session.device
        response.set_cookie(
            DEVICE_COOKIE, session.device, max_age=DEVICE_COOKIE_MAX_AGE_S, path="/v1/sessions",
            httponly=True, samesite="strict", secure=request.url.scheme == "https",
        )
    return SessionPublic(
        token=session.token, user_id=session.user_id, expires_at=session.expires_at.isoformat()
    )


@router.delete("/sessions/current", status_code=status.HTTP_204_NO_CONTENT)
async def logout(request: Request, app: AppDep, _: CurrentUser) -> None:
    """Revoke the token used for this request."""
    await app.users.logout(request.headers["authorization"].partition(" ")[2].strip())


@router.get("/me", response_model=MePublic)
async def me(app: AppDep, user_id: CurrentUser) -> MePublic:
    """You, and your roles: verified as celebrity or enterprise, admin, merchant."""
    u = await app.users.me(user_id)
    return MePublic(id=u.id, username=u.username, display_name=u.display_name, verified_as=u.verified_as,
                    is_admin=u.is_admin, merchant=u.merchant)


@router.get("/users", response_model=UserPublic)
async def find_user(app: AppDep, user_id: CurrentUser, username: str = Query(max_length=64)) -> UserPublic:
    """Find a user by username (to befriend them); only users you may reach (a host app's users: its own)."""
    return UserPublic(**await app.social_graph.find(user_id, username))


async def _user(app: AppDep, user_id: int) -> UserPublic:
    users = await app.store.read(lambda tx: tx.users_by_ids([user_id]))
    u = users[user_id]
    return UserPublic(id=u.id, username=u.username, display_name=u.display_name)
