"""Followers, profiles and the admin's verification of celebrity and enterprise accounts."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from hongbao.api.deps import AppDep, CurrentUser, PathId
from hongbao.api.openapi import operation_id
from hongbao.api.schemas_social import FollowingPublic, FollowPublic, ProfilePublic, ProfileSummary
from hongbao.service.results import social as social_results

router = APIRouter(prefix="/v1", tags=["followers"], generate_unique_id_function=operation_id)


class VerificationSet(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    verified_as: Literal["celebrity", "enterprise"] | None = Field(
        alias="as", description='"celebrity" (明星), "enterprise" (企业), or null to remove the verification.'
    )


@router.post("/users/{target_id}/follow", response_model=FollowPublic)
async def follow(target_id: PathId, app: AppDep, user_id: CurrentUser) -> social_results.Follow:
    """Follow an account (again: no change). Celebrity packets go to followers."""
    return await app.social_graph.follow(user_id, target_id)


@router.delete("/users/{target_id}/follow", response_model=FollowPublic)
async def unfollow(target_id: PathId, app: AppDep, user_id: CurrentUser) -> social_results.Follow:
    """Stop following an account (not following: no change)."""
    return await app.social_graph.unfollow(user_id, target_id)


@router.get("/following", response_model=FollowingPublic)
async def following(app: AppDep, user_id: CurrentUser) -> social_results.Following:
    """The accounts you follow, the most recent first."""
    return await app.social_graph.following(user_id)


@router.get("/users/{target_id}/profile", response_model=ProfilePublic)
async def profile(target_id: PathId, app: AppDep, user_id: CurrentUser) -> social_results.Profile:
    """Display name, `verified_as`, `follower_count`, and whether you follow them (`followed_by_me`)."""
    return await app.social_graph.profile(user_id, target_id)


@router.post("/admin/users/{target_id}/verify", response_model=ProfileSummary)
async def verify(
    target_id: PathId, body: VerificationSet, app: AppDep, user_id: CurrentUser
) -> social_results.ProfileSummary:
    """Admins only (403 not_admin): verify an account as a celebrity or an enterprise, or remove it."""
    return await app.social_graph.verify(user_id, target_id, body.verified_as)
