"""What each statement entry was: its category (红包, 转账, 企业红包, 摇一摇, 充值, 提现), the other party, and
the packet, transfer or campaign it belongs to, read from the transfer's `ref` in the same read as the page."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hongbao.domain.ledger import TransferCode
from hongbao.service.results.wallet import EntryParts

if TYPE_CHECKING:
    from hongbao.adapters.sql.tx_ledger import StatementRow
    from hongbao.service.ports.ledger import StatementFacts

_CATEGORY = {
    TransferCode.TOPUP.value: "top_up",
    TransferCode.WITHDRAW.value: "withdrawal",
    TransferCode.PACKET_FUND.value: "packet",
    TransferCode.PACKET_CLAIM.value: "packet",
    TransferCode.PACKET_REFUND.value: "packet",
    TransferCode.TRANSFER_SEND.value: "transfer",
    TransferCode.TRANSFER_ACCEPT.value: "transfer",
    TransferCode.TRANSFER_RETURN.value: "transfer",
    TransferCode.TRANSFER_REFUND.value: "transfer",
    TransferCode.CAMPAIGN_FUND.value: "campaign",
    TransferCode.CAMPAIGN_TOPUP.value: "campaign",
    TransferCode.CAMPAIGN_PAYOUT.value: "campaign",
    TransferCode.CAMPAIGN_RETURN.value: "campaign",
}


@dataclass(eq=False)  # kept in a dict by identity
class Described:
    """The parts of an entry beyond amount and time; None where they do not apply."""

    category: str
    party_id: int | None = None  # the other person (sender, recipient, a campaign's owner)
    party_name: str | None = None  # their display name, a group's name, or a campaign's brand name
    packet_id: int | None = None
    transfer_id: int | None = None
    campaign_id: int | None = None

    def fields(self) -> EntryParts:
        return {"category": self.category, "party_id": self.party_id, "party_name": self.party_name,
                "packet_id": self.packet_id, "transfer_id": self.transfer_id, "campaign_id": self.campaign_id}


def _ref_id(ref: str, prefix: str) -> int | None:
    head, _, rest = ref.partition(":")
    if head != prefix:
        return None
    number = rest.split(":", 1)[0]
    return int(number) if number.isdigit() else None


def describe(tx: StatementFacts, user_id: int, rows: Sequence[StatementRow]) -> list[Described]:
    """One `Described` per statement row (`code`, `ref`), with a handful of reads for the whole page."""
    out = [Described(_CATEGORY.get(r.code, r.code)) for r in rows]
    for d, r in zip(out, rows, strict=True):
        d.packet_id = _ref_id(r.ref, "packet") or _ref_id(r.ref, "claim") or _ref_id(r.ref, "refund")
        d.transfer_id = _ref_id(r.ref, "transfer")
        d.campaign_id = _ref_id(r.ref, "campaign") or _ref_id(r.ref, "campaign-topup")
    claims = {cid for r in rows if (cid := _ref_id(r.ref, "campaign-claim")) is not None}
    if claims:
        of_claim = tx.campaigns_of_claims(sorted(claims))
        for d, r in zip(out, rows, strict=True):
            cid = _ref_id(r.ref, "campaign-claim")
            if cid is not None:
                d.campaign_id = of_claim.get(cid)

    people: dict[Described, int] = {}
    packets = {pid: tx.packet(pid) for pid in {d.packet_id for d in out if d.packet_id is not None}}
    transfers = {tid: tx.transfer_order(tid) for tid in {d.transfer_id for d in out if d.transfer_id is not None}}
    campaigns = {cid: tx.campaign(cid) for cid in {d.campaign_id for d in out if d.campaign_id is not None}}
    for d in out:
        packet = packets.get(d.packet_id) if d.packet_id is not None else None
        order = transfers.get(d.transfer_id) if d.transfer_id is not None else None
        campaign = campaigns.get(d.campaign_id) if d.campaign_id is not None else None
        if packet is not None:
            view = packet.view
            if view.sender_id != user_id:
                d.party_id = view.sender_id  # received: from its sender
            elif view.recipient_id is not None:
                d.party_id = view.recipient_id  # a personal packet sent or refunded: its recipient
            elif view.group_id is not None:
                group = tx.group(view.group_id)
                d.party_name = group.name if group is not None else None
        elif order is not None:
            d.party_id = order.recipient_id if order.sender_id == user_id else order.sender_id
        elif campaign is not None:
            d.category = "shake" if campaign.channel == "shake" else "campaign"
            d.party_name = campaign.name
            if campaign.owner_id != user_id:
                d.party_id = campaign.owner_id
        if d.party_id is not None and d.party_name is None:
            people[d] = d.party_id
    names = tx.users_by_ids(sorted(set(people.values()))) if people else {}
    for d, uid in people.items():
        user = names.get(uid)
        d.party_name = user.display_name if user is not None else None
    return out
