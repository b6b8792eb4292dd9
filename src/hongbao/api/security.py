"""Security headers on every response: a Content-Security-Policy, nosniff, no framing, no referrer.

* Pages (text/html) get a CSP that allows this origin's scripts and styles only; the inline `<script>` and
  `<style>` blocks of a page we render (the share landing page /s/{token}) are allowed by their sha256, computed
  from the page itself, so no route has to know about the policy and nothing else inline can run.
* /docs and /redoc load Swagger UI and ReDoc from this origin (api/docs.py); both set inline styles and ReDoc
  runs a worker from a blob: URL, so their CSP allows those and nothing from another origin.
* Everything else (JSON, problem+json, static files, event streams) gets `default-src 'none'`: a document an
  attacker tricks a browser into rendering from the API can run nothing.
* Images are left embeddable (a password card may be shown on another site): they get nosniff and the
  referrer policy only.
* `Referrer-Policy: no-referrer` everywhere: share links carry their token in the path, and it must not leak to
  the next site (logos from other hosts are loaded with no referrer too).
"""

from __future__ import annotations

import base64
import hashlib
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_APP_CSP = (
    "default-src 'self'; script-src 'self'{scripts}; style-src 'self'{styles}; "
    # Campaign and shake logos are https URLs of the owner's choice; share cards are blob: URLs.
    "img-src 'self' data: blob: https:; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
_DOCS_CSP = (
    "default-src 'self'; script-src 'self'{scripts}; style-src 'self' 'unsafe-inline'; font-src 'self'; "
    "img-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
API_CSP = b"default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
DOCS_PATHS = ("/docs", "/redoc")
PAGE_BYTES_MAX = 1_048_576  # pages we render are a few KB; a bigger one is sent without inline hashes
_INLINE = re.compile(rb"<(script|style)(\s[^>]*)?>(.*?)</\1>", re.DOTALL | re.IGNORECASE)
_COMMON = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]
_NO_FRAMING = (b"x-frame-options", b"DENY")
# ASGI header names are lower-case (Starlette and uvicorn both send them so).
_OURS = frozenset({b"x-content-type-options", b"referrer-policy", b"x-frame-options", b"content-security-policy"})


def inline_hashes(page: bytes) -> tuple[list[str], list[str]]:
    """The CSP sources ('sha256-…') of a page's inline scripts and inline styles."""
    scripts: list[str] = []
    styles: list[str] = []
    for found in _INLINE.finditer(page):
        tag, attrs, text = found.group(1).lower(), found.group(2) or b"", found.group(3)
        if tag == b"script" and b"src=" in attrs.lower():
            continue
        source = "'sha256-" + base64.b64encode(hashlib.sha256(text).digest()).decode() + "'"
        (scripts if tag == b"script" else styles).append(source)
    return scripts, styles


def page_csp(path: str, page: bytes) -> bytes:
    scripts, styles = inline_hashes(page)
    template = _DOCS_CSP if path.startswith(DOCS_PATHS) else _APP_CSP
    return template.format(
        scripts="".join(" " + s for s in dict.fromkeys(scripts)),
        styles="".join(" " + s for s in dict.fromkeys(styles)),
    ).encode()


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        held: Message | None = None  # an HTML page's head, held until its body is complete (for the hashes)
        chunks: list[bytes] = []

        async def secured_send(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                kind = b""
                ours: set[bytes] = set()  # our headers the app already set (none today): the app's win
                for name, value in headers:
                    if name == b"content-type":
                        kind = value
                    elif name in _OURS:
                        ours.add(name)
                headers += [h for h in _COMMON if h[0] not in ours] if ours else _COMMON
                if kind.startswith(b"image/"):
                    await send({**message, "headers": headers})
                    return
                if _NO_FRAMING[0] not in ours:
                    headers.append(_NO_FRAMING)
                if b"content-security-policy" in ours:
                    await send({**message, "headers": headers})
                elif kind.startswith(b"text/html"):
                    held = {**message, "headers": headers}
                else:
                    headers.append((b"content-security-policy", API_CSP))
                    await send({**message, "headers": headers})
                return
            if held is None or message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
            size = sum(map(len, chunks))
            if more and size <= PAGE_BYTES_MAX:
                return
            page = b"".join(chunks)
            csp = page_csp(path, page if size <= PAGE_BYTES_MAX else b"")
            start, held = held, None
            await send({**start, "headers": [*start["headers"], (b"content-security-policy", csp)]})
            await send({"type": "http.response.body", "body": page, "more_body": more})

        await self.app(scope, receive, secured_send)

