"""Who may open a packet of each kind: a cheap check for the gate and a decisive one inside the atomic step."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from hongbao.domain import errors
from hongbao.domain.errors import HongbaoError
from hongbao.domain.packets import PacketView, not_eligible_for
from hongbao.service.ports import Gate

if TYPE_CHECKING:
    from hongbao.service.ports.people import AudienceReads


@dataclass(frozen=True)
class Claimant:
    """A user trying to open a packet, with what they bring along."""

    user_id: int
    secret: str | None = None  # the face-to-face code or password phrase typed
    location: tuple[float, float] | None = None  # (latitude, longitude) the client reports
    channel: str = "app"  # "app" or "web": where the claim came from (campaign figures)


class Audience(Protocol):
    """The audience rule of one packet kind."""

    async def admits(self, view: PacketView, who: Claimant) -> bool:
        """Cheap answer from caches, for the gate; may be stale in the permissive direction only."""
        ...

    def secret_ok(self, view: PacketView, who: Claimant) -> bool:
        """Whether the code or phrase given opens this packet (True for kinds without one)."""
        ...

    def confirm(self, tx: AudienceReads, view: PacketView, who: Claimant) -> None:
        """Decide again inside the atomic step; raise the refusal if the user is not in the audience."""
        ...


@runtime_checkable
class DecidedTogether(Protocol):
    """An audience whose rule one read decides for many openers at once (a group's members, a star's followers).

    Inside the atomic step the opens of one write batch that share a `together_key` are decided by one `among`
    read instead of one `confirm` each; `refuse` is the refusal of an opener `among` left out."""

    def together_key(self, view: PacketView) -> Hashable | None:
        """Openers of packets with the same key are decided by one read; None: decide this packet with `confirm`."""
        ...

    def among(self, tx: AudienceReads, view: PacketView, user_ids: list[int]) -> set[int]:
        """Which of `user_ids` are in the audience of `view` now."""
        ...

    def refuse(self, view: PacketView, who: Claimant) -> HongbaoError:
        ...


class Recipient:
    """Personal packets: only the named recipient (check_grab enforces it too)."""

    async def admits(self, view: PacketView, who: Claimant) -> bool:
        return who.user_id == view.recipient_id

    def secret_ok(self, view: PacketView, who: Claimant) -> bool:
        return True

    def confirm(self, tx: AudienceReads, view: PacketView, who: Claimant) -> None:
        if who.user_id != view.recipient_id:
            raise errors.not_eligible()


class GroupMembers:
    """Group and relay packets: current members of the packet's group."""

    def __init__(self, gate: Gate) -> None:
        self.gate = gate

    async def admits(self, view: PacketView, who: Claimant) -> bool:
        return view.group_id is not None and await self.gate.is_member(view.group_id, who.user_id)

    def secret_ok(self, view: PacketView, who: Claimant) -> bool:
        return True

    def confirm(self, tx: AudienceReads, view: PacketView, who: Claimant) -> None:
        if view.group_id is None or not tx.is_member(view.group_id, who.user_id):
            raise not_eligible_for(view.kind)

    def together_key(self, view: PacketView) -> Hashable | None:
        return None if view.group_id is None else ("group", view.group_id)

    def among(self, tx: AudienceReads, view: PacketView, user_ids: list[int]) -> set[int]:
        assert view.group_id is not None
        return tx.members_among(view.group_id, user_ids)

    def refuse(self, view: PacketView, who: Claimant) -> HongbaoError:
        return not_eligible_for(view.kind)


class Nobody:
    """A kind without a registered audience: nobody may open it (fail closed)."""

    async def admits(self, view: PacketView, who: Claimant) -> bool:
        return False

    def secret_ok(self, view: PacketView, who: Claimant) -> bool:
        return False

    def confirm(self, tx: AudienceReads, view: PacketView, who: Claimant) -> None:
        raise errors.not_eligible()
