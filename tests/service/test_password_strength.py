"""Minimum password strength (service/passwords.py): long enough, not the username, not a common password."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from hongbao.bootstrap import App, build
from hongbao.domain.errors import Rejected
from hongbao.seed import DEMO_PASSWORD, DEMO_USERS, seed_demo
from hongbao.service.passwords import check_new_password, common_passwords
from tests.conftest import fast_settings


@pytest.mark.parametrize("password", ["12345678", "password1", "Password1", "PASSWORD1", "iloveyou", "qwertyuiop"])
def test_a_common_password_is_refused_whatever_its_case(password: str) -> None:
    with pytest.raises(Rejected) as refused:
        check_new_password(password, "alice")

    assert refused.value.code == "weak_password"
    assert "common" in refused.value.detail


@pytest.mark.parametrize("password", ["1234567", "", "x" * 257])
def test_a_password_too_short_or_too_long_is_refused(password: str) -> None:
    with pytest.raises(Rejected) as refused:
        check_new_password(password, "alice")

    assert refused.value.code == "weak_password"


def test_the_username_is_not_a_password() -> None:
    with pytest.raises(Rejected) as refused:
        check_new_password("Alice_2026", "alice_2026")

    assert refused.value.code == "weak_password"


@pytest.mark.parametrize("password", ["hongbao123", "correct horse battery", "红包恭喜发财2026"])
def test_an_uncommon_password_of_eight_or_more_characters_is_accepted(password: str) -> None:
    assert check_new_password(password, "alice") == password


def test_the_shipped_list_has_thousands_of_lower_cased_passwords_and_not_the_demo_one() -> None:
    common = common_passwords()

    assert len(common) > 5_000
    assert all(p == p.lower() and len(p) >= 8 for p in common)
    assert DEMO_PASSWORD not in common


def test_registration_refuses_a_common_password_and_demo_seeding_still_works(tmp_path: Path) -> None:
    app: App = build(fast_settings(database_url=f"sqlite:///{tmp_path / 'hongbao.db'}", data_dir=tmp_path))
    try:
        with pytest.raises(Rejected) as refused:
            asyncio.run(app.users.register("mallory", "12345678"))
        assert refused.value.code == "weak_password"

        assert asyncio.run(seed_demo(app)) == "created"
        session = asyncio.run(app.users.login(DEMO_USERS[0][0], DEMO_PASSWORD))
        assert session.user_id > 0
    finally:
        app.close()
