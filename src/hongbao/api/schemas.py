"""Request and response shapes of the HTTP API (the domain's own classes carry no suffix)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr

from hongbao.api.types import Fen, Id, Int


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UserCreate(Strict):
    username: StrictStr = Field(examples=["alice"], max_length=64)
    password: StrictStr = Field(examples=["correct horse battery"], max_length=256)
    display_name: StrictStr | None = Field(default=None, examples=["Alice 爱丽丝"], max_length=128)


class UserPublic(BaseModel):
    id: int
    username: str
    display_name: str


class SessionCreate(Strict):
    username: StrictStr = Field(examples=["alice"], max_length=64)
    password: StrictStr = Field(examples=["correct horse battery"], max_length=256)


class SessionPublic(BaseModel):
    token: str
    token_type: Literal["bearer"] = "bearer"
    user_id: int
    expires_at: str


class AmountBody(Strict):
    amount_fen: Fen


class PaymentPublic(BaseModel):
    payment_id: int
    amount_fen: int
    channel: str
    balance_fen: int
    # A top-up answers "booked" (credited). A withdrawal, debited at once, answers "sent" once the channel has the
    # payout, or "pending" when the channel did not answer: the scheduler sends it again (it is paid once).
    status: str = "booked"


class BalancePublic(BaseModel):
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


class ClaimPublic(BaseModel):
    user_id: int
    display_name: str | None
    amount_fen: int
    claimed_at: str
    best_luck: bool


class PacketPublic(BaseModel):
    id: int
    kind: str
    split: str
    sender_id: int
    sender_name: str | None = None
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
    claims: list[ClaimPublic] | None = None
    my_amount_fen: int | None = None


class OpenPublic(BaseModel):
    packet_id: int
    amount_fen: int


class GrabPublic(BaseModel):
    packet_id: int
    can_open: bool
