"""拆 (open) and 抢 (grab), top to bottom: the order of the checks, in one place.

One open goes through five files, from the HTTP edge to the commit:

1. api/hotpath.py: the edge.  Bearer token → user id, Idempotency-Key, problem+json; nothing else.
2. service/opening.py (this module): the order of the checks (DESIGN.md §6), read top to bottom below.
   `open` → a keyed retry gets its first reply (`_replayable_open`, `InFlight`) → `_take`: the gate admits
   (`_admit`: the cheap answers) → the writer settles the batch (`_settle_opens`) → the gate learns the outcome.
3. adapters/gate.py: the cheap answers from memory, in `check_grab`'s order (domain/packets.py, DESIGN.md §6):
   packet_not_found → packet_expired → not in the audience (`Audience.admits`) → wrong code or phrase →
   already_claimed → packet_exhausted; and one share reserved per open, so a storm's losers never reach the
   writer.
4. adapters/sql/store.py: the writer thread.  Opens queue as `Bulk` jobs; one transaction settles a batch of
   them (group commit), exactly once even when a COMMIT's reply is lost.
5. adapters/sql/tx_settle.py: the atomic step for the whole batch: packets locked in id order, the claims'
   unique key decides "one per user", counters, claims, escrow debits, wallet credits and transfers written
   with one statement each.

Inside the writer (`_settle_opens`) everything is decided again, for real, in this order: a keyed retry's
stored reply → the audience (one read per group or star for the batch: `DecidedTogether`; else `confirm`) →
`open_shares` (not found → expired → already claimed → exhausted) → the opened hooks (claim notices, share
events, relay, webhooks) → a keyed open's reply stored with its effect.  Who may open each kind:
`service/audience.py`.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from hongbao.domain import errors
from hongbao.domain.errors import HongbaoError
from hongbao.domain.packets import PacketKind, PacketView
from hongbao.domain.split import Rng
from hongbao.service.audience import Audience, Claimant, DecidedTogether, GroupMembers, Nobody, Recipient
from hongbao.service.deps import Deps
from hongbao.service.idempotency import IdempotencyKey, InFlight, first_reply, remember, stored_reply
from hongbao.service.ports import Bulk, ShareWanted
from hongbao.service.results.opening import Grab, Opened, StoredOpen
from hongbao.service.worlds import Worlds

if TYPE_CHECKING:
    from hongbao.service.ports.packet_hooks import OpenSettling
    from hongbao.service.ports.people import AudienceReads

# Refusals the store may give at open time, and what the gate should remember of them.
_GATE_OUTCOME = {
    "already_claimed": "already_claimed",
    "packet_exhausted": "exhausted",
    "packet_expired": "expired",
}


class Opener:
    """Grab and open, for every packet kind; `Packets` adds send, read and expiry."""

    def __init__(self, deps: Deps, rng: Rng | None = None) -> None:
        self.d = deps
        self.rng = rng  # None: secrets.SystemRandom; a seeded Random only in tests and simulation
        # An open retried while its first attempt runs here waits for it, then answers its reply.
        self._opening = InFlight()
        self.worlds = Worlds(deps.store)  # users' worlds, cached: a refused opener of another world learns nothing
        members = GroupMembers(deps.gate)
        self._together_of: dict[PacketKind, DecidedTogether | None] = {}
        self.audiences: dict[PacketKind, Audience] = {
            PacketKind.PERSONAL: Recipient(),
            PacketKind.GROUP: members,
            PacketKind.RELAY: members,
        }

    def register_audience(self, kind: PacketKind, audience: Audience) -> None:
        """Say who may open packets of `kind` (bootstrap registers each area's kinds once)."""
        self.audiences[kind] = audience
        self._together_of.pop(kind, None)

    def audience(self, kind: PacketKind) -> Audience:
        return self.audiences.get(kind) or Nobody()

    async def grab(self, packet_id: int, user_id: int, *, secret: str | None = None,
                   location: tuple[float, float] | None = None) -> Grab:
        """抢: the cheap question — may this user open the packet now?  Moves no money."""
        view = await self._admit(packet_id, Claimant(user_id, secret, location), reserve=False)
        return {"packet_id": view.id, "can_open": True}

    async def open(
        self,
        packet_id: int,
        user_id: int,
        idem: IdempotencyKey | None = None,
        *,
        secret: str | None = None,
        location: tuple[float, float] | None = None,
        channel: str = "app",
    ) -> Opened:
        """拆: take a share and credit it to the user's wallet; return the amount."""
        who = Claimant(user_id, secret, location, channel)
        if idem is None:
            return await self._take(packet_id, who, None)
        return await self._opening.run(idem, lambda: self._replayable_open(packet_id, who, idem))

    async def _replayable_open(self, packet_id: int, who: Claimant, idem: IdempotencyKey) -> Opened:
        # A retry gets the first answer (or idempotency_key_reused) before the gate, which
        # would now refuse it as already claimed.
        first = await stored_reply(self.d.store, idem, StoredOpen)
        if first is not None:
            return _opened(first)
        try:
            return await self._take(packet_id, who, idem)
        except HongbaoError as refusal:
            if refusal.code == "idempotency_key_reused":
                raise
            # A retry racing its first attempt in another process (this process's replays wait in
            # `_opening`) is refused by that attempt's own effect: its claim, or the share it took.
            # The attempt stored its reply in the transaction that made the claim, so once the claim
            # can be seen the reply can be read; a claim made without this key leaves none, and the
            # refusal stands.  Only refused keyed opens pay this one extra read.
            first = await stored_reply(self.d.store, idem, StoredOpen)
            if first is None:
                raise
            return _opened(first)

    async def _take(self, packet_id: int, who: Claimant, idem: IdempotencyKey | None) -> Opened:
        user_id = who.user_id
        view = await self._admit(packet_id, who, reserve=True)
        opening = Opening(view, who, idem, self.d.clock.now())
        try:
            reply: StoredOpen = await self.d.store.settle(Bulk("open", opening, self._settle_opens))
        except HongbaoError as exc:
            self.d.gate.settle(packet_id, user_id, _GATE_OUTCOME.get(exc.code, "failed"))
            raise
        except BaseException:
            self.d.gate.settle(packet_id, user_id, "failed")
            raise
        self.d.gate.settle(packet_id, user_id, "won")
        self.d.hooks.published("packet_opened", {"user_id": user_id, **reply})
        return _opened(reply)

    def _settle_opens(self, tx: OpenSettling, batch: list[tuple[str, Opening]]) -> list[tuple[bool, Any]]:
        """Inside the writer: every open of one write batch, across packets, settled together.

        Per open, in DESIGN.md §6's order: a keyed retry gets its stored reply; the audience is decided again
        (the gate's answer was only the cheap one); then `open_shares` takes the shares, records the claims and
        pays them with set-based statements; the opened hooks (conversation notices, relay, share figures)
        see each claim in turn; a keyed open's reply is stored with its effect."""
        results: list[tuple[bool, Any]] = [(False, None)] * len(batch)
        wanted: list[ShareWanted] = []
        settling: list[int] = []
        decided = self._decide_together(tx, [o for _, o in batch])
        for i, (write_id, o) in enumerate(batch):
            try:
                first = first_reply(tx, o.idem)
                if first is not None:
                    results[i] = (True, first)
                    continue
                audience, key = self._together(o)
                if audience is None:
                    self.audience(o.view.kind).confirm(tx, o.view, o.who)
                elif o.who.user_id not in decided[key]:
                    raise audience.refuse(o.view, o.who)
            except HongbaoError as refusal:
                results[i] = (False, refusal)
                continue
            wanted.append(ShareWanted(o.view.id, o.who.user_id, o.now, write_id))
            settling.append(i)
        opened = []
        for i, got in zip(settling, tx.open_shares(wanted, self.rng), strict=True):
            if isinstance(got, HongbaoError):
                results[i] = (False, got)
            else:
                opened.append((i, got))
        for many in self.d.hooks.opened_many:  # the claim notices first, as they were written before the others
            many(tx, [(got.row, got.claim) for _, got in opened])
        for i, got in opened:
            write_id, o = batch[i]
            tx.write_id = write_id
            for hook in self.d.hooks.opened:
                hook(tx, got.row, got.claim)
            reply: StoredOpen = {"packet_id": o.view.id, "amount_fen": got.claim.amount_fen, "seq": got.claim.seq}
            remember(tx, o.idem, reply, 200, now=o.now)
            results[i] = (True, reply)
        return results

    def _together(self, o: Opening) -> tuple[DecidedTogether | None, Hashable]:
        """The audience that decides this open with others of its batch in one read, and the read's key; else None."""
        kind = o.view.kind
        if kind not in self._together_of:  # the Protocol's isinstance is slow: once per kind, not once per open
            audience = self.audience(kind)
            self._together_of[kind] = audience if isinstance(audience, DecidedTogether) else None
        together = self._together_of[kind]
        key = None if together is None else together.together_key(o.view)
        return (None, None) if key is None else (together, key)

    def _decide_together(self, tx: AudienceReads, openings: list[Opening]) -> dict[Hashable, set[int]]:
        """For audiences decided together (groups, followers): which openers are in, one read per key (not per open)."""
        asked: dict[Hashable, tuple[DecidedTogether, PacketView, set[int]]] = {}
        for o in openings:
            audience, key = self._together(o)
            if audience is not None:
                asked.setdefault(key, (audience, o.view, set()))[2].add(o.who.user_id)
        return {key: audience.among(tx, view, sorted(users)) for key, (audience, view, users) in asked.items()}

    async def _admit(self, packet_id: int, who: Claimant, *, reserve: bool) -> PacketView:
        audience_of = self.audience

        async def in_audience(view: PacketView) -> bool:
            if await audience_of(view.kind).admits(view, who):
                return True
            if not await self.worlds.same(view.sender_id, who.user_id):
                raise errors.packet_not_found()  # another world's packet: there, not even its id is known
            return False

        return await self.d.gate.admit(
            packet_id,
            who.user_id,
            self.d.clock.now(),
            reserve=reserve,
            audience=in_audience,
            secret_ok=lambda view: audience_of(view.kind).secret_ok(view, who),
        )


@dataclass(frozen=True)
class Opening:
    """One 拆 on its way to the writer: the packet as the gate saw it, who opens it, its key, and when."""

    view: PacketView
    who: Claimant
    idem: IdempotencyKey | None
    now: datetime


def _opened(reply: StoredOpen) -> Opened:
    """What 拆 answers, from the stored reply (which also keeps the share's seq)."""
    return {"packet_id": reply["packet_id"], "amount_fen": reply["amount_fen"]}
