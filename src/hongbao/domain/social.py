"""Rules of the social graph and of conversations: message types, text limits, verification labels."""

from __future__ import annotations

from enum import StrEnum

from hongbao.domain.errors import Rejected

MESSAGE_CHARS_MAX = 2_000
MESSAGES_PAGE_MAX = 100


class MessageType(StrEnum):
    """What a message in a conversation is."""

    TEXT = "text"  # typed by a participant
    PACKET = "packet"  # the red envelope itself (its bubble)
    CLAIM = "claim"  # "B opened A's packet"
    BEST_LUCK = "best_luck"  # a lucky packet finished: who got the largest share
    SYSTEM = "system"  # refunds, relay deadlines, asks… posted by hongbao, not by a user


class ConversationKind(StrEnum):
    PAIR = "pair"  # two friends
    GROUP = "group"  # every current member of one group


class Verification(StrEnum):
    """What an admin verified an account as (明星 / 企业); unverified accounts have none."""

    CELEBRITY = "celebrity"
    ENTERPRISE = "enterprise"


def pair_key(a: int, b: int) -> tuple[int, int]:
    """The two users of a pair conversation in id order: (a, b) and (b, a) are the same conversation."""
    assert a != b, "a conversation pairs two different users"
    return (a, b) if a < b else (b, a)


def clean_text(value: object) -> str:
    """A text message: 1–2,000 printable characters (new lines allowed), surrounding spaces removed."""
    if not isinstance(value, str):
        raise Rejected("A message is text.", code="invalid_message")
    text = value.strip()
    if not 1 <= len(text) <= MESSAGE_CHARS_MAX or not all(line.isprintable() for line in text.split("\n")):
        raise Rejected(f"A message has 1–{MESSAGE_CHARS_MAX} printable characters.", code="invalid_message")
    return text


def parse_verification(value: object) -> Verification | None:
    """ "celebrity", "enterprise", or None (remove the verification)."""
    if value is None:
        return None
    try:
        return Verification(value) if isinstance(value, str) else _bad_verification()
    except ValueError:
        return _bad_verification()


def _bad_verification() -> Verification:
    raise Rejected('Verify as "celebrity", "enterprise" or null.', code="invalid_verification")
