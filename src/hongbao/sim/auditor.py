"""The auditor: reads one snapshot of the store and compares it, and the ledger's own reconcile, with the model.

Two depths.  `audit_step`, after every operation, reads only what the operation touched (the wallets, packets,
campaigns, offers and shake players the model changed or the operation named) and the total of every wallet,
so its cost does not grow with the run.  `audit`, the full one, runs the ledger's `reconcile` (every transfer,
every account) and compares every wallet, packet, campaign, offer, coupon and player: the runner calls it on a
schedule that keeps its share of the run's time bounded, after an injected fault, and at the end."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import func, select, text

from hongbao.adapters.channel import SandboxChannel
from hongbao.adapters.sql import schema as s
from hongbao.adapters.sql import schema_campaign as sc
from hongbao.adapters.sql.tx import SqlTx
from hongbao.service.reconcile import reconcile
from hongbao.sim.base import Mismatch, SimBase
from hongbao.sim.model import Packet


def audit_step(sim: SimBase) -> None:
    """Raise `Mismatch` if what the last operations touched, or the total of the wallets, differs from the model."""
    m = sim.m
    users, packets = sorted(m.balance.touched), sorted(sim.touched_packets)
    campaigns, players = sorted(sim.touched_campaigns), sorted(sim.touched_players)
    offers = sorted({p.offer_id for c in campaigns for p in m.campaigns[c].prizes if p.offer_id is not None})
    sim.clear_touched()
    sim.counts["step_audits"] += 1
    total, wallets, stored = sim.app.store.read_sync(lambda tx: _touched(tx, users, packets), snapshot=True)
    sim.same(total, m.balance.total, "the total of every wallet")
    want_w = {u: m.balance[u] for u in users}
    if wallets != want_w:
        wrong = {u: (wallets.get(u), b) for u, b in want_w.items() if wallets.get(u) != b}
        raise Mismatch(f"wallet balances (stored, expected) differ: {dict(list(wrong.items())[:5])}")
    want_p = {i: _packet_row(m.packets[i]) for i in packets if i in m.packets}
    if stored != want_p:
        wrong_p = {i: (stored.get(i), e) for i, e in want_p.items() if stored.get(i) != e}
        raise Mismatch(f"packets (stored, expected) differ: {dict(list(wrong_p.items())[:5])}")
    if campaigns or players or offers:
        events = sorted({e for e, _ in players})
        snap = sim.app.store.read_sync(lambda tx: _campaign_snapshot(tx, campaigns, offers, events), snapshot=True)
        audit_campaigns(sim, snap, only=(campaigns, offers, set(players)))


def _packet_row(p: Packet) -> tuple[str, int, int, int]:
    return p.status(), len(p.claims), p.claimed_fen, p.refunded_fen or 0


def audit(sim: SimBase) -> None:
    """Raise `Mismatch` at the first difference between the store and the model."""
    sim.counts["audits"] += 1
    sim.clear_touched()
    report = reconcile(sim.app.store)
    if report.violations:
        shown = "; ".join(map(str, report.violations[:5]))
        raise Mismatch(f"reconcile found {len(report.violations)} violation(s): {shown}")
    sim.same(report.inside_fen, sim.m.inside_fen, "money inside the platform")
    wallets, packets = sim.app.store.read_sync(_snapshot, snapshot=True)
    if wallets != sim.m.balance:
        wrong = {u: (wallets.get(u), b) for u, b in sim.m.balance.items() if wallets.get(u) != b}
        raise Mismatch(f"wallet balances (stored, expected) differ: {dict(list(wrong.items())[:5])}")
    expected = {p.id: _packet_row(p) for p in sim.m.packets.values()}
    if packets != expected:
        wrong_p = {i: (packets.get(i), e) for i, e in expected.items() if packets.get(i) != e}
        raise Mismatch(f"packets (stored, expected) differ: {dict(list(wrong_p.items())[:5])}")
    channel = sim.app.deps.channel
    if isinstance(channel, SandboxChannel) and sim.channel_exact:
        sim.same((channel.charged_fen, channel.paid_out_fen), (sim.charged_fen, sim.paid_out_fen),
                 "money moved through the payment channel (charged, paid out)")
    audit_campaigns(sim, sim.app.store.read_sync(_campaign_snapshot, snapshot=True))


@dataclass(frozen=True)
class CampaignSnapshot:
    campaigns: dict[int, tuple[str, int, int, int, int]]  # id → (status, budget, paid, returned, claims)
    budgets: dict[int, int]  # campaign → its budget account's balance
    returns: dict[int, list[int]]  # campaign → its return transfers' amounts
    prizes: dict[int, list[int]]  # campaign → issued count of each prize line, in order
    claims: Counter[tuple[int, int]]  # (campaign, user) → claims
    day_claims: Counter[tuple[int, int, str]]  # (campaign, user, day) → claims
    claimed_fen: Counter[int]  # campaign → cash claimed
    offers: dict[int, tuple[int, int]]  # offer → (stock, issued)
    coupons: dict[int, tuple[int, int]]  # coupon → (offer, holder)
    players: dict[tuple[int, int], int]  # (event, user) → wins (losing shakes are answered from memory)


def audit_campaigns(
    sim: SimBase, snap: CampaignSnapshot, only: tuple[list[int], list[int], set[tuple[int, int]]] | None = None
) -> None:
    """Budgets, caps, returns, prize counts, coupons and shake wins against the model and their own limits;
    `only`: the snapshot holds just these campaigns, offers and (event, user) players."""
    m = sim.m
    for c in (m.campaigns.values() if only is None else [m.campaigns[i] for i in only[0]]):
        stored = snap.campaigns.get(c.id)
        if stored is not None and stored[2] > stored[1]:
            raise Mismatch(f"campaign {c.id} paid {stored[2]} fen of a budget of {stored[1]} fen")
        want = (c.status(), c.budget_fen, c.paid_fen, c.returned_fen or 0, sum(c.claims.values()))
        sim.same(stored, want, f"campaign {c.id} (status, budget, paid, returned, claims)")
        sim.same(snap.budgets.get(c.id), c.left_fen, f"campaign {c.id}'s budget account")
        back = [c.returned_fen] if c.returned_fen else []
        sim.same(snap.returns.get(c.id, []), back, f"campaign {c.id}'s rest returned to its owner (exactly once)")
        sim.same(snap.prizes.get(c.id), [p.issued for p in c.prizes], f"campaign {c.id}'s prizes issued")
        sim.same(snap.claimed_fen[c.id], c.paid_fen, f"campaign {c.id}'s cash claims")
        for user, n in c.claims.items():
            sim.same(snap.claims[(c.id, user)], n, f"claims of user {user} on campaign {c.id}")
            if c.per_user_max is not None and n > c.per_user_max:
                raise Mismatch(f"user {user} won {n} prizes of campaign {c.id}, capped at {c.per_user_max}")
        for (user, day), n in c.day_claims.items():
            sim.same(snap.day_claims[(c.id, user, day)], n, f"claims of user {user} on campaign {c.id} on {day}")
            if c.per_day_max is not None and n > c.per_day_max:
                raise Mismatch(f"user {user} won {n} prizes of campaign {c.id} on {day}, capped at {c.per_day_max}")
    if only is not None:
        ids, offers, touched = only
        sim.same(sorted(snap.campaigns), ids, "the campaigns stored")
        sim.same(snap.offers, {i: (m.offers[i].stock, m.offers[i].issued) for i in offers}, "offers (stock, issued)")
        sim.same(snap.coupons, {c: v for o in offers for c, v in m.coupons_of.get(o, {}).items()},
                 "coupons (offer, holder)")
        players = {(e, u): m.events[e].wins[u] for e, u in touched if m.events[e].wins[u]}
        sim.same({k: v for k, v in snap.players.items() if k in touched}, players, "shake players' wins")
        return
    sim.same(sorted(snap.campaigns), sorted(m.campaigns), "the campaigns stored")
    sim.same(sum(snap.claims.values()), sum(sum(c.claims.values()) for c in m.campaigns.values()), "claims stored")
    sim.same(snap.offers, {o.id: (o.stock, o.issued) for o in m.offers.values()}, "offers (stock, issued)")
    sim.same(snap.coupons, m.coupons, "coupons (offer, holder)")
    players = {(e.id, u): n for e in m.events.values() for u, n in e.wins.items() if n}
    sim.same(snap.players, players, "shake players' wins")
    for (eid, user), wins in snap.players.items():
        if wins > m.events[eid].wins_max:
            raise Mismatch(f"user {user} won {wins} times in event {eid}, capped at {m.events[eid].wins_max}")


def inject_fault(sim: SimBase) -> None:
    """Test hook: move a cached balance without a transfer, as a buggy statement would."""
    sim.log.append(f"{sim.step_no:05d} fault: unbalanced cached-balance update")
    where, params = "id = 1", {}  # the world account, if nobody has registered yet
    if sim.m.users:
        where, params = "kind = 'wallet' AND owner_id = :uid", {"uid": sim.m.users[0]}

    def corrupt(tx: SqlTx) -> None:
        tx.conn.execute(text(f"UPDATE accounts SET balance_fen = balance_fen + 1 WHERE {where}"), params)

    sim.app.store.write_sync(corrupt)


def is_empty(tx: SqlTx) -> bool:
    """Whether the store holds no user, packet or transfer yet (the model starts empty)."""
    return all(
        tx.conn.execute(select(func.count()).select_from(t)).scalar_one() == 0
        for t in (s.users, s.packets, s.transfers)
    )


def _snapshot(tx: SqlTx) -> tuple[dict[int, int], dict[int, tuple[str, int, int, int]]]:
    a, p = s.accounts, s.packets
    wallets = {
        int(r.owner_id): int(r.balance_fen)
        for r in tx.conn.execute(select(a.c.owner_id, a.c.balance_fen).where(a.c.kind == "wallet"))
    }
    packets = {
        int(r.id): (str(r.status), int(r.claimed_count), int(r.claimed_fen), int(r.refunded_fen))
        for r in tx.conn.execute(select(p.c.id, p.c.status, p.c.claimed_count, p.c.claimed_fen, p.c.refunded_fen))
    }
    return wallets, packets


def _touched(
    tx: SqlTx, users: list[int], packets: list[int]
) -> tuple[int, dict[int, int], dict[int, tuple[str, int, int, int]]]:
    a, p = s.accounts, s.packets
    total = tx.conn.execute(select(func.coalesce(func.sum(a.c.balance_fen), 0)).where(a.c.kind == "wallet"))
    wallets = {
        int(r.owner_id): int(r.balance_fen)
        for r in tx.conn.execute(
            select(a.c.owner_id, a.c.balance_fen).where(a.c.kind == "wallet", a.c.owner_id.in_(users))
        )
    } if users else {}
    stored = {
        int(r.id): (str(r.status), int(r.claimed_count), int(r.claimed_fen), int(r.refunded_fen))
        for r in tx.conn.execute(
            select(p.c.id, p.c.status, p.c.claimed_count, p.c.claimed_fen, p.c.refunded_fen).where(p.c.id.in_(packets))
        )
    } if packets else {}
    return int(total.scalar_one()), wallets, stored


def _campaign_snapshot(
    tx: SqlTx, ids: list[int] | None = None, offer_ids: list[int] | None = None, events: list[int] | None = None
) -> CampaignSnapshot:
    """Every campaign, offer and player; or (`ids` given) only these campaigns, offers and events' players."""
    k, p, cc, t, a = sc.campaigns, sc.campaign_prizes, sc.campaign_claims, s.transfers, s.accounts
    o, cp, sp = sc.coupon_offers, sc.coupons, sc.shake_players
    q_k, q_b, q_p, q_c = select(k), select(a.c.owner_id, a.c.balance_fen).where(a.c.kind == "budget"), \
        select(p.c.campaign_id, p.c.issued_count).order_by(p.c.id), \
        select(cc.c.campaign_id, cc.c.user_id, cc.c.day, cc.c.amount_fen)
    q_t = select(t.c.ref, t.c.amount_fen).where(t.c.code == "campaign_return").order_by(t.c.id)
    q_o, q_cp, q_sp = select(o), select(cp), select(sp)
    if ids is not None:
        q_k, q_b = q_k.where(k.c.id.in_(ids)), q_b.where(a.c.owner_id.in_(ids))
        q_p, q_c = q_p.where(p.c.campaign_id.in_(ids)), q_c.where(cc.c.campaign_id.in_(ids))
        q_t = q_t.where(t.c.ref.in_([f"campaign:{i}" for i in ids]))
        q_o, q_cp = q_o.where(o.c.id.in_(offer_ids or [])), q_cp.where(cp.c.offer_id.in_(offer_ids or []))
        q_sp = q_sp.where(sp.c.event_id.in_(events or []))
    # A step audit asks only about what was touched: a kind with nothing touched costs no query.
    some_k = ids is None or bool(ids)
    some_o = ids is None or bool(offer_ids)
    some_p = ids is None or bool(events)
    campaigns = {
        int(r.id): (str(r.status), int(r.budget_fen), int(r.paid_fen), int(r.returned_fen), int(r.claims_count))
        for r in (tx.conn.execute(q_k) if some_k else ())
    }
    budgets = {int(r.owner_id): int(r.balance_fen) for r in (tx.conn.execute(q_b) if some_k else ())}
    returns: dict[int, list[int]] = {}
    for r in tx.conn.execute(q_t) if some_k else ():
        returns.setdefault(int(str(r.ref).split(":")[1]), []).append(int(r.amount_fen))
    prizes: dict[int, list[int]] = {}
    for r in tx.conn.execute(q_p) if some_k else ():
        prizes.setdefault(int(r.campaign_id), []).append(int(r.issued_count))
    claims: Counter[tuple[int, int]] = Counter()
    day_claims: Counter[tuple[int, int, str]] = Counter()
    claimed_fen: Counter[int] = Counter()
    for c in tx.conn.execute(q_c) if some_k else ():
        claims[(int(c.campaign_id), int(c.user_id))] += 1
        day_claims[(int(c.campaign_id), int(c.user_id), str(c.day))] += 1
        claimed_fen[int(c.campaign_id)] += int(c.amount_fen)
    offers = {int(r.id): (int(r.stock), int(r.issued_count)) for r in (tx.conn.execute(q_o) if some_o else ())}
    coupons = {int(r.id): (int(r.offer_id), int(r.holder_id)) for r in (tx.conn.execute(q_cp) if some_o else ())}
    players = {(int(r.event_id), int(r.user_id)): int(r.wins) for r in (tx.conn.execute(q_sp) if some_p else ())}
    return CampaignSnapshot(campaigns, budgets, returns, prizes, claims, day_claims, claimed_fen, offers, coupons,
                            players)  # fmt: skip
