"""Every refusal hongbao can give, with a stable string code.

    HongbaoError                      root; `code` is stable, `status` is the HTTP status the API uses
    ├── NotFound (404)                the thing does not exist, or the caller may not know it exists
    │     user_not_found, packet_not_found, group_not_found, account_not_found, friend_request_not_found
    ├── Unauthorized (401)            bad_credentials, token_invalid
    ├── Forbidden (403)               not_group_member, not_group_owner, not_eligible, not_follower, wrong_code
    ├── Rejected (422)                the request is well-formed but breaks a rule of the product
    │     invalid_amount, amount_too_large, invalid_share_count, share_too_small, invalid_greeting,
    │     not_friends, packet_expired, insufficient_funds, invalid_username, weak_password,
    │     group_full, cannot_befriend_self, channel_declined
    ├── Conflict (409)                the state of the world disagrees with the request
    │     already_claimed, packet_exhausted, username_taken, idempotency_key_reused,
    │     already_friends, already_member, request_in_progress
    └── TooManyRequests (429)         too_many_attempts: a guessable secret was tried too often

Grab and open check in this fixed order, the first failing check wins (DESIGN.md §6):
    packet_not_found → packet_expired → not_eligible (not_group_member) → wrong code
    → already_claimed → packet_exhausted

A broken ledger invariant is not a refusal but a bug: `InvariantViolation` is raised, the
transaction rolls back, nothing continues.
"""

from __future__ import annotations


class HongbaoError(Exception):
    """Raised for every refusal; `code` is stable and documented above."""

    code = "error"
    status = 400
    title = "Request refused"

    def __init__(self, detail: str = "", *, code: str | None = None) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        if code is not None:
            self.code = code


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
