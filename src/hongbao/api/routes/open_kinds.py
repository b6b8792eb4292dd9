"""Face-to-face, password and celebrity packets: send, claim by code or phrase, images, share links, landing pages."""

from __future__ import annotations

import html
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Header, Path, Query, Request, status
from pydantic import Field, StrictBool, StrictStr
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, Response

from hongbao.adapters import images
from hongbao.api.deps import AppDep, CurrentUser, IdempotencyKeyHeader, PathId
from hongbao.api.openapi import PNG, operation_id
from hongbao.api.schemas import OpenPublic, Strict
from hongbao.api.schemas_open import (
    CodePacketCreated,
    OpenPacketCreated,
    PasswordPacketCreated,
    SecretPublic,
    ShareFigures,
    SharePublic,
)
from hongbao.api.types import Fen, Int, Number
from hongbao.domain.errors import HongbaoError, Rejected
from hongbao.domain.open_kinds import PLATFORM_NAMES, Platform, SecretKind, parse_channel, parse_platform
from hongbao.domain.packets import PacketKind
from hongbao.service.idempotency import IdempotencyKey
from hongbao.service.sharing import link_path

router = APIRouter(tags=["open packets"], generate_unique_id_function=operation_id)

Coordinate = Number
SplitName = Literal["equal", "double_mean", "line_cut"]
Token = Annotated[str, Path(min_length=8, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]
ChannelHeader = Annotated[str | None, Header(alias="X-Client-Channel", description="app or web")]


class _SplitBody(Strict):
    split: SplitName = Field(description="equal: amount_each_fen × shares_count; double_mean or line_cut: total_fen")
    shares_count: Int = Field(examples=[10])
    total_fen: Fen | None = None
    amount_each_fen: Fen | None = None
    greeting: StrictStr | None = Field(default=None, max_length=1024, examples=["恭喜发财"])


class FaceToFaceCreate(_SplitBody):
    lat: Coordinate | None = Field(default=None, description="the sender's latitude, for a distance check")
    lng: Coordinate | None = None
    radius_m: Int | None = Field(default=None, description="claimers must stand this close (10–10,000 m)")


class PasswordCreate(_SplitBody):
    phrase: StrictStr = Field(max_length=256, examples=["马到成功"])


class CelebrityCreate(_SplitBody):
    pass


class CodeOpen(Strict):
    code: StrictStr = Field(max_length=64, examples=["428193"])
    lat: Coordinate | None = None
    lng: Coordinate | None = None
    platform: StrictStr | None = Field(default=None, max_length=16)


class PhraseOpen(Strict):
    phrase: StrictStr = Field(max_length=256, examples=["马到成功"])
    platform: StrictStr | None = Field(default=None, max_length=16)


class LinkOpen(Strict):
    secret: StrictStr | None = Field(default=None, max_length=256, description="the code or phrase, if not embedded")
    lat: Coordinate | None = None
    lng: Coordinate | None = None
    platform: StrictStr | None = Field(default=None, max_length=16)


class ShareCreate(Strict):
    platform: StrictStr = Field(examples=["wechat"], max_length=16)
    embed_secret: StrictBool = Field(default=False, description="put the code or phrase in the link's page")


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _channel(header: str | None, query: str | None, default: str = "app") -> str:
    return parse_channel(header if header is not None else query, default)


def _base(request: Request, app: AppDep) -> str:
    return (app.settings.public_url or str(request.base_url)).rstrip("/")


def _json(reply: dict[str, Any], code: int = 200) -> Response:
    return Response(orjson.dumps(reply), status_code=code, media_type="application/json")


# ---------------------------------------------------------------------- send


@router.post("/v1/packets/face-to-face", status_code=status.HTTP_201_CREATED, response_model=CodePacketCreated)
async def send_face_to_face(
    body: FaceToFaceCreate, request: Request, app: AppDep, user_id: CurrentUser, key: IdempotencyKeyHeader = None
) -> Response:
    """面对面红包: anyone who enters its code (shown only to you) may open it; optionally only within radius_m."""
    idem = IdempotencyKey.of(user_id, key, "face_to_face", body.model_dump())
    reply = await app.open_kinds.send_face_to_face(
        user_id, how=body.split, shares_count=body.shares_count, total_fen=body.total_fen,
        amount_each_fen=body.amount_each_fen, greeting=body.greeting, lat=body.lat, lng=body.lng,
        radius_m=body.radius_m, idem=idem,
    )
    reply["share_url"] = _base(request, app) + reply["share_path"]
    return _json(reply, 201)


@router.post("/v1/packets/password", status_code=status.HTTP_201_CREATED, response_model=PasswordPacketCreated)
async def send_password(
    body: PasswordCreate, request: Request, app: AppDep, user_id: CurrentUser, key: IdempotencyKeyHeader = None
) -> Response:
    """口令红包: anyone who types the phrase may open it; a phrase is unique among live packets."""
    fingerprint = {**body.model_dump(), "phrase": await app.open_kinds.blind(SecretKind.PHRASE, body.phrase)}
    idem = IdempotencyKey.of(user_id, key, "password", fingerprint)
    reply = await app.open_kinds.send_password(
        user_id, phrase=body.phrase, how=body.split, shares_count=body.shares_count, total_fen=body.total_fen,
        amount_each_fen=body.amount_each_fen, greeting=body.greeting, idem=idem,
    )
    reply["share_url"] = _base(request, app) + reply["share_path"]
    return _json(reply, 201)


@router.post("/v1/packets/celebrity", status_code=status.HTTP_201_CREATED, response_model=OpenPacketCreated)
async def send_celebrity(
    body: CelebrityCreate, request: Request, app: AppDep, user_id: CurrentUser, key: IdempotencyKeyHeader = None
) -> Response:
    """明星红包: a verified celebrity's packet for their followers, with very many shares."""
    idem = IdempotencyKey.of(user_id, key, "celebrity", body.model_dump())
    reply = await app.open_kinds.send_celebrity(
        user_id, how=body.split, shares_count=body.shares_count, total_fen=body.total_fen,
        amount_each_fen=body.amount_each_fen, greeting=body.greeting, idem=idem,
    )
    reply["share_url"] = _base(request, app) + reply["share_path"]
    return _json(reply, 201)


# ---------------------------------------------------------------------- claim


@router.post("/v1/codes/open", response_model=OpenPublic)
async def open_by_code(
    body: CodeOpen, request: Request, app: AppDep, user_id: CurrentUser, key: IdempotencyKeyHeader = None,
    channel_header: ChannelHeader = None, channel: str | None = Query(None, max_length=8),
) -> Response:
    """Open a face-to-face packet by its code. Wrong code: 404 wrong_code; too many wrong guesses: 429."""
    fingerprint = {**body.model_dump(), "code": await app.open_kinds.blind(SecretKind.CODE, body.code)}
    idem = IdempotencyKey.of(user_id, key, "open_code", fingerprint)
    reply = await app.open_kinds.open_by_code(
        user_id, body.code, address=_address(request), lat=body.lat, lng=body.lng,
        channel=_channel(channel_header, channel), platform=_platform(body.platform), idem=idem,
    )
    return _json(reply)


@router.post("/v1/phrases/open", response_model=OpenPublic)
async def open_by_phrase(
    body: PhraseOpen, request: Request, app: AppDep, user_id: CurrentUser, key: IdempotencyKeyHeader = None,
    channel_header: ChannelHeader = None, channel: str | None = Query(None, max_length=8),
) -> Response:
    """Open a password packet by its phrase. Wrong phrase: 404 wrong_phrase; too many wrong guesses: 429."""
    fingerprint = {**body.model_dump(), "phrase": await app.open_kinds.blind(SecretKind.PHRASE, body.phrase)}
    idem = IdempotencyKey.of(user_id, key, "open_phrase", fingerprint)
    reply = await app.open_kinds.open_by_phrase(
        user_id, body.phrase, address=_address(request), channel=_channel(channel_header, channel),
        platform=_platform(body.platform), idem=idem,
    )
    return _json(reply)


@router.post("/v1/shares/{token}/open", response_model=OpenPublic)
async def open_by_link(
    token: Token, body: LinkOpen, request: Request, app: AppDep, user_id: CurrentUser,
    key: IdempotencyKeyHeader = None, channel_header: ChannelHeader = None,
    channel: str | None = Query(None, max_length=8),
) -> Response:
    """Open the packet behind a share link (its code or phrase in `secret`, unless the sharer embedded it)."""
    # The secret's kind is unknown before the token is resolved: blind it both ways.
    blinded = [await app.open_kinds.blind(k, body.secret) for k in (SecretKind.CODE, SecretKind.PHRASE)]
    idem = IdempotencyKey.of(user_id, key, "open_link", [token, {**body.model_dump(), "secret": blinded}])
    reply = await app.open_kinds.open_by_link(
        token, user_id, secret=body.secret, lat=body.lat, lng=body.lng, address=_address(request),
        channel=_channel(channel_header, channel, "web"), platform=body.platform, idem=idem,
    )
    return _json(reply)


def _platform(value: str | None) -> str:
    return parse_platform(value, required=False)


# ---------------------------------------------------------------------- the sender's views


@router.get("/v1/packets/{packet_id}/secret", response_model=SecretPublic, response_model_exclude_unset=True)
async def secret(packet_id: PathId, app: AppDep, user_id: CurrentUser) -> dict[str, Any]:
    """The code or phrase of your own face-to-face or password packet (nobody else is ever shown it)."""
    return await app.open_kinds.secret_of(packet_id, user_id)


@router.get("/v1/packets/{packet_id}/qr.png", response_class=Response, responses=PNG)
async def qr(packet_id: PathId, request: Request, app: AppDep, user_id: CurrentUser) -> Response:
    """A QR image of your packet's link; for a face-to-face packet, scanning it opens the packet without the code."""
    kind = await app.open_kinds.own_kind(packet_id, user_id)
    link = await app.sharing.own_link(packet_id, user_id, embed_secret=kind is PacketKind.FACE_TO_FACE)
    png = await run_in_threadpool(images.qr_png, _base(request, app) + link["path"])
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, no-store"})


@router.get("/v1/packets/{packet_id}/card.png", response_class=Response, responses=PNG)
async def card(packet_id: PathId, app: AppDep, user_id: CurrentUser) -> Response:
    """The card of your password packet, with its phrase: share it where links are blocked."""
    facts = await app.open_kinds.card_facts(packet_id, user_id)
    png = await run_in_threadpool(
        lambda: images.card_png(greeting=facts["greeting"], sender=facts["sender"], phrase=facts["secret"])
    )
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, no-store"})


@router.post("/v1/packets/{packet_id}/shares", status_code=status.HTTP_201_CREATED, response_model=SharePublic)
async def share(
    packet_id: PathId, body: ShareCreate, request: Request, app: AppDep, user_id: CurrentUser,
    channel_header: ChannelHeader = None, channel: str | None = Query(None, max_length=8),
) -> dict[str, Any]:
    """Share your packet to a platform: its link /s/{token}?platform=…; the share is counted in the figures."""
    reply = await app.sharing.share(
        packet_id, user_id, platform=body.platform, channel=_channel(channel_header, channel),
        embed_secret=body.embed_secret,
    )
    reply["url"] = _base(request, app) + reply["path"]
    return reply


@router.get("/v1/packets/{packet_id}/figures", response_model=ShareFigures)
async def figures(packet_id: PathId, app: AppDep, user_id: CurrentUser) -> dict[str, Any]:
    """Shares, landing-page views and claims of your packet, by platform and by channel (app or web)."""
    return await app.sharing.figures(packet_id, user_id)


# ---------------------------------------------------------------------- landing pages


@router.get("/s/{token}", response_class=HTMLResponse, include_in_schema=False)
async def landing(
    token: str, app: AppDep, channel_header: ChannelHeader = None,
    platform: str | None = Query(None, max_length=16), channel: str | None = Query(None, max_length=8),
) -> HTMLResponse:
    try:
        facts = await app.open_kinds.link_facts(token)
    except HongbaoError:
        missing = "<p>这个链接无效。<br>This link does not lead to a red packet.</p>"
        return HTMLResponse(_page("红包不存在 · Not found", missing), status_code=404)
    try:
        where = parse_platform(platform, required=False)
        how = _channel(channel_header, channel, "web")
    except Rejected:
        where, how = "direct", "web"
    await app.sharing.viewed(facts["packet_id"], where, how)
    return HTMLResponse(_landing_html(token, where, facts), headers={"Cache-Control": "no-store"})


@router.get("/s/{token}/card.png", response_class=Response, include_in_schema=False)
async def landing_card(token: str, app: AppDep) -> Response:
    try:
        facts = await app.open_kinds.link_facts(token)
    except HongbaoError:
        return Response(status_code=404)
    if facts["kind"] is not PacketKind.PASSWORD:
        return Response(status_code=404)
    png = await run_in_threadpool(
        lambda: images.card_png(greeting=facts["greeting"], sender=facts["sender"], phrase=facts["secret"])
    )
    return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})


