"""ASGI entry point for multi-process serving: `uvicorn --factory hongbao.api.asgi:app_from_env`.

Each worker process builds its own app from HONGBAO_* settings (the schema is migrated by the parent).
"""

from __future__ import annotations

from fastapi import FastAPI

from hongbao.api.app import create_app
from hongbao.bootstrap import build
from hongbao.config import Settings
from hongbao.logs import configure as configure_logging


def app_from_env() -> FastAPI:
    settings = Settings()
    configure_logging(settings.log_format, settings.log_level)
    return create_app(build(settings, migrate_schema=False), close_on_shutdown=True, tune_gc=True)
