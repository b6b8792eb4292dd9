"""Who may open a face-to-face, password or celebrity packet: the audiences `Packets` asks before any money moves."""

from __future__ import annotations

import asyncio
from collections.abc import Hashable
from typing import TYPE_CHECKING

from hongbao.domain import errors
from hongbao.domain.errors import HongbaoError, Rejected
from hongbao.domain.open_kinds import (
    SecretKind,
    check_distance,
    clean_code,
    digest_matches,
    normalize_phrase,
    not_follower,
    place_of,
    secret_in_world,
    world_of,
)
from hongbao.domain.packets import PacketView
from hongbao.service.audience import Claimant
from hongbao.service.cache import Lru
from hongbao.service.install_key import InstallKey
from hongbao.service.worlds import Worlds

if TYPE_CHECKING:
    from hongbao.service.ports import Store
    from hongbao.service.ports.people import AudienceReads


async def in_senders_world(worlds: Worlds, view: PacketView, who: Claimant) -> bool:
    """True, or 404 packet_not_found for a user of another world than the sender's (service/worlds.py): across
    worlds a code or phrase packet is not there at all.  Cached, so the open path does not read per request."""
    if who.user_id != view.sender_id and not await worlds.same(view.sender_id, who.user_id):
        raise errors.packet_not_found()
    return True


class FaceToFaceAudience:
    """Anyone logged in who brings the code, standing within the radius if the sender set one (in their world)."""

    def __init__(self, key: InstallKey, digits: int, worlds: Worlds) -> None:
        self.key, self.digits, self.worlds = key, digits, worlds

    async def admits(self, view: PacketView, who: Claimant) -> bool:
        return await in_senders_world(self.worlds, view, who)

    def secret_ok(self, view: PacketView, who: Claimant) -> bool:
        try:
            code = clean_code(who.secret, self.digits)
        except Rejected:
            return False
        return digest_matches(self.key.all(), SecretKind.CODE, secret_in_world(code, world_of(view.extra)),
                              view.secret_hash)

    def confirm(self, tx: AudienceReads, view: PacketView, who: Claimant) -> None:
        check_distance(place_of(view.extra), who.location)


class PasswordAudience:
    """Anyone logged in who types the exact phrase (after normalisation), in the sender's world."""

    def __init__(self, key: InstallKey, worlds: Worlds) -> None:
        self.key, self.worlds = key, worlds

    async def admits(self, view: PacketView, who: Claimant) -> bool:
        return await in_senders_world(self.worlds, view, who)

    def secret_ok(self, view: PacketView, who: Claimant) -> bool:
        try:
            phrase = normalize_phrase(who.secret)
        except Rejected:
            return False
        return digest_matches(self.key.all(), SecretKind.PHRASE, secret_in_world(phrase, world_of(view.extra)),
                              view.secret_hash)

    def confirm(self, tx: AudienceReads, view: PacketView, who: Claimant) -> None:
        return None


class Followers:
    """Celebrity packets: followers of the sender.  `admits` caches only "yes" (stale only permissively).

    A star's packet is opened by many distinct followers at once, so nothing is cached for most of them: the
    questions `admits` has to ask within one turn of the event loop are asked together, one lookup per star (on
    SQLite, on the loop's own connection: a read through a reader thread cost ~335 µs of CPU, shared by the few
    openers of one turn), and the writer decides a whole batch's openers of one star with one read too (`among`)."""

    def __init__(self, store: Store, size_max: int = 200_000) -> None:
        self.store = store
        self._yes: Lru[tuple[int, int], bool] = Lru(size_max)  # touched on the event loop only
        self._stale: set[tuple[int, int]] = set()  # refusals seen by the writer thread, forgotten on the loop
        self._asking: dict[int, dict[int, asyncio.Future[bool]]] = {}  # star → follower → answer (on the loop)
        self._reading: set[asyncio.Task[None]] = set()

    async def admits(self, view: PacketView, who: Claimant) -> bool:
        pair = (who.user_id, view.sender_id)
        if pair in self._stale:
            self._stale.discard(pair)
            self._yes.pop(pair)
        if self._yes.get(pair):
            return True
        # Shielded: a caller that gives up (its request cancelled) must not cancel the answer others share.
        if await asyncio.shield(self._ask(who.user_id, view.sender_id)):
            self._yes.put(pair, True)
            return True
        return False

    def _ask(self, follower_id: int, star_id: int) -> asyncio.Future[bool]:
        """Whether `follower_id` follows `star_id`: asked with every other question about the star this turn."""
        loop = asyncio.get_running_loop()
        waiting = self._asking.setdefault(star_id, {})
        answer = waiting.get(follower_id)
        if answer is None:
            answer = waiting[follower_id] = loop.create_future()
            if len(waiting) == 1:  # the first question of this round reads for all that join before it runs
                reading = loop.create_task(self._read(star_id))
                self._reading.add(reading)  # a task only the loop refers to may be collected mid-read
                reading.add_done_callback(self._reading.discard)
        return answer

    async def _read(self, star_id: int) -> None:
        waiting = self._asking.pop(star_id)
        try:
            found = await self.store.look(lambda q: q.followers_among(star_id, sorted(waiting)))
        except BaseException as exc:
            for answer in waiting.values():
                if not answer.done():
                    answer.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        for user_id, answer in waiting.items():
            if not answer.done():
                answer.set_result(user_id in found)

    def secret_ok(self, view: PacketView, who: Claimant) -> bool:
        return True

    def confirm(self, tx: AudienceReads, view: PacketView, who: Claimant) -> None:
        if who.user_id not in self.among(tx, view, [who.user_id]):
            raise not_follower()

    def together_key(self, view: PacketView) -> Hashable | None:
        return ("followers", view.sender_id)

    def among(self, tx: AudienceReads, view: PacketView, user_ids: list[int]) -> set[int]:
        found = tx.followers_among(view.sender_id, user_ids)
        self._stale.update((u, view.sender_id) for u in user_ids if u not in found)
        return found

    def refuse(self, view: PacketView, who: Claimant) -> HongbaoError:
        return not_follower()
