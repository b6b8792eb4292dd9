"""Rules of the open-audience kinds (face-to-face code, password phrase, celebrity) and of share links.

Secrets are never stored in clear: a code or phrase is kept as an HMAC-SHA256 digest under a
per-install key (the digest of a 6-digit code cannot be reversed without that key), and, so the
sender can be shown it again, sealed in the packet's `extra` with a key derived from the same one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from hongbao.domain import errors, geo
from hongbao.domain.errors import Conflict, Forbidden, NotFound, Rejected
from hongbao.domain.geo import haversine_m

PHRASE_CHARS_MAX = 32
RADIUS_M_MAX = 10_000


class Platform(StrEnum):
    """Where a share link was posted."""

    WECHAT = "wechat"
    ALIPAY = "alipay"
    LAIWANG = "laiwang"
    WEIBO = "weibo"
    QQ = "qq"


PLATFORM_NAMES = {
    Platform.WECHAT: ("微信", "WeChat"),
    Platform.ALIPAY: ("支付宝", "Alipay"),
    Platform.LAIWANG: ("来往", "Laiwang"),
    Platform.WEIBO: ("微博", "Weibo"),
    Platform.QQ: ("QQ", "QQ"),
}
CHANNELS = ("app", "web")


def parse_platform(value: object, *, required: bool) -> str:
    """A known platform's name; "direct" when none is given and none is required."""
    if value is None or value == "":
        if required:
            raise Rejected("platform must be one of " + ", ".join(Platform) + ".", code="invalid_platform")
        return "direct"
    try:
        return Platform(str(value).strip().lower()).value
    except ValueError:
        raise Rejected("platform must be one of " + ", ".join(Platform) + ".", code="invalid_platform") from None


def parse_channel(value: object, default: str = "app") -> str:
    """"app" or "web": where a request came from (X-Client-Channel header or ?channel=)."""
    if value is None or value == "":
        return default
    text = str(value).strip().lower()
    if text not in CHANNELS:
        raise Rejected("channel must be app or web.", code="invalid_channel")
    return text


# ---------------------------------------------------------------------- codes and phrases


def new_code(digits: int) -> str:
    """A face-to-face code: `digits` random decimal digits from `secrets` (never sequential)."""
    assert 4 <= digits <= 12, "a code has 4 to 12 digits"
    return f"{secrets.randbelow(10**digits):0{digits}d}"


def clean_code(value: object, digits: int) -> str:
    """The code as typed, NFKC-normalised (full-width digits count) without spaces; refuse anything else."""
    if not isinstance(value, str):
        raise Rejected("code must be text.", code="invalid_code")
    text = "".join(unicodedata.normalize("NFKC", value).split())
    if len(text) != digits or not (text.isascii() and text.isdigit()):
        raise Rejected(f"A face-to-face code is {digits} digits.", code="invalid_code")
    return text