# format_fen (domain/money.py) for the landing page's script: integer fen to "¥12.34" by slicing its digits,
# never a float division (amounts are at most 2**53, so String(n) has every digit).
YUAN_JS = (
    "function yuan(n){const s=String(Math.abs(n)).padStart(3,'0');"
    "return (n<0?'-':'')+'¥'+s.slice(0,-2)+'.'+s.slice(-2)}"
)

KIND_NAMES = {
    PacketKind.FACE_TO_FACE: ("面对面红包", "Face-to-face red packet"),
    PacketKind.PASSWORD: ("口令红包", "Password red packet"),
    PacketKind.CELEBRITY: ("明星红包", "Celebrity red packet"),
    PacketKind.ENTERPRISE: ("企业红包", "Company red packet"),
}


def _page(title: str, body: str) -> str:
    return (
        "<!doctype html><html lang=zh><head><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width,initial-scale=1'>"
        f"<title>{html.escape(title)}</title><style>"
        "body{font-family:system-ui,'PingFang SC','Microsoft YaHei',sans-serif;background:#ce2029;color:#fff3d6;"
        "margin:0;padding:24px;text-align:center}main{max-width:28rem;margin:auto}h1{color:#f6c75e}"
        # Links read on red: gold and underlined, never the browser's dark blue (or purple once visited).
        "a,a:visited{color:#f6c75e;text-decoration:underline;text-underline-offset:.2em;font-weight:600}"
        "input,button{font-size:1.1rem;padding:.5rem;margin:.25rem;border-radius:.5rem;border:0}"
        "button{background:#f6c75e;color:#ce2029;font-weight:bold}img{max-width:min(100%,15rem);border-radius:1rem}"
        ".en{opacity:.8;font-size:.9rem}[hidden]{display:none!important}"
        "#claims{list-style:none;padding:0;margin:1rem 0;text-align:left;background:#fff3d6;color:#333;"
        "border-radius:1rem}#claims li{display:flex;justify-content:space-between;padding:.6rem 1rem;"
        "border-bottom:1px solid #f0d9b0}#claims li:last-child{border-bottom:0}#claims b{color:#b7791f}"
        "</style></head>"
        f"<body><main>{body}</main></body></html>"
    )


