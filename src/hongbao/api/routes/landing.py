"""The landing page of a share link (/s/{token}): an HTML page any browser opens, and a password packet's card.

Not part of the API's schema: a person follows the link, and the page opens the packet through the API.
"""

from __future__ import annotations

import html
from typing import Any

import orjson
from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, Response

from hongbao.adapters import images
from hongbao.api.deps import AppDep
from hongbao.api.openapi import operation_id
from hongbao.api.routes.open_kinds import ChannelHeader, client_channel
from hongbao.domain.errors import HongbaoError, Rejected
from hongbao.domain.open_kinds import PLATFORM_NAMES, Platform, parse_platform
from hongbao.domain.packets import PacketKind

router = APIRouter(tags=["open packets"], generate_unique_id_function=operation_id)


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
        how = client_channel(channel_header, channel, "web")
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
