"""Amounts in fen, limits on new packets, greetings, and the fixed order of grab checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hongbao.domain.errors import HongbaoError, Rejected
from hongbao.domain.money import AMOUNT_FEN_MAX, check_amount_fen, format_fen, yuan_to_fen
from hongbao.domain.packets import PacketKind, PacketRules, PacketStatus, PacketView, check_grab
from hongbao.domain.split import Split

NOW = datetime(2026, 2, 17, 8, 0, tzinfo=UTC)  # 春节
SENDER, MEMBER, OUTSIDER, FRIEND = 1, 2, 3, 4

# --- amounts --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        (True, "invalid_amount"),
        (False, "invalid_amount"),
        (1.0, "invalid_amount"),
        ("100", "invalid_amount"),
        (None, "invalid_amount"),
        (0, "invalid_amount"),
        (-1, "invalid_amount"),
        (AMOUNT_FEN_MAX + 1, "amount_too_large"),
        (10**30, "amount_too_large"),
    ],
)
def test_check_amount_refuses_anything_but_a_positive_bounded_integer(amount, code):
    with pytest.raises(Rejected) as refused:
        check_amount_fen(amount)

    assert refused.value.code == code


@given(amount=st.integers(min_value=1, max_value=AMOUNT_FEN_MAX))
def test_check_amount_returns_every_positive_integer_within_bounds(amount):
    assert check_amount_fen(amount) == amount


@pytest.mark.parametrize(
    ("text", "fen"),
    [("12.34", 1234), ("0.01", 1), ("5", 500), (" 5.5 ", 550), ("1.230", 123), ("200.00", 20_000)],
)
def test_yuan_to_fen_parses_amounts_with_at_most_two_decimals(text, fen):
    assert yuan_to_fen(text) == fen


@pytest.mark.parametrize(
    "text",
    ["1.234", "0.001", "abc", "", "NaN", "sNaN", "Infinity", "-1", "0", "0.00", "1e999999", "1e-999999"],
)
def test_yuan_to_fen_refuses_text_that_is_not_a_whole_number_of_fen(text):
    with pytest.raises(Rejected) as refused:
        yuan_to_fen(text)

    assert refused.value.code == "invalid_amount"


def test_yuan_to_fen_refuses_an_amount_too_large_to_store():
    with pytest.raises(Rejected) as refused:
        yuan_to_fen("1e20")

    assert refused.value.code == "amount_too_large"


@pytest.mark.parametrize(
    ("fen", "text"),
    [
        (0, "¥0.00"),
        (1, "¥0.01"),
        (99, "¥0.99"),
        (100, "¥1.00"),
        (123_456, "¥1234.56"),
        (100_000_000, "¥1000000.00"),
        (AMOUNT_FEN_MAX, "¥90071992547409.92"),
        (9_007_199_254_540_993, "¥90071992545409.93"),  # a float division by 100 writes .94
        (-1, "-¥0.01"),  # statements show money going out as negative amounts
        (-12_345, "-¥123.45"),
    ],
)
def test_format_fen_writes_yuan_with_two_decimals_by_integer_arithmetic(fen, text):
    assert format_fen(fen) == text


@given(fen=st.integers(min_value=1, max_value=AMOUNT_FEN_MAX))
def test_formatted_yuan_parse_back_to_the_same_fen(fen):
    assert yuan_to_fen(format_fen(fen).removeprefix("¥")) == fen


# --- new packets ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "shares", "code"),
    [
        (100, 0, "invalid_share_count"),
        (20_000, 101, "invalid_share_count"),
        (100, True, "invalid_share_count"),
        (100, 2.0, "invalid_share_count"),
        (20_001, 1, "amount_too_large"),
        (99, 100, "share_too_small"),
        (0, 1, "invalid_amount"),
    ],
)
def test_a_new_packet_outside_the_limits_is_refused(total, shares, code):
    with pytest.raises(Rejected) as refused:
        PacketRules().check_new(total_fen=total, shares_count=shares)

    assert refused.value.code == code


@pytest.mark.parametrize(("total", "shares"), [(1, 1), (100, 100), (20_000, 100), (20_000, 1)])
def test_a_new_packet_at_the_limits_is_accepted(total, shares):
    assert PacketRules().check_new(total_fen=total, shares_count=shares) == (total, shares)


# --- greetings ------------------------------------------------------------------------------


def test_a_greeting_of_chinese_and_emoji_up_to_the_limit_is_kept():
    greeting = "恭喜发财🧧" * 12 + "大吉大利"
    assert len(greeting) == 64

    assert PacketRules().clean_greeting(greeting) == greeting


def test_a_greeting_one_character_over_the_limit_is_refused():
    with pytest.raises(Rejected) as refused:
        PacketRules().clean_greeting("红" * 65)

    assert refused.value.code == "invalid_greeting"


@pytest.mark.parametrize("greeting", ["新年\x07快乐", "line\nbreak", "\x00", "tab\tinside", "\u0378"])
def test_a_greeting_with_control_or_unassigned_characters_is_refused(greeting):
    with pytest.raises(Rejected) as refused:
        PacketRules().clean_greeting(greeting)

    assert refused.value.code == "invalid_greeting"


@pytest.mark.parametrize("greeting", [123, b"bytes", ["list"]])
def test_a_greeting_that_is_not_text_is_refused(greeting):
    with pytest.raises(Rejected) as refused:
        PacketRules().clean_greeting(greeting)

    assert refused.value.code == "invalid_greeting"


def test_a_missing_or_blank_greeting_becomes_the_default_wish():
    assert PacketRules().clean_greeting(None) == "恭喜发财，大吉大利"
    assert PacketRules().clean_greeting("   ") == "恭喜发财，大吉大利"


def test_a_greeting_is_normalised_to_nfc():
    assert PacketRules().clean_greeting("Cafe\u0301") == "Caf\u00e9"


# --- grab checks, in order ------------------------------------------------------------------


def group_packet(**changes: object) -> PacketView:
    fields: dict[str, object] = {
        "id": 7,
        "kind": PacketKind.GROUP,
        "sender_id": SENDER,
        "group_id": 50,
        "recipient_id": None,
        "split": Split.LINE_CUT,
        "total_fen": 1_000,
        "shares_count": 3,
        "expires_at": NOW + timedelta(hours=1),
        "status": PacketStatus.ACTIVE,
    }
    fields.update(changes)
    return PacketView(**fields)  # type: ignore[arg-type]


def personal_packet(**changes: object) -> PacketView:
    defaults: dict[str, object] = {
        "kind": PacketKind.PERSONAL,
        "group_id": None,
        "recipient_id": FRIEND,
        "split": Split.EQUAL,
        "shares_count": 1,
    }
    return group_packet(**{**defaults, **changes})


def refusal(
    packet: PacketView | None,
    *,
    user_id: int,
    eligible: bool = True,
    already_claimed: bool = False,
    claimed_count: int = 0,
    now: datetime = NOW,
    secret_ok: bool = True,
) -> str:
    """The code of the refusal `check_grab` gives (failing the test if it allows the grab)."""
    with pytest.raises(HongbaoError) as refused:
        check_grab(
            packet,
            user_id=user_id,
            now=now,
            eligible=eligible,
            already_claimed=already_claimed,
            claimed_count=claimed_count,
            secret_ok=secret_ok,
        )
    return refused.value.code


def test_a_member_may_grab_an_active_packet_with_shares_left():
    check_grab(
        group_packet(), user_id=MEMBER, now=NOW, eligible=True, already_claimed=False, claimed_count=2
    )


def test_a_missing_packet_is_not_found_before_anything_else():
    code = refusal(None, user_id=OUTSIDER, eligible=False, already_claimed=True, claimed_count=99)

    assert code == "packet_not_found"


def test_an_expired_packet_reports_expiry_before_eligibility():
    # Given a non-member opening a packet past its expiry that is also exhausted
    packet = group_packet(expires_at=NOW - timedelta(seconds=1))

    code = refusal(packet, user_id=OUTSIDER, eligible=False, already_claimed=True, claimed_count=3)

    assert code == "packet_expired"


def test_a_packet_expires_at_its_exact_expiry_instant():
    packet = group_packet(expires_at=NOW)

    assert refusal(packet, user_id=MEMBER) == "packet_expired"


def test_a_packet_marked_expired_is_expired_even_before_its_deadline():
    packet = group_packet(status=PacketStatus.EXPIRED)

    assert refusal(packet, user_id=MEMBER) == "packet_expired"


def test_a_non_member_who_already_claimed_is_told_they_are_not_a_member():
    # Given someone who claimed, then left the group
    code = refusal(group_packet(), user_id=OUTSIDER, eligible=False, already_claimed=True, claimed_count=1)

    # Then eligibility is checked before the earlier claim
    assert code == "not_group_member"


def test_an_already_claimed_user_on_an_exhausted_packet_is_told_they_already_claimed():
    packet = group_packet(status=PacketStatus.FINISHED)

    code = refusal(packet, user_id=MEMBER, eligible=True, already_claimed=True, claimed_count=3)

    assert code == "already_claimed"


def test_a_member_too_late_for_the_last_share_finds_the_packet_exhausted():
    code = refusal(group_packet(), user_id=MEMBER, claimed_count=3)

    assert code == "packet_exhausted"


def test_a_personal_packet_opened_by_someone_else_is_not_eligible():
    # Whatever the audience rule said, only the recipient may open a personal packet
    code = refusal(personal_packet(), user_id=OUTSIDER, eligible=True)

    assert code == "not_eligible"


def test_the_sender_may_not_open_their_own_personal_packet():
    code = refusal(personal_packet(), user_id=SENDER, eligible=True)

    assert code == "not_eligible"


def test_the_recipient_may_open_a_personal_packet_without_any_group():
    check_grab(personal_packet(), user_id=FRIEND, now=NOW, eligible=True, already_claimed=False, claimed_count=0)


def test_a_wrong_code_comes_after_eligibility_and_before_already_claimed():
    assert refusal(group_packet(), user_id=OUTSIDER, eligible=False, secret_ok=False) == "not_group_member"
    assert refusal(group_packet(), user_id=MEMBER, secret_ok=False, already_claimed=True) == "wrong_code"


def test_every_transfer_code_has_a_word_in_the_wallet_statement() -> None:
    from hongbao.domain.ledger import TransferCode
    from hongbao.service.wallet import _KIND

    assert {c.value for c in TransferCode} - set(_KIND) == set()
    assert set(_KIND.values()) <= {"top_up", "withdrawal", "sent", "received", "refunded"}


@pytest.mark.parametrize("limit", [0, -1, 101, True, 2.0, "20", None])
def test_a_page_size_outside_1_to_its_max_or_not_a_whole_number_is_invalid_limit(limit: object) -> None:
    from hongbao.domain.paging import check_limit

    with pytest.raises(Rejected) as refused:
        check_limit(limit, 100)
    assert refused.value.code == "invalid_limit"
    assert check_limit(1, 100) == 1 and check_limit(100, 100) == 100
