"""Friends and groups."""

from __future__ import annotations

from fastapi import APIRouter, status

from hongbao.api.deps import AppDep, CurrentUser, PathId
from hongbao.api.openapi import operation_id
from hongbao.api.schemas import FriendRequestCreate, GroupCreate, MemberAdd
from hongbao.api.schemas_social import FriendshipPublic, FriendsPublic, GroupPublic, GroupSummary, MemberRemoved
from hongbao.service.results import social as social_results

router = APIRouter(prefix="/v1", tags=["friends and groups"], generate_unique_id_function=operation_id)


@router.get("/friends", response_model=FriendsPublic)
async def friends(app: AppDep, user_id: CurrentUser) -> social_results.Friends:
    """Your friends, the friend requests waiting for your answer, and the ones you sent (`sent`)."""
    return await app.social.friends(user_id)


@router.post("/friends/requests", status_code=status.HTTP_201_CREATED, response_model=FriendshipPublic)
async def request_friend(body: FriendRequestCreate, app: AppDep, user_id: CurrentUser) -> social_results.Friendship:
    """Ask a user to be your friend (accepts theirs if they already asked you)."""
    return await app.social.request_friend(user_id, body.user_id)


@router.post("/friends/requests/{requester_id}/accept", response_model=FriendshipPublic)
async def accept_friend(requester_id: PathId, app: AppDep, user_id: CurrentUser) -> social_results.Friendship:
    return await app.social.accept_friend(user_id, requester_id)


@router.post("/friends/requests/{requester_id}/decline", response_model=FriendshipPublic)
async def decline_friend(requester_id: PathId, app: AppDep, user_id: CurrentUser) -> social_results.Friendship:
    """Say no to a friend request."""
    return await app.social.decline_friend(user_id, requester_id)


@router.delete("/friends/{friend_id}", response_model=FriendshipPublic)
async def remove_friend(friend_id: PathId, app: AppDep, user_id: CurrentUser) -> social_results.Friendship:
    """Unfriend someone (or withdraw the request you sent them)."""
    return await app.social.remove_friend(user_id, friend_id)


@router.get("/groups", response_model=list[GroupSummary])
async def my_groups(app: AppDep, user_id: CurrentUser) -> list[social_results.GroupSummary]:
    return await app.social.groups(user_id)


@router.post("/groups", status_code=status.HTTP_201_CREATED, response_model=GroupPublic)
async def create_group(body: GroupCreate, app: AppDep, user_id: CurrentUser) -> social_results.Group:
    """Create a group with you as owner; `member_ids` must be your friends."""
    return await app.social.create_group(user_id, body.name, body.member_ids)


@router.get("/groups/{group_id}", response_model=GroupPublic)
async def group(group_id: PathId, app: AppDep, user_id: CurrentUser) -> social_results.Group:
    return await app.social.group(user_id, group_id)


@router.post("/groups/{group_id}/members", status_code=status.HTTP_201_CREATED, response_model=GroupPublic)
async def add_member(group_id: PathId, body: MemberAdd, app: AppDep, user_id: CurrentUser) -> social_results.Group:
    """Any member adds one of their friends."""
    return await app.social.add_member(user_id, group_id, body.user_id)


@router.delete("/groups/{group_id}/members/{member_id}", response_model=MemberRemoved)
async def remove_member(
    group_id: PathId, member_id: PathId, app: AppDep, user_id: CurrentUser
) -> social_results.MemberRemoved:
    """The owner removes a member; a member removes themselves."""
    return await app.social.remove_member(user_id, group_id, member_id)


@router.post("/groups/{group_id}/leave", response_model=MemberRemoved)
async def leave(group_id: PathId, app: AppDep, user_id: CurrentUser) -> social_results.MemberRemoved:
    return await app.social.remove_member(user_id, group_id, user_id)
