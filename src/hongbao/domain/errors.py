"""Every refusal hongbao can give, with a stable string code.

    HongbaoError                      root; `code` is stable, `status` is the HTTP status the API uses
    ├── NotFound (404)                the thing does not exist, or the caller may not know it exists
    │     user_not_found, packet_not_found, group_not_found, account_not_found, friend_request_not_found
    │     relay_not_found, ask_not_found, transfer_not_found                      (relay area)
    │     conversation_not_found, friend_not_found                                (social area)
    │     campaign_not_found, coupon_not_found, offer_not_found, merchant_not_found,
    │     shake_event_not_found                                                   (campaign area)
    │     wrong_code, wrong_phrase: no live packet has this code or phrase         (open area)
    ├── Unauthorized (401)            bad_credentials, token_invalid
    ├── Forbidden (403)               not_group_member, not_group_owner, not_eligible, not_follower, wrong_code
    │     not_your_turn, not_asked, asks_disabled, not_transfer_recipient          (relay area)
    │     not_admin                                                               (social area)
    │     not_verified, not_campaign_owner (and not_follower for followers campaigns) (campaign area)
    │     wrong_code for a coupon redeemed with a wrong redeem code               (campaign area)
    │     too_far, not_verified; wrong_code for a share link opened with a wrong secret (open area)
    ├── Rejected (422)                the request is well-formed but breaks a rule of the product
    │     invalid_amount, amount_too_large, invalid_share_count, share_too_small, invalid_greeting,
    │     not_friends, packet_expired, insufficient_funds, invalid_username, weak_password,
    │     group_full, cannot_befriend_self, channel_declined
    │     below_relay_minimum, relay_deadline_passed, invalid_deadline, ask_expired, cannot_ask_self,
    │     invalid_ask_target, invalid_message, group_ask_not_declinable, invalid_setting,
    │     transfer_expired, cannot_transfer_to_self, invalid_note                   (relay area)
    │     cannot_follow_self, invalid_verification, invalid_message, invalid_conversation,
    │     invalid_limit                                                           (social area)
    │     campaign_not_started, campaign_ended, round_not_active, coupon_expired, invalid_channel,
    │     invalid_window, invalid_prize, invalid_branding, invalid_cap, invalid_stock,
    │     invalid_location, invalid_probability, invalid_code (a coupon redeem code) (campaign area)
    │     invalid_code, invalid_phrase, location_required, invalid_location, invalid_platform,
    │     invalid_channel, not_shareable, nothing_to_embed, not_password            (open area)
    ├── Conflict (409)                the state of the world disagrees with the request
    │     already_claimed, packet_exhausted, username_taken, idempotency_key_reused,
    │     already_friends, already_member, request_in_progress
    │     relay_ended, relay_round_taken, ask_answered, transfer_settled           (relay area)
    │     cap_reached, campaign_exhausted, pool_empty, coupon_redeemed               (campaign area)
    │     phrase_taken: a live packet already has this phrase                      (open area)
    │     secret_unreadable: a code, phrase or link token sealed under a pepper since dropped
    ├── TooManyRequests (429)         too_many_attempts: a guessable secret was tried too often
    │     asked_too_often: more asks in a day than the cap allows                 (relay area)
    │     too_many_shakes: over 5 shakes a second or 100 a round                  (campaign area)
    │     too_many_attempts: 10 wrong coupon redeem codes in 15 min               (campaign area)
    └── Unavailable (503)             channel_unavailable: the payment channel did not answer (a top-up is
                                      credited later if the channel took the money; a keyed retry is safe)
                                      limiter_unavailable: guesses cannot be counted (Redis unreachable), so
                                      none are allowed
                                      store_unavailable: the database did not answer in time; the detail says
                                      whether nothing changed or the outcome is unknown (then a retry with
                                      the same Idempotency-Key gets the first answer and moves nothing again)

Grab and open check in this fixed order, the first failing check wins (DESIGN.md §6):
    packet_not_found → packet_expired → not_eligible (not_group_member) → wrong code
    → already_claimed → packet_exhausted
Campaign claims: campaign_not_found → campaign_not_started / campaign_ended → not_follower
    → cap_reached → campaign_exhausted.  Shakes: shake_event_not_found → round_not_active
    → too_many_shakes → pool_empty.  Coupon redeems: invalid_code → too_many_attempts → wrong_code
    → coupon_not_found → coupon_redeemed → coupon_expired.

A broken ledger invariant is not a refusal but a bug: `InvariantViolation` is raised, the
transaction rolls back, nothing continues.
"""

