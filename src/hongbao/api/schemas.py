"""Request and response shapes of the HTTP API (the domain's own classes carry no suffix)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr

from hongbao.api.types import Fen, Id, Int


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Reply(BaseModel):
    """An answer's shape: a key the server sends that its model does not name fails validation (a test
    fails), rather than reaching clients undocumented.  Fields with a default may be absent from the answer
    where the route says `response_model_exclude_unset=True`."""

    model_config = ConfigDict(extra="forbid")


class Page(Reply):
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last.")


class UserCreate(Strict):
    username: StrictStr = Field(examples=["alice"], max_length=64)
    password: StrictStr = Field(examples=["correct horse battery"], max_length=256)
    display_name: StrictStr | None = Field(default=None, examples=["Alice 爱丽丝"], max_length=128)


class UserPublic(Reply):
    id: int
    username: str
    display_name: str


class MePublic(UserPublic):
    """You, with what you may do beyond a user's own money (the app shows each tool only to who can use it)."""

    verified_as: str | None = Field(description='"celebrity" or "enterprise" once an admin verified you, else null')
    is_admin: bool
    merchant: bool = Field(description="you registered a merchant: you redeem its coupons")


class SessionCreate(Strict):
    username: StrictStr = Field(examples=["alice"], max_length=64)
    password: StrictStr = Field(examples=["correct horse battery"], max_length=256)


class SessionPublic(Reply):
    token: str
    token_type: Literal["bearer"] = "bearer"
    user_id: int
    expires_at: str


class AmountBody(Strict):
    amount_fen: Fen


class PaymentPublic(Reply):
    payment_id: int
    amount_fen: int
    channel: str
    balance_fen: int
    # A top-up answers "booked" (credited). A withdrawal, debited at once, answers "sent" once the channel has the
    # payout, or "pending" when the channel did not answer: the scheduler sends it again (it is paid once).
    status: str = "booked"


class BalancePublic(Reply):
    user_id: int
    balance_fen: int


class FriendRequestCreate(Strict):
    user_id: Id = Field(examples=[2])


class GroupCreate(Strict):
    name: StrictStr = Field(examples=["相亲相爱一家人"], max_length=256)
    member_ids: list[Id] = Field(default_factory=list, examples=[[2, 3]], max_length=10_000)


class MemberAdd(Strict):
    user_id: Id = Field(examples=[3])


class PersonalPacketCreate(Strict):
    kind: Literal["personal"]
    recipient_id: Id = Field(examples=[2])
    amount_fen: Fen
    greeting: StrictStr | None = Field(default=None, max_length=1024, examples=["新年快乐"])


class GroupPacketCreate(Strict):
    kind: Literal["group"]
    group_id: Id = Field(examples=[1])
    split: Literal["equal", "double_mean", "line_cut"] = Field(
        description="equal: amount_each_fen × shares_count; double_mean (二倍均值) or line_cut (线段切割): "
        "total_fen split at random."
    )
    shares_count: Int = Field(examples=[10])
    total_fen: Fen | None = None
    amount_each_fen: Fen | None = None
    greeting: StrictStr | None = Field(default=None, max_length=1024, examples=["恭喜发财，大吉大利"])


PacketCreate = Annotated[PersonalPacketCreate | GroupPacketCreate, Field(discriminator="kind")]

PACKET_CREATE_EXAMPLES = {
    "lucky": {
        "summary": "Lucky group packet (拼手气)",
        "value": {
            "kind": "group",
            "group_id": 1,
            "split": "double_mean",
            "shares_count": 10,
            "total_fen": 2000,
            "greeting": "恭喜发财",
        },
    },
    "equal": {
        "summary": "Equal group packet (普通)",
        "value": {
            "kind": "group",
            "group_id": 1,
            "split": "equal",
            "shares_count": 5,
            "amount_each_fen": 100,
        },
    },
    "personal": {
        "summary": "Personal packet to a friend",
        "value": {"kind": "personal", "recipient_id": 2, "amount_fen": 520, "greeting": "新年快乐"},
    },
}


class ClaimPublic(Reply):
    user_id: int
    display_name: str | None
    amount_fen: int
    claimed_at: str
    best_luck: bool


class PacketSummary(Reply):
    """A packet without its claim list (in lists, and a relay's current round)."""

    id: int
    kind: str = Field(examples=["group"], description="personal, group, relay, face_to_face, password, celebrity, "
                      "enterprise")
    split: str = Field(examples=["double_mean"], description="equal, double_mean or line_cut")
    sender_id: int
    group_id: int | None
    recipient_id: int | None
    total_fen: int
    shares_count: int
    greeting: str
    status: str
    claimed_count: int
    claimed_fen: int
    refunded_fen: int
    created_at: str
    expires_at: str


class PacketPublic(PacketSummary):
    sender_name: str | None = None
    claims: list[ClaimPublic] | None = None
    my_amount_fen: int | None = None


class PacketPage(Page):
    packets: list[PacketSummary]


class StatementEntry(Reply):
    id: int
    kind: str = Field(description="top_up, withdrawal, sent, received or refunded")
    amount_fen: int
    ref: str = Field(description='What it was for: "packet:7", "claim:7:2", "transfer:3", …')
    created_at: str
    category: str = Field(description="packet, transfer, campaign, shake, top_up or withdrawal")
    party_id: int | None = Field(description="the other person: sender, recipient, a campaign's owner")
    party_name: str | None = Field(description="their display name, a group's name or a campaign's brand")
    packet_id: int | None
    transfer_id: int | None
    campaign_id: int | None


class StatementPage(Page):
    entries: list[StatementEntry]


class OpenPublic(Reply):
    packet_id: int
    amount_fen: int


class GrabPublic(Reply):
    packet_id: int
    can_open: bool
