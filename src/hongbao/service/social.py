"""Friends and groups, minimal: request / accept friends; create a group, add, remove, leave."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hongbao.domain.errors import Conflict, Forbidden, NotFound, Rejected
from hongbao.service.deps import Deps
from hongbao.service.results.social import Friends, Friendship, Group, GroupSummary, MemberRemoved, Person
from hongbao.service.worlds import check_reachable, reachable_among, user_not_found

if TYPE_CHECKING:
    from hongbao.service.ports.people import SocialPort, UserRow

GROUP_NAME_CHARS_MAX = 64


def _group_not_found() -> NotFound:
    return NotFound("No such group.", code="group_not_found")


class Social:
    def __init__(self, deps: Deps) -> None:
        self.d = deps

    # ------------------------------------------------------------------ friends

    async def request_friend(self, user_id: int, other_id: int) -> Friendship:
        """Ask `other_id` to be friends; if they already asked us, this accepts their request."""
        if user_id == other_id:
            raise Rejected("You cannot befriend yourself.", code="cannot_befriend_self")
        now = self.d.clock.now()

        def job(tx: SocialPort) -> Friendship:
            check_reachable(tx, user_id, other_id)
            found = tx.friendship(user_id, other_id)
            if found is None:
                tx.add_friend_request(user_id, other_id, now)
                return {"user_id": other_id, "status": "pending"}
            requester, _, status = found
            if status == "accepted":
                raise Conflict("You are already friends.", code="already_friends")
            if requester == other_id:
                tx.accept_friend_request(other_id, user_id)
                return {"user_id": other_id, "status": "accepted"}
            raise Conflict("You already asked; wait for an answer.", code="already_requested")

        return await self.d.store.write(job)

    async def accept_friend(self, user_id: int, requester_id: int) -> Friendship:
        def job(tx: SocialPort) -> Friendship:
            if not tx.accept_friend_request(requester_id, user_id):
                raise NotFound("No pending friend request from this user.", code="friend_request_not_found")
            return {"user_id": requester_id, "status": "accepted"}

        return await self.d.store.write(job)

    async def decline_friend(self, user_id: int, requester_id: int) -> Friendship:
        """Say no to a pending request; the requester may ask again later."""

        def job(tx: SocialPort) -> Friendship:
            if not tx.decline_friend_request(requester_id, user_id):
                raise NotFound("No pending friend request from this user.", code="friend_request_not_found")
            return {"user_id": requester_id, "status": "declined"}

        return await self.d.store.write(job)

    async def remove_friend(self, user_id: int, other_id: int) -> Friendship:
        """Unfriend someone, or withdraw the request you sent them.  Groups and past packets stay."""

        def job(tx: SocialPort) -> Friendship:
            if tx.remove_friendship(user_id, other_id):
                return {"user_id": other_id, "status": "removed"}
            if tx.decline_friend_request(user_id, other_id):
                return {"user_id": other_id, "status": "withdrawn"}
            if tx.friendship(user_id, other_id) is not None:  # only their request to us is left
                raise NotFound(
                    "This user asked you and is not your friend yet: decline their request instead.",
                    code="friend_not_found",
                )
            raise NotFound("This user is not your friend.", code="friend_not_found")

        return await self.d.store.write(job)

    async def friends(self, user_id: int) -> Friends:
        """Friends, requests waiting for this user's answer, and the requests they sent (`sent`, withdrawable)."""

        def job(tx: SocialPort) -> Friends:
            friend_ids = tx.friends_of(user_id)
            pending = tx.pending_requests_to(user_id)
            sent = tx.pending_requests_from(user_id)
            users = tx.users_by_ids([*friend_ids, *pending, *sent])
            return {
                "friends": [_user(users[i]) for i in friend_ids],
                "requests": [_user(users[i]) for i in pending],
                "sent": [_user(users[i]) for i in sent],
            }

        return await self.d.store.read(job)

    # ------------------------------------------------------------------ groups

    async def create_group(
        self, owner_id: int, name: object, member_ids: list[int] | None = None
    ) -> Group:
        if (
            not isinstance(name, str)
            or not 1 <= len(name.strip()) <= GROUP_NAME_CHARS_MAX
            or not name.isprintable()
        ):
            raise Rejected(
                f"Group name: 1–{GROUP_NAME_CHARS_MAX} printable characters.", code="invalid_group_name",
                chars_max=GROUP_NAME_CHARS_MAX,
            )
        members = sorted(set(member_ids or []) - {owner_id})
        if len(members) + 1 > self.d.limits.group_members_max:
            raise Rejected(
                f"A group has at most {self.d.limits.group_members_max} members.", code="group_full",
                members_max=self.d.limits.group_members_max,
            )
        now = self.d.clock.now()

        def job(tx: SocialPort) -> Group:
            gid = tx.create_group(name.strip(), owner_id, now)
            # Every member checked with two reads and added with one statement (a 10,000-member group took
            # 30,000 statements and, on PostgreSQL, longer than a write may take); refused as one by one would.
            reached, friends = reachable_among(tx, owner_id, members), tx.friends_among(owner_id, members)
            for m in members:
                if m not in reached:
                    raise user_not_found()
                if m not in friends:
                    raise _not_friends()
            tx.add_members(gid, members, now)
            return self._group_view(tx, gid)

        return await self.d.store.write(job)

    async def add_member(self, actor_id: int, group_id: int, user_id: int) -> Group:
        """Any member may add one of their friends (as in WeChat groups)."""
        now = self.d.clock.now()

        def job(tx: SocialPort) -> Group:
            # Locked first: two processes adding the last seat's member must not both count 499.
            if tx.lock_group(group_id) is None or not tx.is_member(group_id, actor_id):
                raise _group_not_found()
            self._check_can_add(tx, actor_id, user_id)
            if tx.member_count(group_id) >= self.d.limits.group_members_max:
                raise Rejected(
                    f"A group has at most {self.d.limits.group_members_max} members.", code="group_full",
                    members_max=self.d.limits.group_members_max,
                )
            tx.add_member(group_id, user_id, now)
            return self._group_view(tx, group_id)

        try:
            return await self.d.store.write(job)
        finally:
            self.d.gate.forget_group(group_id)

    async def remove_member(self, actor_id: int, group_id: int, user_id: int) -> MemberRemoved:
        """The owner removes a member; any member removes themselves (leave)."""

        def job(tx: SocialPort) -> MemberRemoved:
            group = tx.group(group_id)
            if group is None or not tx.is_member(group_id, actor_id):
                raise _group_not_found()
            if actor_id != user_id and group.owner_id != actor_id:
                raise Forbidden("Only the owner removes other members.", code="not_group_owner")
            if user_id == group.owner_id:
                raise Rejected("The owner cannot leave the group.", code="owner_cannot_leave")
            if not tx.remove_member(group_id, user_id):
                raise NotFound("Not a member of this group.", code="member_not_found")
            return {"group_id": group_id, "removed_user_id": user_id}

        try:
            return await self.d.store.write(job)
        finally:
            self.d.gate.forget_group(group_id)

    async def group(self, user_id: int, group_id: int) -> Group:
        def job(tx: SocialPort) -> Group:
            if tx.group(group_id) is None or not tx.is_member(group_id, user_id):
                raise _group_not_found()
            return self._group_view(tx, group_id)

        return await self.d.store.read(job)

    async def groups(self, user_id: int) -> list[GroupSummary]:
        def job(tx: SocialPort) -> list[GroupSummary]:
            return [{"id": g.id, "name": g.name, "owner_id": g.owner_id} for g in tx.groups_of(user_id)]

        return await self.d.store.read(job)

    @staticmethod
    def _check_can_add(tx: SocialPort, actor_id: int, user_id: int) -> None:
        check_reachable(tx, actor_id, user_id)
        if not tx.are_friends(actor_id, user_id):
            raise _not_friends()

    @staticmethod
    def _group_view(tx: SocialPort, group_id: int) -> Group:
        g = tx.group(group_id)
        assert g is not None, "the job found or made the group first"
        ids = tx.member_ids(group_id)
        users = tx.users_by_ids(ids)
        return {"id": g.id, "name": g.name, "owner_id": g.owner_id, "members": [_user(users[i]) for i in ids]}


def _not_friends() -> Rejected:
    return Rejected("You can only add your friends to a group.", code="not_friends")


def _user(u: UserRow) -> Person:
    return {"id": u.id, "username": u.username, "display_name": u.display_name}
