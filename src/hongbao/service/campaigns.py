"""Enterprise campaigns (企业红包): create, top up, read, figures, close (at the window's end or early, by the owner).

A cash prize is a direct transfer budget → claimer's wallet (not a packet): one campaign budget
account, one conditional UPDATE on the campaign row per claim; a coupon prize takes one from a
merchant offer's stock and never touches the cash ledger.  Claiming lives in campaign_claims.py, merchants and
their coupons in merchants.py; `Campaigns` is all three.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Literal, cast, overload

from hongbao.domain import campaigns as dc
from hongbao.domain.campaigns import CampaignLimits, CampaignStatus, Channel, PrizeKind, Rng
from hongbao.domain.errors import NotFound, Rejected
from hongbao.domain.money import check_amount_fen, format_fen
from hongbao.domain.open_kinds import seal, secret_unreadable, unseal_with
from hongbao.domain.paging import check_limit
from hongbao.service.cache import Lru
from hongbao.service.campaign_claims import CampaignClaims, campaign_row
from hongbao.service.deps import Deps
from hongbao.service.idempotency import IdempotencyKey, once, stored_reply
from hongbao.service.install_key import InstallKey
from hongbao.service.merchants import MerchantCoupons
from hongbao.service.results.campaigns import (
    Campaign,
    CampaignFigures,
    CampaignList,
    FollowedCampaignList,
    OwnedCampaign,
    StoredCampaign,
)
from hongbao.service.rng import BufferedSystemRandom
from hongbao.service.sweep import sweep
from hongbao.service.users import token_digest
from hongbao.service.worlds import Worlds

if TYPE_CHECKING:
    from hongbao.service.ports.campaigns import CampaignRecords, CampaignRow, Offers

CLOSE_BATCH_MAX = 200
FOLLOWING_DEFAULT = 20
FOLLOWING_MAX = 50
log = logging.getLogger(__name__)


class Campaigns(CampaignClaims, MerchantCoupons):
    def __init__(
        self, deps: Deps, key: InstallKey, limits: CampaignLimits | None = None, rng: Rng | None = None,
        worlds: Worlds | None = None,
    ) -> None:
        self.d = deps
        # Users' worlds, cached (bootstrap shares the open path's): a campaign or offer is seen in its owner's only.
        self.worlds = worlds or Worlds(deps.store)
        self.key = key  # seals a link campaign's token for a keyed retry; derives coupons' redeem codes
        self.limits = limits or CampaignLimits()
        self.rng: Rng = rng or BufferedSystemRandom()  # SystemRandom, 4 KiB per system call (service/rng.py)
        # Wrong claim-link tokens, per user and per client address (tokens are 128-bit: this stops scanning).
        self.link_failures = deps.limiters("link:user", 10, 900.0)
        self.link_failures_by_address = deps.limiters("link:address", 50, 900.0)
        # Wrong coupon redeem codes, per merchant owner (codes are 8 digits: this stops a shop walking 10^8 of them).
        self.redeem_failures = deps.limiters("redeem", 10, 900.0)
        # Campaigns with nothing left, with the budget they had then: permanent until the owner tops the budget up
        # (a read compares the budget, so a top-up through another process is seen too).
        self._exhausted: Lru[int, int] = Lru(100_000)
        # Called with a campaign's id once its budget grew (shake: a round known empty may have prizes again).
        self.on_budget_changed: list[Callable[[int], None]] = []

    # ------------------------------------------------------------------ create

    def check_budget(self, budget_fen: object, prizes: list[dc.Prize]) -> int:
        if isinstance(budget_fen, bool) or not isinstance(budget_fen, int) or budget_fen < 0:
            raise Rejected("budget_fen must be a whole number of fen, 0 or more.", code="invalid_amount")
        if budget_fen > self.limits.budget_fen_max:
            raise Rejected(f"A budget is at most {format_fen(self.limits.budget_fen_max)}.", code="amount_too_large",
                           max_fen=self.limits.budget_fen_max, subject="budget")
        cash = [p.amount_fen for p in prizes if p.kind is PrizeKind.CASH]
        if cash and budget_fen < min(cash):
            raise Rejected("The budget does not cover the smallest cash prize.", code="invalid_amount")
        if not cash and budget_fen:
            raise Rejected("A budget without cash prizes would never be paid out.", code="invalid_amount")
        return budget_fen

    def check_offers(self, tx: Offers, owner_id: int, prizes: list[dc.Prize]) -> None:
        """Coupon prizes must name offers of the owner's own merchants (nobody gives away another's stock)."""
        wanted = {p.offer_id for p in prizes if p.offer_id is not None}
        if not wanted:
            return
        found = tx.offers(list(wanted))
        for oid in wanted:
            if oid not in found or found[oid].merchant_owner_id != owner_id:
                raise NotFound(f"No offer {oid} of your merchants.", code="offer_not_found")

    async def create(
        self,
        owner_id: int,
        *,
        channel: object,
        name: object,
        logo_url: object = None,
        cover_text: object = None,
        starts_at: datetime,
        ends_at: datetime,
        budget_fen: object,
        prizes: object,
        per_user_max: object = None,
        per_day_max: object = None,
        idem: IdempotencyKey | None = None,
    ) -> OwnedCampaign:
        """An enterprise account creates a campaign and funds its budget from its wallet at once."""
        # A retry gets the first answer before the checks: check_window reads the clock, and a retry that comes
        # after the window's end must not be told its window is invalid.
        first = await stored_reply(self.d.store, idem, StoredCampaign)
        if first is not None:
            return await self._with_link_token(first)
        if channel not in (Channel.LINK.value, Channel.FOLLOWERS.value):
            raise Rejected("channel is link or followers (shake pools are added to an event).", code="invalid_channel")
        branding = dc.check_branding(name, logo_url, cover_text)
        table = dc.check_prizes(prizes, cash_fen_max=self.limits.cash_prize_fen_max)
        budget = self.check_budget(budget_fen, table)
        user_cap = dc.check_cap(per_user_max, "per_user_max")
        day_cap = dc.check_cap(per_day_max, "per_day_max")
        now = self.d.clock.now()
        dc.check_window(starts_at, ends_at, now, days_max=self.limits.days_max)
        token = secrets.token_urlsafe(16) if channel == Channel.LINK.value else None
        key = await self.key.ensure()

        def job(tx: CampaignRecords) -> StoredCampaign:
            def effect() -> StoredCampaign:
                if tx.verified_as(owner_id) != "enterprise":
                    raise dc.not_verified()
                self.check_offers(tx, owner_id, table)
                cid = tx.create_campaign(
                    owner_id=owner_id, channel=str(channel), event_id=None, branding=branding,
                    starts_at=starts_at, ends_at=ends_at, budget_fen=budget, per_user_max=user_cap,
                    per_day_max=day_cap, link_token_hash=token_digest(token) if token else None,
                    prizes=table, now=now,
                )  # fmt: skip
                out = cast(StoredCampaign, self.public(tx, campaign_row(tx, cid), owner_view=True))
                if token is not None:
                    # Shown to the owner once; only its digest is stored, and the reply stored for a keyed retry
                    # holds it sealed (opened by `_with_link_token` after the commit).
                    out["sealed_link_token"] = seal(key, token)
                return out

            return once(tx, idem, effect, now=now)

        return await self._with_link_token(await self.d.store.write(job))

    async def _with_link_token(self, reply: StoredCampaign) -> OwnedCampaign:
        """A creation's reply with its link token opened for the owner (a stored reply may predate a pepper
        rotation; one stored before tokens were sealed holds it in clear and is given as it is)."""
        if "sealed_link_token" not in reply:
            return reply
        out = cast(OwnedCampaign, {k: v for k, v in reply.items() if k != "sealed_link_token"})
        token = unseal_with(await self.key.ensure_all(), str(reply["sealed_link_token"]))
        if token is None:
            raise secret_unreadable("link token")
        out["link_token"] = token
        return out

    async def top_up(
        self, campaign_id: int, owner_id: int, amount_fen: object, idem: IdempotencyKey | None = None
    ) -> OwnedCampaign:
        """The owner moves more money from its wallet into an active campaign's (or pool's) budget.

        Checks in order: invalid_amount (not a positive whole number of fen, before any read) →
        campaign_not_found → not_campaign_owner → campaign_ended → invalid_amount (a budget without cash prizes)
        → amount_too_large → insufficient_funds.
        """
        amount = check_amount_fen(amount_fen)
        world = await self.worlds.of(owner_id)
        now = self.d.clock.now()

        def job(tx: CampaignRecords) -> OwnedCampaign:
            def effect() -> OwnedCampaign:
                row = self._owned(tx, campaign_id, owner_id, world, "Only the campaign's owner adds to its budget.")
                if row.status != CampaignStatus.ACTIVE.value or now >= row.ends_at:
                    raise dc.campaign_ended("This campaign has ended: its budget can no longer grow.")
                if not any(p["kind"] == PrizeKind.CASH.value for p in tx.prizes_of(campaign_id)):
                    raise Rejected("A campaign without cash prizes never pays out a budget.", code="invalid_amount")
                dc.check_top_up(amount, row.budget_fen, budget_fen_max=self.limits.budget_fen_max)
                if tx.top_up_campaign(campaign_id, amount, self.limits.budget_fen_max, now) is None:
                    # Refused by the conditional update: another process closed it, or its top-up took the room.
                    fresh = campaign_row(tx, campaign_id)
                    if fresh.status != CampaignStatus.ACTIVE.value or now >= fresh.ends_at:
                        raise dc.campaign_ended("This campaign has ended: its budget can no longer grow.")
                    dc.check_top_up(amount, fresh.budget_fen, budget_fen_max=self.limits.budget_fen_max)
                    raise AssertionError("top_up_campaign refused an active campaign with room in its budget")
                return {**self.public(tx, campaign_row(tx, campaign_id), owner_view=True), "added_fen": amount}

            return once(tx, idem, effect, now=now)

        reply = await self.d.store.write(job)
        self._exhausted.pop(campaign_id)
        for hook in self.on_budget_changed:
            hook(campaign_id)
        return reply

    def _owned(self, tx: CampaignRecords, campaign_id: int, user_id: int, world: int, refusal: str) -> CampaignRow:
        """The campaign, if `user_id` (of `world`) owns it: 404 for a campaign the user may not know of (another
        world's among them), 403 for another's."""
        row = tx.campaign(campaign_id)
        if row is None or not self.visible(row, user_id, world, None):
            raise dc.campaign_not_found()
        if row.owner_id != user_id:
            raise dc.not_campaign_owner(refusal)
        return row

    # ------------------------------------------------------------------ read

    @overload
    def public(self, tx: CampaignRecords, row: CampaignRow, *, owner_view: Literal[True]) -> OwnedCampaign: ...

    @overload
    def public(self, tx: CampaignRecords, row: CampaignRow, *, owner_view: Literal[False]) -> Campaign: ...

    @overload
    def public(self, tx: CampaignRecords, row: CampaignRow, *, owner_view: bool) -> Campaign | OwnedCampaign: ...

    def public(self, tx: CampaignRecords, row: CampaignRow, *, owner_view: bool) -> Campaign | OwnedCampaign:
        out: Campaign = {
            "id": row.id,
            "owner_id": row.owner_id,
            "channel": row.channel,
            "event_id": row.event_id,
            "name": row.name,
            "logo_url": row.logo_url,
            "cover_text": row.cover_text,
            "starts_at": row.starts_at.isoformat(),
            "ends_at": row.ends_at.isoformat(),
            "status": row.status,
            "closed_at": row.closed_at.isoformat() if row.closed_at else None,
            "per_user_max": row.per_user_max,
            "per_day_max": row.per_day_max,
        }
        if not owner_view:
            return out
        owned = cast(OwnedCampaign, out)  # the same dict, given the owner's keys here
        owned["budget_fen"] = row.budget_fen
        owned["paid_fen"] = row.paid_fen
        owned["returned_fen"] = row.returned_fen
        owned["remaining_fen"] = row.left_fen
        owned["prizes"] = tx.prizes_of(row.id)
        return owned

    async def detail(
        self, campaign_id: int, viewer_id: int, token: str | None = None
    ) -> Campaign | OwnedCampaign:
        world = await self.worlds.of(viewer_id)

        def job(tx: CampaignRecords) -> Campaign | OwnedCampaign:
            row = tx.campaign(campaign_id)
            if row is None or not self.visible(row, viewer_id, world, token):
                raise dc.campaign_not_found()
            return self.public(tx, row, owner_view=row.owner_id == viewer_id)

        return await self.d.store.read(job)

    async def mine(self, owner_id: int, limit: int = 100) -> CampaignList:
        """The owner's campaigns and shake pools, newest first, with their budget figures."""

        def job(tx: CampaignRecords) -> CampaignList:
            rows = tx.campaigns_of_owner(owner_id, limit)
            return {"campaigns": [self.public(tx, r, owner_view=True) for r in rows]}

        return await self.d.store.read(job)

    async def following(self, viewer_id: int, limit: int = FOLLOWING_DEFAULT) -> FollowedCampaignList:
        """Followers campaigns open now with a prize left, of accounts the viewer follows, newest first.

        Branding and window only, as `detail` shows a non-owner; link campaigns never appear (they need a token).
        """
        check_limit(limit, FOLLOWING_MAX)
        world = await self.worlds.of(viewer_id)
        now = self.d.clock.now()

        def job(tx: CampaignRecords) -> FollowedCampaignList:
            rows = tx.followed_campaigns(viewer_id, world, now, limit)
            return {"campaigns": [{**self.public(tx, r, owner_view=False), "owner_name": name} for r, name in rows]}

        return await self.d.store.read(job)

    async def figures(self, campaign_id: int, viewer_id: int) -> CampaignFigures:
        """Owner only: issued, claimed, remaining budget, unique claimers, by day."""
        world = await self.worlds.of(viewer_id)

        def job(tx: CampaignRecords) -> CampaignFigures:
            row = self._owned(tx, campaign_id, viewer_id, world, "Only the campaign's owner sees its figures.")
            figures = tx.campaign_figures(campaign_id)
            return {
                "campaign_id": campaign_id, "status": row.status, "budget_fen": row.budget_fen,
                "paid_fen": row.paid_fen, "returned_fen": row.returned_fen, "remaining_fen": row.left_fen,
                **figures,
            }  # fmt: skip

        return await self.d.store.read(job)

    # ------------------------------------------------------------------ close

    async def close_ended_campaigns(self, now: datetime | None = None) -> int:
        """Close every campaign (and shake pool) past its end and return the unspent budget, exactly once."""
        at = now or self.d.clock.now()

        def closed(cid: int, returned: int | None) -> bool:
            if returned is None:
                return False
            self.d.hooks.published("campaign_closed", {"campaign_id": cid, "returned_fen": returned})
            return True

        return await sweep(self.d.store, lambda tx: tx.due_campaign_ids(at, CLOSE_BATCH_MAX),
                           lambda cid: self._close_job(cid, at), batch_max=CLOSE_BATCH_MAX, done=closed,
                           log=log, failed="closing campaign %s failed: %r")

    async def cancel(self, campaign_id: int, owner_id: int, idem: IdempotencyKey | None = None) -> OwnedCampaign:
        """The owner ends a campaign (or a shake pool) now: it closes and the unspent budget goes back to the
        owner's wallet by the scheduler's own close, exactly once.

        Claims are serialised with the close on the campaign row: one before it was paid from the budget, one
        after it hears campaign_ended; the return is what was not paid. Checks in order: campaign_not_found →
        not_campaign_owner → campaign_ended (already closed: nothing is returned twice).
        """
        world = await self.worlds.of(owner_id)
        now = self.d.clock.now()
        closed_now: list[bool] = []  # set by the attempt that closed it (a replay answers the stored reply)

        def job(tx: CampaignRecords) -> OwnedCampaign:
            closed_now.clear()  # the store may run this job again after a rolled-back batch

            def effect() -> OwnedCampaign:
                row = self._owned(tx, campaign_id, owner_id, world, "Only the campaign's owner ends it.")
                closed = "This campaign is already closed: its unspent budget went back to its owner."
                if row.status != CampaignStatus.ACTIVE.value:
                    raise dc.campaign_ended(closed)
                back = tx.close_campaign(campaign_id, now, early=True)
                if back is None:
                    raise dc.campaign_ended(closed)
                closed_now.append(True)
                return self.public(tx, campaign_row(tx, campaign_id), owner_view=True)

            return once(tx, idem, effect, 200, now=now)

        reply = await self.d.store.write(job)
        if closed_now:  # announced once, by the attempt that closed it
            closed = {"campaign_id": campaign_id, "returned_fen": reply["returned_fen"]}
            self.d.hooks.published("campaign_closed", closed)
        return reply

    def _close_job(self, campaign_id: int, at: datetime) -> Callable[[CampaignRecords], int | None]:
        def job(tx: CampaignRecords) -> int | None:
            back: int | None = tx.close_campaign(campaign_id, at)
            return back

        return job