def _landing_html(token: str, platform: str, facts: dict[str, Any]) -> str:
    kind: PacketKind = facts["kind"]
    zh, en = KIND_NAMES.get(kind, ("红包", "Red packet"))
    e = html.escape
    in_app = f"/app/x/share?t={e(token)}" + ("" if platform == "direct" else f"&amp;platform={e(platform)}")
    parts = [f"<h1>{e(zh)}</h1><p class=en>{e(en)}</p>"]
    if platform != "direct":
        pzh, pen = PLATFORM_NAMES[Platform(platform)]
        parts.append(f"<p>来自{e(pzh)}的分享 <span class=en>· shared on {e(pen)}</span></p>")
    parts.append(f"<p>{e(facts['sender'])} 发来红包：<br><strong>“{e(facts['greeting'])}”</strong></p>")
    if facts["expired"] or facts["status"] != "active":
        parts.append("<p>红包已领完或已过期。<br><span class=en>This red packet is finished or expired.</span></p>")
        return _page(f"{zh} · {en}", "".join(parts))
    secret_field = ""
    if kind is PacketKind.PASSWORD:
        parts.append(f"<img src='/s/{e(token)}/card.png' alt='口令卡片 password card'>")
        if facts["secret"] is None:
            parts.append("<p>输入你收到的口令<br><span class=en>Type the phrase you were given</span></p>")
            secret_field = "<input name=secret placeholder='口令 phrase' required><br>"
        else:
            parts.append(f"<p>口令 · phrase: <strong>{e(facts['secret'])}</strong></p>")
    elif kind is PacketKind.FACE_TO_FACE:
        if facts["secret"] is None:
            parts.append("<p>输入面对面数字口令<br><span class=en>Enter the code the sender shows you</span></p>")
            secret_field = "<input name=secret inputmode=numeric placeholder='123456' required><br>"
        if facts["asks_location"]:
            parts.append(f"<p>需在发红包的人 {facts['radius_m']} 米内<br>"
                         f"<span class=en>You must be within {facts['radius_m']} m of the sender</span></p>")
    elif kind is PacketKind.CELEBRITY:
        parts.append("<p>关注后即可领取<br><span class=en>Followers may open it</span></p>")
    parts.append(
        "<form id=claim>" + secret_field
        + "<p id=as hidden></p><span id=login>"
        "<input name=username placeholder='用户名 username' required autocomplete=username><br>"
        "<input name=password type=password placeholder='密码 password' required autocomplete=current-password><br>"
        "</span><button>拆红包 · Open</button></form><p id=result role=status></p><ul id=claims hidden></ul>"
        f"<p><a id=in-app href='{in_app}'>在 App 中打开 · Open in the app</a></p>"
    )
    # A few lines of plain script (no framework). Someone logged in to the app on this device (its token in
    # localStorage, web/static/js/api.js) opens with that session, no second login; others log in here. Once
    # opened, the packet's claim list is shown and the link leads to the packet in the app.
    geo = "true" if facts["asks_location"] else "false"
    parts.append(
        "<script>const T=" + orjson.dumps(token).decode() + ",P=" + orjson.dumps(platform).decode()
        + ",ID=" + str(int(facts["packet_id"])) + ",GEO=" + geo + ";"
        "const $=i=>document.getElementById(i),f=$('claim'),r=$('result'),L=localStorage;"
        "const exp=Date.parse(L.getItem('hongbao.token_expires_at')||'');"
        "let tok=L.getItem('hongbao.token');if(Number.isFinite(exp)&&exp<=Date.now())tok=null;"
        "const me=tok?JSON.parse(L.getItem('hongbao.user')||'{}'):null;"
        "if(me){const nm=me.display_name||me.username;$('login').remove();$('as').hidden=false;"
        "$('as').textContent='以 '+nm+' 的身份领取 · opening as '+nm}"
        "const where=()=>new Promise(ok=>GEO&&navigator.geolocation?navigator.geolocation.getCurrentPosition("
        "p=>ok({lat:p.coords.latitude,lng:p.coords.longitude}),()=>ok({})):ok({}));"
        # A refusal in both languages, worded as the app words it (its own catalog, web/static/js/errors.js).
        "const say=async j=>{try{const m=await import('/static/js/errors.js');"
        "return [m.errorMessage(j,'zh'),m.errorMessage(j,'en')].filter(Boolean).join(' · ')||j.detail}"
        "catch{return j.detail||j.code}};"
        "async function claims(t){const g=await fetch('/v1/packets/'+ID,{headers:{authorization:'Bearer '+t}});"
        "if(!g.ok)return;const p=await g.json(),u=$('claims');u.replaceChildren();"
        "for(const c of p.claims||[]){const li=document.createElement('li'),n=document.createElement('span'),"
        "a=document.createElement('b');n.textContent=c.display_name+(c.best_luck?' · 手气最佳':'');"
        "a.textContent=yuan(c.amount_fen);li.append(n,a);u.append(li)}u.hidden=!u.children.length;"
        "$('in-app').href='/app/packet/'+ID+'?view=detail';$('in-app').textContent='在 App 中查看 · See it in the app'}"
        "f.onsubmit=async ev=>{ev.preventDefault();const d=new FormData(f);let t=tok,who=me&&me.id;"
        "if(!t){const s=await fetch('/v1/sessions',{method:'POST',headers:{'content-type':'application/json'},"
        "body:JSON.stringify({username:d.get('username'),password:d.get('password')})});"
        "if(!s.ok){r.textContent='用户名或密码错误 · wrong username or password';return}"
        "const j=await s.json();t=j.token;who=j.user_id}"
        "const b=Object.assign({platform:P==='direct'?null:P},await where());"
        "if(d.get('secret'))b.secret=d.get('secret');"
        "const o=await fetch('/v1/shares/'+T+'/open',{method:'POST',headers:{'content-type':'application/json',"
        "'authorization':'Bearer '+t,'x-client-channel':'web','idempotency-key':'web-'+T+'-'+who},"
        "body:JSON.stringify(b)});const j=await o.json();"
        "if(o.ok||j.code==='already_claimed'){f.hidden=true;"
        "r.textContent=o.ok?('恭喜！'+yuan(j.amount_fen)+' · you got it'):'你已经领过了 · you opened it already';"
        "await claims(t)}else r.textContent=await say(j)};" + YUAN_JS + "</script>"
    )
    return _page(f"{zh} · {en}", "".join(parts))


__all__ = ["link_path", "router"]
