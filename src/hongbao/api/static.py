"""The browser app's files under a content-versioned prefix, so an upgrade never leaves a browser on stale JS.

At startup the static tree is hashed once; its files are served at /static/v/<digest>/… as immutable
(cached for a year), and index.html is rendered with that prefix and served `no-cache`.  The JS modules
import each other by relative paths, so every module is versioned with no build step.  /static/… keeps
working with a short cache (for pages loaded before the upgrade); an unknown digest is a 404, and the app
reloads itself when a module it asks for is gone (js/version.js).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

DIGEST_CHARS = 12  # 48 bits: a collision between two releases is not a concern
IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=300"
VERSIONED_ROOT = "/static/v"


def tree_digest(directory: Path) -> str:
    """A short hex digest of every file's path and bytes under `directory` (any change gives another)."""
    sha = hashlib.sha256()
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        name = path.relative_to(directory).as_posix().encode()
        body = path.read_bytes()
        # Lengths first, so no two trees' byte streams can run together into the same input.
        sha.update(b"%d:%s%d:" % (len(name), name, len(body)))
        sha.update(body)
    return sha.hexdigest()[:DIGEST_CHARS]


class CachedStaticFiles(StaticFiles):
    """StaticFiles whose answers (200 and 304 alike) carry one Cache-Control header."""

    def __init__(self, *, directory: str | os.PathLike[str], cache_control: str) -> None:
        super().__init__(directory=directory, check_dir=False)
        self.cache_control = cache_control

    def file_response(
        self, full_path: str | os.PathLike[str], stat_result: os.stat_result, scope: Scope, status_code: int = 200
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Cache-Control"] = self.cache_control
        return response


@dataclass(frozen=True)
class WebApp:
    """The page and the versioned prefix of one server's static tree, computed once at startup."""

    prefix: str  # e.g. /static/v/3f2a9c0d1e4b
    index_html: str

    @classmethod
    def load(cls, web: Path) -> WebApp:
        prefix = f"{VERSIONED_ROOT}/{tree_digest(web / 'static')}"
        page = (web / "index.html").read_text(encoding="utf-8")
        # index.html names its files as "/static/…" (it still works when opened unrendered).
        return cls(prefix=prefix, index_html=page.replace('"/static/', f'"{prefix}/'))

    def page(self) -> Response:
        """index.html, which every browser must revalidate: it names this release's prefix."""
        return Response(self.index_html, media_type="text/html", headers={"Cache-Control": "no-cache"})


__all__ = ["IMMUTABLE", "SHORT", "CachedStaticFiles", "WebApp", "tree_digest"]
