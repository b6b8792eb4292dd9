"""Followers and verified accounts: follow / unfollow, profiles, and the admin's verification of
celebrity (明星) and enterprise (企业) accounts.

Anyone may follow anyone (as on Weibo); following matters for celebrity packets, which go to followers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hongbao.domain.errors import Forbidden, NotFound, Rejected
from hongbao.domain.social import parse_verification
from hongbao.service.deps import Deps
from hongbao.service.results.social import AdminGranted, Follow, Following, Person, Profile, ProfileSummary
from hongbao.service.worlds import check_reachable

if TYPE_CHECKING:
    from hongbao.service.ports.people import ProfileRow, SocialGraphPort


def user_not_found() -> NotFound:
    return NotFound("No such user.", code="user_not_found")


class SocialGraph:
    def __init__(self, deps: Deps) -> None:
        self.d = deps

    # ------------------------------------------------------------------ followers

    async def follow(self, user_id: int, target_id: int) -> Follow:
        """Follow an account; following it again changes nothing."""
        if user_id == target_id:
            raise Rejected("You cannot follow yourself.", code="cannot_follow_self")
        now = self.d.clock.now()

        def job(tx: SocialGraphPort) -> Follow:
            check_reachable(tx, user_id, target_id)
            tx.follow(user_id, target_id, now)
            return {"user_id": target_id, "following": True, "follower_count": tx.follower_count(target_id)}

        return await self.d.store.write(job)

    async def unfollow(self, user_id: int, target_id: int) -> Follow:
        """Stop following an account; unfollowing one you do not follow changes nothing."""

        def job(tx: SocialGraphPort) -> Follow:
            check_reachable(tx, user_id, target_id)
            tx.unfollow(user_id, target_id)
            return {"user_id": target_id, "following": False, "follower_count": tx.follower_count(target_id)}

        return await self.d.store.write(job)

    async def following(self, user_id: int) -> Following:
        """The accounts the user follows, the most recently followed first."""

        def job(tx: SocialGraphPort) -> Following:
            ids = tx.followee_ids(user_id)
            profiles = [tx.profile(i) for i in ids]
            return {"following": [_public(p) for p in profiles if p is not None]}

        return await self.d.store.read(job)

    async def profile(self, viewer_id: int, user_id: int) -> Profile:
        """Display name, verification, follower count, and whether the viewer follows (or is a friend)."""

        def job(tx: SocialGraphPort) -> Profile:
            check_reachable(tx, viewer_id, user_id)
            found = tx.profile(user_id)
            if found is None:
                raise user_not_found()
            return {
                **_public(found),
                "follower_count": tx.follower_count(user_id),
                "following_count": tx.followee_count(user_id),
                "followed_by_me": viewer_id != user_id and tx.is_follower(viewer_id, user_id),
                "is_friend": viewer_id != user_id and tx.are_friends(viewer_id, user_id),
            }

        return await self.d.store.read(job)

    async def find(self, viewer_id: int, username: str) -> Person:
        """A user by username (to befriend them), within the viewer's world (service/worlds.py)."""

        def job(tx: SocialGraphPort) -> Person:
            found = tx.user_by_username(username.strip().lower())
            if found is None:
                raise user_not_found()
            check_reachable(tx, viewer_id, found.id)
            return {"id": found.id, "username": found.username, "display_name": found.display_name}

        return await self.d.store.read(job)

    # ------------------------------------------------------------------ administration

    async def verify(self, admin_id: int, user_id: int, verified_as: object) -> ProfileSummary:
        """An admin verifies an account as "celebrity" or "enterprise" (None removes the verification)."""
        label = parse_verification(verified_as)

        def job(tx: SocialGraphPort) -> ProfileSummary:
            if not tx.is_admin(admin_id):
                raise Forbidden("Only an admin verifies accounts.", code="not_admin")
            if not tx.set_verified_as(user_id, None if label is None else label.value):
                raise user_not_found()
            found = tx.profile(user_id)
            assert found is not None
            return _public(found)

        return await self.d.store.write(job)

    async def verify_username(self, username: str, verified_as: object) -> ProfileSummary:
        """The operator's `hongbao admin verify`: no admin account needed, the shell is the authority."""
        label = parse_verification(verified_as)

        def job(tx: SocialGraphPort) -> ProfileSummary:
            found = _by_username(tx, username)
            tx.set_verified_as(found.id, None if label is None else label.value)
            return _public(_reloaded(tx, found.id))

        return await self.d.store.write(job)

    async def grant_admin(self, username: str, is_admin: bool = True) -> AdminGranted:
        """The operator's `hongbao admin grant`: make (or unmake) an account an admin."""

        def job(tx: SocialGraphPort) -> AdminGranted:
            found = _by_username(tx, username)
            tx.set_admin(found.id, is_admin)
            return {**_public(_reloaded(tx, found.id)), "is_admin": is_admin}

        return await self.d.store.write(job)


def _by_username(tx: SocialGraphPort, username: str) -> ProfileRow:
    user = tx.user_by_username(username.strip().lower())
    found = None if user is None else tx.profile(user.id)
    if found is None:
        raise user_not_found()
    return found


def _reloaded(tx: SocialGraphPort, user_id: int) -> ProfileRow:
    found = tx.profile(user_id)
    assert found is not None
    return found


def _public(p: ProfileRow) -> ProfileSummary:
    return {"id": p.id, "username": p.username, "display_name": p.display_name, "verified_as": p.verified_as}
