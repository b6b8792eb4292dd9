"""A served process tunes its garbage collector from start to stop (hongbao/gc_tuned.py); an app a test or a tool
builds leaves it as it was."""

from __future__ import annotations

import gc

from tests.api.conftest import TestClient

from hongbao.api.app import create_app
from hongbao.bootstrap import App
from hongbao.gc_tuned import GC_THRESHOLDS


def test_a_served_app_freezes_what_lives_at_its_start_and_collects_less_often_until_it_stops(hb: App) -> None:
    before = gc.get_threshold()
    with TestClient(create_app(hb, scheduler=False, tune_gc=True)) as client:
        assert client.get("/health").status_code == 200
        assert gc.get_threshold() == GC_THRESHOLDS
        assert gc.get_freeze_count() > 10_000  # the modules and the App: left out of every full pass
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_an_app_built_without_tune_gc_leaves_the_collector_alone(hb: App) -> None:
    before = gc.get_threshold()
    with TestClient(create_app(hb, scheduler=False)) as client:
        assert client.get("/health").status_code == 200
        assert gc.get_threshold() == before
        assert gc.get_freeze_count() == 0
