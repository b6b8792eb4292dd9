"""Worlds: hongbao's own users live in one, each host app's users in their own, and nobody reaches across.

A host app (service/hosts.py) answers for its users' consent: it may make two of them friends, group them, send
between them.  Another host's users, and hongbao's own, are not its to reach: a friend request, a follow, a group
invitation, a conversation, a personal packet, a transfer or an ask naming someone of another world answers exactly
as for an id nobody has (404 user_not_found), so a host cannot even learn that a user id exists outside its world.
Packets opened by whoever brings the code or phrase (面对面, 口令) open only within the sender's world: across, the
code is as wrong as a made-up one.  Friendship being impossible across worlds, everything built on it (groups, group
packets, relays, celebrity packets to followers) stays inside a world too.  So do campaigns, shake events (and
their pools) and merchants' offers: each belongs to its owner's world, and another world's id answers as one nobody
made (404 campaign_not_found, shake_event_not_found, offer_not_found); lists show the viewer's world only.

A user's world is fixed when the user is made (a host's user is mapped on first use, hongbao's own registers), so
the answer may be cached for as long as the process lives.  Registration and authentication tell the cache the
caller's world (a host key names its host; a session is only ever hongbao's own user's), so the shake path's check
reads nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from hongbao.domain.errors import NotFound
from hongbao.service.cache import Lru

if TYPE_CHECKING:
    from hongbao.service.ports import Store
    from hongbao.service.ports.people import People

OWN = 0  # the world of hongbao's own users (host ids start at 1)
NOWHERE = -1  # the world of a user id nobody has: nothing is in it


def user_not_found() -> NotFound:
    return NotFound("No such user.", code="user_not_found")


def reachable(tx: People, actor_id: int, other_id: int) -> bool:
    """Whether `other_id` is a user `actor_id` may name: one that exists, in the actor's world."""
    return other_id in reachable_among(tx, actor_id, [other_id])


def reachable_among(tx: People, actor_id: int, others: Sequence[int]) -> set[int]:
    """Those of `others` that `actor_id` may name, in one read (a new group's members)."""
    worlds = tx.worlds_of([actor_id, *others])
    mine = worlds.get(actor_id, OWN)
    return {other for other in others if worlds.get(other) == mine}


def check_reachable(tx: People, actor_id: int, other_id: int) -> None:
    """404 user_not_found unless `other_id` exists in the actor's world."""
    if not reachable(tx, actor_id, other_id):
        raise user_not_found()


class Worlds:
    """Users' worlds, cached (they never change): for the open path, which must not read per request."""

    def __init__(self, store: Store, size_max: int = 200_000) -> None:
        self.store = store
        self._of: Lru[int, int] = Lru(size_max)  # touched on the event loop only

    def learn(self, user_id: int, world: int) -> None:
        """Remember a user's world found elsewhere (a host key names its host: service/hosts.py), saving a read."""
        self._of.put(user_id, world)

    async def of(self, user_id: int) -> int:
        """The user's world (NOWHERE for an id nobody has), read once per process and user."""
        world = self._of.get(user_id)
        if world is None:
            found = await self.store.read(lambda tx: tx.worlds_of([user_id]))
            if user_id not in found:
                return NOWHERE
            world = found[user_id]
            self._of.put(user_id, world)
        return world

    async def same(self, a: int, b: int) -> bool:
        """Whether users `a` and `b` live in the same world (unknown users are of no world)."""
        wa, wb = self._of.get(a), self._of.get(b)
        if wa is None or wb is None:
            found = await self.store.read(lambda tx: tx.worlds_of([a, b]))
            for user_id, world in found.items():
                self._of.put(user_id, world)
            wa, wb = found.get(a), found.get(b)
        return wa is not None and wa == wb