from __future__ import annotations


class HongbaoError(Exception):
    """Raised for every refusal; `code` is stable and documented above."""

    code = "error"
    status = 400
    title = "Request refused"
    retry_after_s: int | None = None  # sent as Retry-After when set (503, 429)

    def __init__(self, detail: str = "", *, code: str | None = None, **limits: int | str) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        if code is not None:
            self.code = code
        # The limit a refusal names, machine-readable (`max_fen=20000, subject="packet"`): the API sends these as
        # extension members of the problem, so a client words the refusal in its user's language and currency.
        self.limits = limits


class NotFound(HongbaoError):
    """Raised when the thing does not exist or the caller may not know that it exists."""

    code = "not_found"
    status = 404
    title = "Not found"


class Unauthorized(HongbaoError):
    """Raised when the caller is not authenticated."""

    code = "unauthorized"
    status = 401
    title = "Authentication required"


class Forbidden(HongbaoError):
    """Raised when the caller is known but may not do this."""

    code = "forbidden"
    status = 403
    title = "Not allowed"


class Rejected(HongbaoError):
    """Raised when a well-formed request breaks a rule of the product."""

    code = "rejected"
    status = 422
    title = "Rejected by a rule"


class Conflict(HongbaoError):
    """Raised when the current state disagrees with the request."""

    code = "conflict"
    status = 409
    title = "Conflict with the current state"


class TooManyRequests(HongbaoError):
    """Raised when a caller tries a guessable secret (password, code) too often."""

    code = "too_many_attempts"
    status = 429
    title = "Too many attempts"
    retry_after_s: int | None = 1  # every 429 says when to come back; a limit that knows better sets its own


class Unavailable(HongbaoError):
    """Raised when a service hongbao depends on (payment channel, Redis) did not answer; retrying later may work."""

    code = "unavailable"
    status = 503
    title = "Service unavailable"


class InvariantViolation(AssertionError):
    """Raised when a ledger invariant is broken: a bug, never a refusal."""


# Named helpers, so codes are written once.
def packet_not_found() -> NotFound:
    return NotFound("No such red packet.", code="packet_not_found")


def packet_expired() -> Rejected:
    return Rejected("This red packet has expired.", code="packet_expired")


def not_group_member() -> Forbidden:
    return Forbidden("Only members of the group may grab this red packet.", code="not_group_member")


def not_eligible() -> Forbidden:
    return Forbidden("This red packet is not for you.", code="not_eligible")


def wrong_code() -> Forbidden:
    return Forbidden("That code or phrase does not open this red packet.", code="wrong_code")


def already_claimed() -> Conflict:
    return Conflict("You have already opened this red packet.", code="already_claimed")


def packet_exhausted() -> Conflict:
    return Conflict("Too late: every share has been taken.", code="packet_exhausted")


def insufficient_funds() -> Rejected:
    return Rejected("Your wallet balance is too low.", code="insufficient_funds")


def too_many_attempts(retry_after_s: int) -> TooManyRequests:
    """429 `too_many_attempts`, with the seconds until the next attempt may count (sent as Retry-After)."""
    exc = TooManyRequests(f"Too many failed attempts; try again in {retry_after_s} s.")
    exc.retry_after_s = retry_after_s
    return exc


def store_unavailable(*, outcome_unknown: bool = False) -> Unavailable:
    """The database did not take this write or read in time (down, restarting, unreachable, or too busy)."""
    if outcome_unknown:
        detail = ("The database did not confirm this request in time; it may or may not have taken effect. "
                  "Retry with the same Idempotency-Key to get its answer without moving money twice.")
    else:
        detail = "The database is unavailable; nothing was changed. Try again shortly."
    exc = Unavailable(detail, code="store_unavailable")
    exc.retry_after_s = 1
    return exc