def normalize_phrase(value: object) -> str:
    """The one form of a password phrase that is compared (and hashed).

    Rule: Unicode NFKC (full-width letters, digits, punctuation and the ideographic space become
    their half-width forms), invisible format characters removed (zero-width space, joiners, BOM),
    case-folded (Latin "HongBao" = "hongbao"; Chinese is unchanged), every run of whitespace
    collapsed to one space, leading and trailing whitespace stripped.  Between 1 and 32 characters.
    """
    if not isinstance(value, str):
        raise Rejected("phrase must be text.", code="invalid_phrase")
    text = unicodedata.normalize("NFKC", value)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    text = " ".join(text.casefold().split())
    if not text:
        raise Rejected("The phrase is empty.", code="invalid_phrase")
    if any(unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn") for ch in text):
        raise Rejected("The phrase has control or unassigned characters.", code="invalid_phrase")
    if len(text) > PHRASE_CHARS_MAX:
        raise Rejected(f"A phrase has at most {PHRASE_CHARS_MAX} characters.", code="invalid_phrase")
    return text


class SecretKind(StrEnum):
    """Domain separation of digests: a code and a phrase with the same text never collide."""

    CODE = "face_to_face_code"
    PHRASE = "password_phrase"


def secret_digest(key: bytes, kind: SecretKind, normalized: str) -> bytes:
    """HMAC-SHA256 of the normalised secret under the install's key (32 bytes)."""
    return hmac.new(key, kind.value.encode() + b"\x00" + normalized.encode(), hashlib.sha256).digest()


def secret_in_world(normalized: str, world: int) -> str:
    """The text a code or phrase is hashed as.  A host app's users live in a world of their own
    (service/worlds.py): their packets' secrets are hashed with the world's number, so one phrase can be live in two
    worlds at once, and a code or phrase of one world is not found from another.  hongbao's own world (0) hashes
    the secret alone, as before worlds were."""
    return normalized if world == 0 else f"{normalized}\x00world:{world}"


def world_of(extra: Mapping[str, object]) -> int:
    """The world a code or phrase packet was sent in (kept in its `extra`; none: hongbao's own)."""
    world = extra.get("world", 0)
    return world if isinstance(world, int) else 0


def digest_matches(keys: Sequence[bytes], kind: SecretKind, normalized: str, stored: bytes | None) -> bool:
    """Whether `stored` is the secret's digest under any of `keys` (the current key, then older peppers')."""
    return stored is not None and any(hmac.compare_digest(secret_digest(k, kind, normalized), stored) for k in keys)


# ---------------------------------------------------------------------- sealing a secret for its sender


def _sub_key(key: bytes, purpose: bytes) -> bytes:
    return hmac.new(key, b"hongbao-open:" + purpose, hashlib.sha256).digest()


def _keystream(key: bytes, nonce: bytes, length: int) -> bytes:
    blocks = (hmac.new(key, nonce + i.to_bytes(4, "big"), hashlib.sha256).digest() for i in range(length // 32 + 1))
    return b"".join(blocks)[:length]


def seal(key: bytes, secret: str) -> str:
    """Encrypt-then-MAC with HMAC-SHA256 (counter-mode keystream, random 16-byte nonce); base64 text."""
    data = secret.encode()
    nonce = secrets.token_bytes(16)
    body = bytes(a ^ b for a, b in zip(data, _keystream(_sub_key(key, b"seal"), nonce, len(data)), strict=True))
    tag = hmac.new(_sub_key(key, b"seal-tag"), nonce + body, hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(nonce + tag + body).decode()


def unseal(key: bytes, sealed: str) -> str:
    """The secret `seal` sealed; an AssertionError if it was tampered with (a bug or a wrong key)."""
    secret = unseal_with((key,), sealed)
    assert secret is not None, "sealed secret fails its check: wrong install key?"
    return secret


def unseal_with(keys: Sequence[bytes], sealed: str) -> str | None:
    """The secret `seal` sealed under any of `keys` (the current key first, then older peppers'); None if none of
    them sealed it (its pepper was dropped from the settings, or it was tampered with)."""
    raw = base64.urlsafe_b64decode(sealed.encode())
    nonce, tag, body = raw[:16], raw[16:32], raw[32:]
    for key in keys:
        expected = hmac.new(_sub_key(key, b"seal-tag"), nonce + body, hashlib.sha256).digest()[:16]
        if hmac.compare_digest(tag, expected):
            pad = _keystream(_sub_key(key, b"seal"), nonce, len(body))
            return bytes(a ^ b for a, b in zip(body, pad, strict=True)).decode()
    return None


# ---------------------------------------------------------------------- location


@dataclass(frozen=True)
class Place:
    """Where the sender stands, and how far from it a claimer may be."""

    lat: float
    lng: float
    radius_m: int


def check_coordinates(lat: object, lng: object) -> tuple[float, float]:
    """Latitude and longitude in degrees, refused outside [-90, 90] × [-180, 180]."""
    return geo.check_coordinates(lat, lng, "lat must be in [-90, 90] and lng in [-180, 180].")


def check_place(lat: object, lng: object, radius_m: object) -> Place | None:
    """The sender's optional place: all three given, or none."""
    if lat is None and lng is None and radius_m is None:
        return None
    if lat is None or lng is None or radius_m is None:
        raise Rejected("Give lat, lng and radius_m together, or none of them.", code="invalid_location")
    la, ln = check_coordinates(lat, lng)
    if isinstance(radius_m, bool) or not isinstance(radius_m, int) or not 10 <= radius_m <= RADIUS_M_MAX:
        raise Rejected(f"radius_m must be a whole number from 10 to {RADIUS_M_MAX}.", code="invalid_location")
    return Place(la, ln, radius_m)


def check_distance(place: Place | None, where: tuple[float, float] | None) -> None:
    """Refuse a claimer who gives no location, or stands farther than the radius, when the sender set one."""
    if place is None:
        return
    if where is None:
        raise Rejected("This red packet asks where you are: send lat and lng.", code="location_required")
    if haversine_m(place.lat, place.lng, *where) > place.radius_m:
        raise too_far(place.radius_m)


def place_of(extra: Mapping[str, object]) -> Place | None:
    """The place stored in a packet's `extra`, if any."""
    got = extra.get("place")
    if not isinstance(got, dict):
        return None
    return Place(float(got["lat"]), float(got["lng"]), int(got["radius_m"]))


# ---------------------------------------------------------------------- refusals


def secret_unreadable(what: str = "code or phrase") -> Conflict:
    """A sealed secret no key of this server opens: sealed under a pepper since dropped from the settings."""
    return Conflict(f"This {what} was sealed under a secret pepper this server no longer has.",
                    code="secret_unreadable")


def wrong_code() -> NotFound:
    """A code that no live packet has: 404, since the caller names no packet that exists."""
    return NotFound("No live red packet has this code.", code="wrong_code")


def wrong_phrase() -> NotFound:
    return NotFound("No live red packet has this phrase.", code="wrong_phrase")


def phrase_taken() -> Conflict:
    return Conflict("A live red packet already uses this phrase; choose another.", code="phrase_taken")


def too_far(radius_m: int) -> Forbidden:
    return Forbidden(f"You are more than {radius_m} m from the sender.", code="too_far")


def not_verified() -> Forbidden:
    return Forbidden("Only an account verified as a celebrity may send celebrity packets.", code="not_verified")


def not_follower() -> Forbidden:
    return errors.Forbidden("Only followers may grab this red packet.", code="not_follower")
