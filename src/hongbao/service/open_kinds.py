"""Face-to-face (面对面), password (口令) and celebrity (明星) packets: send, claim by code or phrase.

Who may open them is in open_audiences.py; the limit on guessing a code or phrase in guesses.py.

Secrets: a code or phrase is stored as an HMAC-SHA256 digest (packets.secret_hash, and live_secrets
while its packet is live, whose primary key makes it unique among live packets) under a per-install
key kept in the `meta` table and optionally peppered by HONGBAO_SECRET_PEPPER, which lives outside
the database.  So the sender can see it again (GET /v1/packets/{id}/secret, the QR image, the
card), it is also sealed (encrypted and authenticated) in the packet's `extra`; nobody else is
ever shown it, and the idempotency table stores replies with it sealed only.  Digests and seals
made under a rotated pepper (HONGBAO_SECRET_PEPPER_PREVIOUS) still match and open: see install_key.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, cast, overload

from hongbao.domain import errors
from hongbao.domain.errors import HongbaoError, Rejected
from hongbao.domain.open_kinds import (
    Place,
    SecretKind,
    check_coordinates,
    check_distance,
    check_place,
    clean_code,
    new_code,
    normalize_phrase,
    not_verified,
    parse_platform,
    phrase_taken,
    place_of,
    seal,
    secret_digest,
    secret_in_world,
    secret_unreadable,
    unseal_with,
    wrong_code,
    wrong_phrase,
)
from hongbao.domain.packets import PacketKind, PacketView
from hongbao.domain.split import Split
from hongbao.service.audience import Audience, Claimant
from hongbao.service.deps import Deps
from hongbao.service.guesses import Guesses
from hongbao.service.idempotency import IdempotencyKey, once, stored_reply
from hongbao.service.install_key import InstallKey, parse_peppers
from hongbao.service.open_audiences import FaceToFaceAudience, Followers, PasswordAudience
from hongbao.service.packets import Packets, check_split, sent_public
from hongbao.service.results.open_kinds import CodePacket, PhrasePacket, SealedPacket, SharedPacket
from hongbao.service.results.opening import Opened, StoredOpen
from hongbao.service.sharing import Sharing, link_path
from hongbao.service.worlds import OWN, reachable

if TYPE_CHECKING:
    from hongbao.adapters.sql.tx import ClaimRow, PacketRow
    from hongbao.config import Settings
    from hongbao.service.ports.open_kinds import OpenKindSending, SecretLookup, SecretRelease

CODE_TRIES_MAX = 20  # a free 6-digit code is found at once unless ~a million packets are live


class OpenKinds:
    def __init__(
        self, deps: Deps, packets: Packets, sharing: Sharing, settings: Settings, key: InstallKey | None = None
    ) -> None:
        self.d, self.packets, self.sharing = deps, packets, sharing
        self.key = key or InstallKey(deps.store, settings.secret_pepper, parse_peppers(settings.secret_pepper_previous))
        self.digits = settings.face_code_digits
        self.guesses = Guesses(
            settings.guess_failures_max_per_user,
            settings.guess_failures_max_per_address,
            settings.guess_window_s,
            deps.limiters,
        )
        campaign = {"packet_fen_max": max(settings.open_packet_fen_max, deps.rules.packet_fen_max)}
        self.password_rules = replace(deps.rules, shares_count_max=settings.password_shares_count_max, **campaign)
        self.celebrity_rules = replace(deps.rules, shares_count_max=settings.celebrity_shares_count_max, **campaign)
        self.worlds = packets.worlds  # one cache of users' worlds for the open path

    def audiences(self) -> dict[PacketKind, Audience]:
        """Who may open each kind this area sends (bootstrap registers them with `Packets`)."""
        return {
            PacketKind.FACE_TO_FACE: FaceToFaceAudience(self.key, self.digits, self.worlds),
            PacketKind.PASSWORD: PasswordAudience(self.key, self.worlds),
            PacketKind.CELEBRITY: Followers(self.d.store),
        }

    # ------------------------------------------------------------------ hooks: finished or expired frees the secret

    @staticmethod
    def release_when_finished(tx: SecretRelease, row: PacketRow, claim: ClaimRow) -> None:
        if row.view.secret_hash is not None and row.finished_at is not None:
            tx.release_secret(row.view.id)

    @staticmethod
    def release_when_expired(tx: SecretRelease, row: PacketRow, refund: int) -> None:
        if row.view.secret_hash is not None:
            tx.release_secret(row.view.id)

    # ------------------------------------------------------------------ send

    async def send_face_to_face(
        self, sender_id: int, *, how: object, shares_count: object, total_fen: object = None,
        amount_each_fen: object = None, greeting: object = None, lat: object = None, lng: object = None,
        radius_m: object = None, idem: IdempotencyKey | None = None,
    ) -> CodePacket:
        """A packet anyone present may open with its code; the reply (to the sender only) holds the code."""
        split_how, total, count = check_split(self.d.rules, how, shares_count, total_fen, amount_each_fen)
        text = self.d.rules.clean_greeting(greeting)
        place = check_place(lat, lng, radius_m)
        keys = await self.key.ensure_all()
        now = self.d.clock.now()

        def job(tx: OpenKindSending) -> SealedPacket:
            def effect() -> SealedPacket:
                world = tx.worlds_of([sender_id]).get(sender_id, OWN)  # codes are unique within a world
                for _ in range(CODE_TRIES_MAX):
                    code = new_code(self.digits)
                    digests = [secret_digest(k, SecretKind.CODE, secret_in_world(code, world)) for k in keys]
                    if all(tx.secret_free(d, now) for d in digests):
                        break
                else:  # pragma: no cover - a million live codes
                    raise errors.Conflict("No free code right now; try again.", code="request_in_progress")
                extra: dict[str, object] = {"sealed": seal(keys[0], code)} | ({"world": world} if world else {})
                if place is not None:
                    extra["place"] = {"lat": place.lat, "lng": place.lng, "radius_m": place.radius_m}
                return self._create(tx, PacketKind.FACE_TO_FACE, split_how, sender_id, total, count, text, now,
                                    digests, extra, code_taken=lambda: errors.Conflict(
                                        "That code was taken a moment ago; try again.", code="request_in_progress"))

            return once(tx, idem, effect, now=now)

        return self._with_secret(await self.d.store.write(job), keys, "code")

    async def send_password(
        self, sender_id: int, *, phrase: object, how: object, shares_count: object, total_fen: object = None,
        amount_each_fen: object = None, greeting: object = None, idem: IdempotencyKey | None = None,
    ) -> PhrasePacket:
        """A packet anyone who types the phrase may open; refused while another live packet has the phrase."""
        normalized = normalize_phrase(phrase)
        shown = " ".join(str(phrase).split())  # the sender's own spelling, for the card
        split_how, total, count = check_split(self.password_rules, how, shares_count, total_fen, amount_each_fen)
        text = self.d.rules.clean_greeting(greeting)
        keys = await self.key.ensure_all()
        now = self.d.clock.now()

        def job(tx: OpenKindSending) -> SealedPacket:
            def effect() -> SealedPacket:
                world = tx.worlds_of([sender_id]).get(sender_id, OWN)  # a phrase is unique within a world
                digests = [secret_digest(k, SecretKind.PHRASE, secret_in_world(normalized, world)) for k in keys]
                extra: dict[str, object] = {"sealed": seal(keys[0], shown)} | ({"world": world} if world else {})
                return self._create(tx, PacketKind.PASSWORD, split_how, sender_id, total, count, text, now, digests,
                                    extra, code_taken=phrase_taken)

            return once(tx, idem, effect, now=now)

        return self._with_secret(await self.d.store.write(job), keys, "phrase")

    async def send_celebrity(
        self, sender_id: int, *, how: object, shares_count: object, total_fen: object = None,
        amount_each_fen: object = None, greeting: object = None, idem: IdempotencyKey | None = None,
    ) -> SharedPacket:
        """A packet for the sender's followers, with very many shares; only verified celebrities may send."""
        split_how, total, count = check_split(self.celebrity_rules, how, shares_count, total_fen, amount_each_fen)
        text = self.d.rules.clean_greeting(greeting)
        now = self.d.clock.now()

        def job(tx: OpenKindSending) -> SharedPacket:
            def effect() -> SharedPacket:
                if tx.verified_as(sender_id) != "celebrity":
                    raise not_verified()
                return self._create(tx, PacketKind.CELEBRITY, split_how, sender_id, total, count, text, now,
                                    [], {}, code_taken=phrase_taken)

            return once(tx, idem, effect, now=now)

        reply = await self.d.store.write(job)
        self.d.hooks.published("packet_sent", reply)
        return reply

    def _create(self, tx: OpenKindSending, kind: PacketKind, how: Split, sender_id: int, total: int, count: int,
                greeting: str, now: datetime, digests: Sequence[bytes], extra: dict[str, object],
                code_taken: Callable[[], HongbaoError]) -> SealedPacket:
        """`digests`: the secret's digest under the current key (stored and held), then under each older pepper's
        key (a live packet made before a rotation may hold the same secret under one of those)."""
        digest = digests[0] if digests else None
        if not all(tx.secret_free(d, now) for d in digests):
            raise code_taken()
        row = self.packets.create(tx, kind=kind, how=how, sender_id=sender_id, total_fen=total, shares_count=count,
                                  greeting=greeting, now=now, secret_hash=digest, extra=extra)
        if digest is not None and not tx.hold_secret(digest, row.view.id, now):
            raise code_taken()
        token = self.sharing.link_for(tx, row.view.id, sender_id, now)
        reply = cast(SealedPacket, sent_public(tx, row, sender_id))  # given its share_path here, and sealed
        reply["share_path"] = link_path(token)
        if "sealed" in extra:
            # unsealed for the sender after the commit; never stored in clear
            reply["sealed"] = cast(str, extra["sealed"])
        return reply

    @overload
    def _with_secret(self, reply: SealedPacket, keys: Sequence[bytes], name: Literal["code"]) -> CodePacket: ...

    @overload
    def _with_secret(self, reply: SealedPacket, keys: Sequence[bytes], name: Literal["phrase"]) -> PhrasePacket: ...

    def _with_secret(
        self, reply: SealedPacket, keys: Sequence[bytes], name: Literal["code", "phrase"]
    ) -> CodePacket | PhrasePacket:
        out: dict[str, object] = dict(reply)
        secret = unseal_with(keys, str(out.pop("sealed")))  # a retry's stored reply may predate a rotation
        if secret is None:
            raise secret_unreadable(name)
        out[name] = secret
        self.d.hooks.published("packet_sent", reply | {"sealed": None})
        return cast(CodePacket | PhrasePacket, out)  # `name`'s key added: the overload's shape

    async def blind(self, kind: SecretKind, value: str | None) -> str | None:
        """A request's code or phrase as its digest, for Idempotency-Key fingerprints (never hash secrets bare:
        a plain SHA-256 of a 6-digit code is reversed by trying a million codes)."""
        if value is None:
            return None
        try:
            text = clean_code(value, self.digits) if kind is SecretKind.CODE else normalize_phrase(value)
        except Rejected:
            return "invalid"
        return secret_digest(await self.key.ensure(), kind, text).hex()

    # ------------------------------------------------------------------ the sender sees the secret again

    async def secret_of(self, packet_id: int, user_id: int) -> dict[str, Any]:
        """The code or phrase of the sender's own packet; packet_not_found for anyone else."""
        row = await self._own(packet_id, user_id)
        name = {PacketKind.FACE_TO_FACE: "code", PacketKind.PASSWORD: "phrase"}.get(row.view.kind)
        if name is None or "sealed" not in row.view.extra:
            raise Rejected("This packet has no code or phrase.", code="nothing_to_embed")
        secret = unseal_with(await self.key.ensure_all(), str(row.view.extra["sealed"]))
        if secret is None:
            raise secret_unreadable(name)
        return {"packet_id": packet_id, "kind": row.view.kind.value, name: secret}

    async def own_kind(self, packet_id: int, user_id: int) -> PacketKind:
        return (await self._own(packet_id, user_id)).view.kind

    async def _own(self, packet_id: int, user_id: int) -> PacketRow:
        row: PacketRow | None = await self.d.store.read(lambda tx: tx.packet(packet_id))
        if row is None or row.view.sender_id != user_id:
            raise errors.packet_not_found()
        return row

    async def card_facts(self, packet_id: int, user_id: int) -> dict[str, Any]:
        """What the sender's password card shows: greeting, sender's name, the phrase."""
        row = await self._own(packet_id, user_id)
        if row.view.kind is not PacketKind.PASSWORD:
            raise Rejected("Only password packets have a card.", code="not_password")
        await self.key.ensure()
        return await self._card_facts(row, with_phrase=True)

    async def link_facts(self, token: str) -> dict[str, Any]:
        """What a share link's landing page and card may show: never the secret unless the sharer embedded it."""
        row, embedded = await self.sharing.resolve(token)
        if embedded:
            await self.key.ensure()
        facts = await self._card_facts(row, with_phrase=embedded)
        place = place_of(row.view.extra)
        facts.update(kind=row.view.kind, status=row.view.status.value, embedded=embedded,
                     asks_location=place is not None, radius_m=None if place is None else place.radius_m,
                     expired=row.view.expires_at <= self.d.clock.now())
        return facts

    async def _card_facts(self, row: PacketRow, *, with_phrase: bool) -> dict[str, Any]:
        sender = row.view.sender_id
        users = await self.d.store.read(lambda tx: tx.users_by_ids([sender]))
        return {
            "packet_id": row.view.id,
            "greeting": row.greeting,
            "sender": users[sender].display_name if sender in users else "",
            "secret": self.sealed_secret(row.view) if with_phrase else None,
        }

    def sealed_secret(self, view: PacketView) -> str | None:
        """The code or phrase of a packet in clear, for its sender's images; None if it has none (or it was sealed
        under a pepper since dropped: such a packet is long over)."""
        sealed = view.extra.get("sealed")
        return None if sealed is None else unseal_with(self.key.all(), str(sealed))

    # ------------------------------------------------------------------ claim by code, phrase or link

    async def open_by_code(
        self, user_id: int, code: object, *, address: str, lat: object = None, lng: object = None,
        channel: str = "app", platform: str = "direct", idem: IdempotencyKey | None = None,
    ) -> Opened:
        """面对面: open the live packet whose code this is."""
        text = clean_code(code, self.digits)
        return await self._open_by_secret(user_id, SecretKind.CODE, text, address, lat, lng, channel, platform, idem)

    async def open_by_phrase(
        self, user_id: int, phrase: object, *, address: str, channel: str = "app", platform: str = "direct",
        idem: IdempotencyKey | None = None,
    ) -> Opened:
        """口令: open the live packet whose phrase this is."""
        text = normalize_phrase(phrase)
        return await self._open_by_secret(user_id, SecretKind.PHRASE, text, address, None, None, channel, platform,
                                          idem)

    async def _open_by_secret(
        self, user_id: int, kind: SecretKind, text: str, address: str, lat: object, lng: object, channel: str,
        platform: str, idem: IdempotencyKey | None,
    ) -> Opened:
        where = None if lat is None and lng is None else check_coordinates(lat, lng)
        first = await self._first_answer(idem)
        if first is not None:
            return first
        keys = await self.key.ensure_all()
        now = self.d.clock.now()

        def lookup(tx: SecretLookup) -> tuple[int | None, int | None]:
            # The digest in the opener's world (a secret of another world is not found), under every key: a
            # packet made before a pepper rotation holds the one under its old key.
            world = tx.worlds_of([user_id]).get(user_id, OWN)
            digests = [secret_digest(k, kind, secret_in_world(text, world)) for k in keys]
            live = next((p for d in digests if (p := tx.live_packet_by_secret(d)) is not None), None)
            if live is not None:
                return (live if in_world(tx, live) else None), None
            finished = next((p for d in digests if (p := tx.finished_packet_by_secret(d, now)) is not None), None)
            return None, (finished if finished is not None and in_world(tx, finished) else None)

        def in_world(tx: SecretLookup, packet_id: int) -> bool:
            """A packet of another world's sender is answered as a wrong guess (service/worlds.py; a secret made
            before worlds scoped them could still be found from another world)."""
            row = tx.packet(packet_id)
            return row is not None and (row.view.sender_id == user_id or reachable(tx, user_id, row.view.sender_id))

        self.guesses.begin(user_id, address)
        failed = True
        try:
            live, finished = await self.d.store.read(lookup)
            if live is None:
                if finished is not None:
                    failed = False  # a real code or phrase, only too late: not a guess
                    raise errors.packet_exhausted()
                raise wrong_code() if kind is SecretKind.CODE else wrong_phrase()
            failed = False
        finally:
            self.guesses.end(user_id, address, failed=failed)
        return await self._open(live, user_id, text, where, channel, platform, idem)

    async def open_by_link(
        self, token: str, user_id: int, *, secret: object = None, lat: object = None, lng: object = None,
        address: str, channel: str = "web", platform: object = None, idem: IdempotencyKey | None = None,
    ) -> Opened:
        """Open the packet behind a share link: its secret is needed unless the sharer embedded it."""
        row, embedded = await self.sharing.resolve(token)
        where = None if lat is None and lng is None else check_coordinates(lat, lng)
        try:
            source = parse_platform(platform, required=False)
        except Rejected:
            source = "direct"
        view = row.view
        first = await self._first_answer(idem)
        if first is not None:
            return first
        text: str | None = None
        if view.secret_hash is not None:
            await self.key.ensure()
            if embedded:
                text = self.sealed_secret(view)
            else:
                self.guesses.begin(user_id, address)
                ok = False
                try:
                    text = (clean_code(secret, self.digits) if view.kind is PacketKind.FACE_TO_FACE
                            else normalize_phrase(secret))
                    ok = self.packets.audience(view.kind).secret_ok(view, Claimant(user_id, text))
                except Rejected:
                    ok = False
                finally:
                    self.guesses.end(user_id, address, failed=not ok)
                if not ok:
                    raise errors.wrong_code()
        return await self._open(view.id, user_id, text, where, channel, source, idem)

    async def _first_answer(self, idem: IdempotencyKey | None) -> Opened | None:
        """A retried claim gets its first answer before any lookup (the code may have gone since)."""
        first = await stored_reply(self.d.store, idem, StoredOpen)
        if first is None:
            return None
        return {"packet_id": first["packet_id"], "amount_fen": first["amount_fen"]}

    async def _open(self, packet_id: int, user_id: int, secret: str | None, where: tuple[float, float] | None,
                    channel: str, platform: str, idem: IdempotencyKey | None) -> Opened:
        row: PacketRow | None = await self.d.store.read(lambda tx: tx.packet(packet_id))
        if row is not None and row.view.kind is PacketKind.FACE_TO_FACE:
            place: Place | None = place_of(row.view.extra)
            check_distance(place, where)  # early answer; confirm decides again inside the atomic step
        return await self.sharing.attributed(
            packet_id, user_id, platform, channel,
            lambda: self.packets.open(packet_id, user_id, idem, secret=secret, location=where, channel=channel),
        )
