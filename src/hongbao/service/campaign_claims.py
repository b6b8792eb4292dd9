"""Claiming a campaign's prize (领奖): who may claim, counted against the caps, and one prize drawn and issued.

Every check runs again inside the write job; a campaign known to have nothing left is answered from a read, so
the single writer is kept for claims that can still win.
"""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import TYPE_CHECKING

from hongbao.domain import campaigns as dc
from hongbao.domain.campaigns import CampaignLimits, CampaignStatus, Channel, Rng
from hongbao.domain.errors import HongbaoError, NotFound
from hongbao.service.cache import Lru
from hongbao.service.deps import Deps
from hongbao.service.idempotency import IdempotencyKey, once, stored_reply
from hongbao.service.ratelimit import Limiter
from hongbao.service.results.campaigns import Award
from hongbao.service.users import token_digest
from hongbao.service.worlds import Worlds

if TYPE_CHECKING:
    from hongbao.service.ports.campaigns import CampaignById, CampaignRow, ClaimRecords

AWARD_ATTEMPTS_MAX = 5


def campaign_row(tx: CampaignById, campaign_id: int) -> CampaignRow:
    """A campaign the job found or made a moment ago: inside one transaction it cannot be gone."""
    row = tx.campaign(campaign_id)
    assert row is not None, f"campaign {campaign_id} vanished inside its own job"
    return row


class CampaignClaims:
    """The claim half of `Campaigns`: `claim`, the caps' day and who may see a campaign."""

    d: Deps
    limits: CampaignLimits
    rng: Rng
    link_failures: Limiter
    link_failures_by_address: Limiter
    _exhausted: Lru[int, int]
    worlds: Worlds

    def day(self, at: datetime) -> str:
        return dc.day_of(at, self.limits.day_utc_offset_h)

    def visible(self, row: CampaignRow | None, viewer_id: int, world: int, token: str | None) -> bool:
        """The owner sees every campaign; followers campaigns are public; a link campaign needs its token; all
        within the campaign's world (`world` is the viewer's: service/worlds.py), as if none existed elsewhere."""
        if row is None or row.world != world:
            return False
        if row.owner_id == viewer_id or row.channel in (Channel.FOLLOWERS.value, Channel.SHAKE.value):
            return True
        return (
            token is not None
            and row.link_token_hash is not None
            and hmac.compare_digest(row.link_token_hash, token_digest(token))
        )

    async def claim(
        self,
        campaign_id: int,
        user_id: int,
        *,
        token: str | None = None,
        idem: IdempotencyKey | None = None,
        channel: str = "app",
        address: str | None = None,
    ) -> Award:
        """Draw a prize: cash paid budget → wallet at once, or a coupon into the user's coupon list.

        Checks in order: campaign_not_found → campaign_not_started / campaign_ended → not_follower →
        cap_reached → campaign_exhausted; every one decided again inside the write job.
        """
        # A retry gets its first answer before the limiter: it is no new guess, and the user may be locked out by
        # wrong tokens since.  A key without a stored reply has not succeeded yet, so it meets the limiter as a guess.
        first = await stored_reply(self.d.store, idem, Award)
        if first is not None:
            return first
        limiter_key = f"campaign-link:{user_id}"
        self.link_failures.check(limiter_key)
        if address is not None:
            self.link_failures_by_address.check(address)
        world = await self.worlds.of(user_id)
        now = self.d.clock.now()
        day = self.day(now)
        gone: list[int] = []  # the budget of a campaign found with nothing left

        def job(tx: ClaimRecords) -> Award:
            def effect() -> Award:
                row = self._admit(tx, campaign_id, user_id, world, token, day, now, count=True)
                award = self.award(tx, row, user_id, day, channel, now)
                if award is None:
                    after = campaign_row(tx, campaign_id)
                    if after.status != CampaignStatus.ACTIVE.value:
                        raise dc.campaign_ended()  # closed by another process between the checks and the award
                    if not tx.prize_candidates(after, now):
                        gone.append(after.budget_fen)
                    raise dc.campaign_exhausted()
                return award

            return once(tx, idem, effect, now=now)

        try:
            spent_budget = self._exhausted.get(campaign_id)
            if spent_budget is not None:
                # Nothing is left, for good unless topped up (prize counts and stock only shrink, and a budget
                # grows only by a top-up): answer from a read, in the same order, and keep the single writer for
                # claims that can still win.
                row = await self.d.store.read(
                    lambda tx: self._admit(tx, campaign_id, user_id, world, token, day, now, count=False)
                )
                if row.budget_fen == spent_budget:
                    raise dc.campaign_exhausted()
                self._exhausted.pop(campaign_id)
            reply = await self.d.store.write(job)
        except HongbaoError as exc:
            if gone:
                self._exhausted.put(campaign_id, gone[0])
            if isinstance(exc, NotFound) and token is not None:
                self.link_failures.failed(limiter_key)
                if address is not None:
                    self.link_failures_by_address.failed(address)
            raise
        self.d.hooks.published("campaign_claimed", {"user_id": user_id, **reply})
        return reply

    def _admit(
        self, tx: ClaimRecords, campaign_id: int, user_id: int, world: int, token: str | None, day: str,
        now: datetime, *, count: bool,
    ) -> CampaignRow:
        """The claim checks in order; with `count` (inside the write job) the user's claim is counted against
        the caps by one conditional UPDATE, without it (a read) the caps are only compared."""
        row = tx.campaign(campaign_id)
        if row is None or row.channel == Channel.SHAKE.value or not self.visible(row, user_id, world, token):
            raise dc.campaign_not_found()
        if row.status != "active" or now >= row.ends_at:
            raise dc.campaign_ended()
        if now < row.starts_at:
            raise dc.campaign_not_started()
        if row.channel == Channel.FOLLOWERS.value and not tx.is_follower(user_id, row.owner_id):
            raise dc.not_follower()
        if count:
            allowed = tx.count_claim(campaign_id, user_id, day, row.per_user_max, row.per_day_max)
        else:
            allowed = tx.claim_allowed(campaign_id, user_id, day, row.per_user_max, row.per_day_max)
        if not allowed:
            raise dc.cap_reached("You have claimed as often as this campaign allows (per user or per day).")
        return row

    def award(
        self, tx: ClaimRecords, row: CampaignRow, user_id: int, day: str, channel: str, now: datetime
    ) -> Award | None:
        """Inside a write job: draw among the prizes left and issue one; None when nothing is left."""
        lost: set[int] = set()
        for _ in range(AWARD_ATTEMPTS_MAX):
            candidates = [c for c in tx.prize_candidates(campaign_row(tx, row.id), now) if c.prize_id not in lost]
            if not candidates:
                return None
            prize = dc.draw(candidates, self.rng)
            got = tx.award_prize(row.id, prize, user_id, day, channel, now)
            if got is not None:
                return {
                    "campaign_id": row.id, "claim_id": got.claim_id, "kind": got.kind,
                    "amount_fen": got.amount_fen, "coupon_id": got.coupon_id, "name": row.name,
                    "cover_text": row.cover_text, "logo_url": row.logo_url,
                }  # fmt: skip
            lost.add(prize.prize_id)
        return None
