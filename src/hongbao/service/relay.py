"""Relay chains (接龙红包): each round is a lucky group packet whose best-luck claimer owes the next round."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from hongbao.domain import relay as rules
from hongbao.domain.errors import NotFound
from hongbao.domain.money import format_fen
from hongbao.domain.packets import PacketKind, PacketStatus
from hongbao.domain.relay import ChainEnd, ChainStatus, RelayRules
from hongbao.domain.split import Split
from hongbao.service.conversations import conversation_for_group, post_system_notice
from hongbao.service.deps import Deps
from hongbao.service.idempotency import IdempotencyKey, once
from hongbao.service.packets import Packets, public
from hongbao.service.results.relay import Chain, ChainList, Round
from hongbao.service.sweep import sweep

if TYPE_CHECKING:
    from hongbao.adapters.sql.tx import ClaimRow, PacketRow
    from hongbao.service.ports.relay import ChainReads, ChainRow, ChainSteps, RelayPort, RoundSending

DUE_BATCH_MAX = 500
CHAINS_PAGE_MAX = 100
log = logging.getLogger(__name__)


class Relay:
    def __init__(self, deps: Deps, packets: Packets, limits: RelayRules) -> None:
        self.d = deps
        self.packets = packets
        self.limits = limits

    # ------------------------------------------------------------------ start and next round

    async def start(
        self,
        starter_id: int,
        group_id: int,
        *,
        total_fen: object,
        shares_count: object,
        greeting: object = None,
        min_fen: object = None,
        deadline_s: object = None,
        idem: IdempotencyKey | None = None,
    ) -> Chain:
        """Start a chain in a group with round 1, a lucky packet from the starter."""
        floor, deadline = self.limits.check_chain(min_fen, deadline_s)
        total, count = self.d.rules.check_new(total_fen=total_fen, shares_count=shares_count)
        rules.check_round_amount(total, floor)
        text = self.d.rules.clean_greeting(greeting)
        now = self.d.clock.now()

        def job(tx: RelayPort) -> Chain:
            def effect() -> Chain:
                if tx.group(group_id) is None or not tx.is_member(group_id, starter_id):
                    raise NotFound("No such group.", code="group_not_found")
                chain_id = tx.create_chain(group_id, starter_id, floor, deadline, now)
                self._send_round(tx, chain_id, 1, starter_id, group_id, total, count, text, now, owed_by=None)
                return self._view(tx, chain_id, starter_id)

            return once(tx, idem, effect, now=now)

        return await self.d.store.write(job)

    async def next_round(
        self,
        chain_id: int,
        user_id: int,
        *,
        total_fen: object,
        shares_count: object,
        greeting: object = None,
        idem: IdempotencyKey | None = None,
    ) -> Chain:
        """The owing user sends the next round, before the deadline and at least the chain's minimum."""
        total, count = self.d.rules.check_new(total_fen=total_fen, shares_count=shares_count)
        text = self.d.rules.clean_greeting(greeting)
        now = self.d.clock.now()

        def job(tx: RelayPort) -> Chain:
            def effect() -> Chain:
                chain = self._visible_chain(tx, chain_id, user_id)
                if chain.status is ChainStatus.ENDED:
                    if chain.ended_reason == ChainEnd.DEADLINE_MISSED.value and chain.owed_by == user_id:
                        raise rules.relay_deadline_passed()
                    raise rules.relay_ended()
                if chain.owed_by != user_id:
                    raise rules.not_your_turn()
                if chain.due_at is not None and now >= chain.due_at:
                    raise rules.relay_deadline_passed()
                rules.check_round_amount(total, chain.min_fen)
                self._send_round(
                    tx, chain_id, chain.rounds_count + 1, user_id, chain.group_id, total, count, text, now,
                    owed_by=user_id,
                )
                return self._view(tx, chain_id, user_id)

            return once(tx, idem, effect, now=now)

        return await self.d.store.write(job)

    def _send_round(
        self, tx: RoundSending, chain_id: int, round_no: int, sender_id: int, group_id: int, total: int, count: int,
        greeting: str, now: datetime, *, owed_by: int | None,
    ) -> None:
        row = self.packets.create(
            tx, kind=PacketKind.RELAY, how=Split.DOUBLE_MEAN, sender_id=sender_id, total_fen=total,
            shares_count=count, greeting=greeting, now=now, group_id=group_id, link_id=chain_id,
        )
        if not tx.start_round(chain_id, round_no, row.view.id, sender_id, total, count, now, owed_by=owed_by):
            # The chain moved on or ended between our read and this write (another process): refuse.
            raise rules.relay_ended()
        tx.add_relay_event(chain_id, "round_started", now, round_no=round_no, user_id=sender_id,
                           detail=f"packet {row.view.id}")
        self._notify(tx, chain_id, "round_started", {"round": round_no, "packet_id": row.view.id,
                                                      "sender_id": sender_id, "total_fen": total})

    # ------------------------------------------------------------------ hooks (inside the money's transaction)

    def on_opened(self, tx: ChainSteps, row: PacketRow, claim: ClaimRow) -> None:
        view = row.view
        if view.kind is not PacketKind.RELAY or view.link_id is None or view.status is not PacketStatus.FINISHED:
            return
        chain = tx.relay_chain(view.link_id)
        if chain is None:
            return
        claims = tx.claims_of(view.id)
        owing = rules.owed_by([(c.user_id, c.amount_fen) for c in claims])
        if owing is None:
            return
        due_at = claim.created_at + timedelta(seconds=chain.deadline_s)
        if tx.set_owed(chain.id, view.id, owing, due_at):
            tx.add_relay_event(chain.id, "owed", claim.created_at, round_no=chain.rounds_count, user_id=owing,
                               detail=f"due {due_at.isoformat(timespec='seconds')}")
            self._notify(tx, chain.id, "owed", {"round": chain.rounds_count + 1, "user_id": owing,
                                                "due_at": due_at.isoformat()})

    def on_expired(self, tx: ChainSteps, row: PacketRow, refund: int) -> None:
        view = row.view
        if view.kind is not PacketKind.RELAY or view.link_id is None:
            return
        now = max(self.d.clock.now(), view.expires_at)
        if tx.end_chain(view.link_id, ChainEnd.ROUND_EXPIRED, now, packet_id=view.id):
            tx.add_relay_event(view.link_id, "ended", now, detail=ChainEnd.ROUND_EXPIRED.value)
            self._notify(tx, view.link_id, "ended", {"reason": ChainEnd.ROUND_EXPIRED.value})

    # ------------------------------------------------------------------ deadlines (scheduler / worker)

    async def end_overdue_chains(self, now: datetime | None = None) -> int:
        """End every chain whose owing user missed the deadline, exactly once; return how many ended."""
        at = now or self.d.clock.now()
        return await sweep(self.d.store, lambda tx: tx.due_chain_ids(at, DUE_BATCH_MAX),
                           lambda cid: self._end_job(cid, at), batch_max=DUE_BATCH_MAX,
                           done=lambda _, ended: bool(ended), log=log, failed="ending relay chain %s failed: %r")

    def _end_job(self, chain_id: int, at: datetime) -> Callable[[ChainSteps], bool]:
        def job(tx: ChainSteps) -> bool:
            chain = tx.relay_chain(chain_id)
            if chain is None or not tx.end_chain(chain_id, ChainEnd.DEADLINE_MISSED, at):
                return False
            tx.add_relay_event(chain_id, "ended", at, user_id=chain.owed_by, detail=ChainEnd.DEADLINE_MISSED.value)
            self._notify(tx, chain_id, "ended", {"reason": ChainEnd.DEADLINE_MISSED.value, "user_id": chain.owed_by})
            return True

        return job

    # ------------------------------------------------------------------ read

    async def detail(self, chain_id: int, viewer_id: int) -> Chain:
        """The chain with its rounds (sender, amount, best luck) and events; members of its group only."""

        def job(tx: ChainReads) -> Chain:
            self._visible_chain(tx, chain_id, viewer_id)
            return self._view(tx, chain_id, viewer_id)

        return await self.d.store.read(job)

    async def of_group(self, group_id: int, viewer_id: int, limit: int = CHAINS_PAGE_MAX) -> ChainList:
        """The group's chains, newest first, without their history (members only)."""

        def job(tx: ChainReads) -> ChainList:
            if tx.group(group_id) is None or not tx.is_member(group_id, viewer_id):
                raise NotFound("No such group.", code="group_not_found")
            chains = tx.chains_of_group(group_id, min(limit, CHAINS_PAGE_MAX))
            return {"relays": [
                {"id": c.id, "status": c.status.value, "rounds_count": c.rounds_count,
                 "owed_by": c.owed_by if c.status is ChainStatus.ACTIVE else None,
                 "due_at": c.due_at.isoformat() if c.due_at and c.status is ChainStatus.ACTIVE else None,
                 "current_packet_id": c.current_packet_id, "ended_reason": c.ended_reason,
                 "created_at": c.created_at.isoformat()}
                for c in chains
            ]}

        return await self.d.store.read(job)

    @staticmethod
    def _visible_chain(tx: ChainReads, chain_id: int, viewer_id: int) -> ChainRow:
        chain = tx.relay_chain(chain_id)
        if chain is None or not tx.is_member(chain.group_id, viewer_id):
            raise rules.relay_not_found()
        return chain

    @staticmethod
    def _view(tx: ChainReads, chain_id: int, viewer_id: int) -> Chain:
        chain = tx.relay_chain(chain_id)
        assert chain is not None
        rounds = tx.relay_rounds(chain_id)
        events = tx.relay_events(chain_id)
        users = tx.users_by_ids([r.sender_id for r in rounds] + [chain.starter_id]
                                + ([chain.owed_by] if chain.owed_by else []))
        out_rounds: list[Round] = []
        for r in rounds:
            packet = tx.packet(r.packet_id)
            assert packet is not None
            claims = tx.claims_of(r.packet_id)
            finished = packet.view.status is PacketStatus.FINISHED
            out_rounds.append({
                "round": r.round,
                "packet_id": r.packet_id,
                "sender_id": r.sender_id,
                "sender_name": users[r.sender_id].display_name if r.sender_id in users else None,
                "total_fen": r.total_fen,
                "shares_count": r.shares_count,
                "status": packet.view.status.value,
                "claimed_count": packet.claimed_count,
                "best_luck_user_id": rules.owed_by([(c.user_id, c.amount_fen) for c in claims]) if finished else None,
                "created_at": r.created_at.isoformat(),
            })
        current = tx.packet(chain.current_packet_id) if chain.current_packet_id else None
        return {
            "id": chain.id,
            "group_id": chain.group_id,
            "starter_id": chain.starter_id,
            "status": chain.status.value,
            "ended_reason": chain.ended_reason,
            "min_fen": chain.min_fen,
            "deadline_s": chain.deadline_s,
            "rounds_count": chain.rounds_count,
            "owed_by": chain.owed_by if chain.status is ChainStatus.ACTIVE else None,
            "missed_by": chain.owed_by if chain.ended_reason == ChainEnd.DEADLINE_MISSED.value else None,
            "due_at": chain.due_at.isoformat() if chain.due_at and chain.status is ChainStatus.ACTIVE else None,
            "your_turn": chain.status is ChainStatus.ACTIVE and chain.owed_by == viewer_id,
            "current_packet": None if current is None else public(current, claims=None, users={}, viewer_id=viewer_id),
            "rounds": out_rounds,
            "events": [
                {"kind": e.kind, "round": e.round, "user_id": e.user_id, "detail": e.detail,
                 "at": e.created_at.isoformat()}
                for e in events
            ],
            "created_at": chain.created_at.isoformat(),
            "ended_at": chain.ended_at.isoformat() if chain.ended_at else None,
        }

    # ------------------------------------------------------------------ notices

    def _notify(self, tx: ChainSteps, chain_id: int, event: str, data: dict[str, Any]) -> None:
        """Tell the group, in its conversation and in the same transaction as the chain step."""
        chain = tx.relay_chain(chain_id)
        assert chain is not None
        who = data.get("sender_id") or data.get("user_id")
        users = tx.users_by_ids([who]) if isinstance(who, int) else {}
        name = users[who].display_name if isinstance(who, int) and who in users else "?"
        if event == "round_started":
            text = f"接龙 round {data['round']}: {name} sent {format_fen(data['total_fen'])}"
        elif event == "owed":
            text = f"接龙: {name} has best luck and owes round {data['round']}"
        elif data.get("reason") == ChainEnd.DEADLINE_MISSED.value:
            text = f"接龙 ended: {name} missed the deadline"
        else:
            text = "接龙 ended: the last round expired before every share was taken"
        now = self.d.clock.now()
        conv = conversation_for_group(tx, chain.group_id, now=now)
        post_system_notice(tx, conv, text, {"event": "relay", "relay_id": chain_id, "step": event, **data}, now=now)
