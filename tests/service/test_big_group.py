"""A group of more than a thousand members, made in one request: every member is checked (a friend, in the
owner's world) with a read per 1,000, not three statements each, and one stranger still refuses the whole group."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from hongbao.bootstrap import build
from hongbao.domain.errors import HongbaoError
from tests.conftest import FrozenClock, fast_settings
from tests.service.helpers import PASSWORD

MEMBERS = 1_100  # past one IN list (1,000): the chunked reads must agree with one


@pytest.mark.slow
def test_a_group_past_a_thousand_friends_is_made_at_once_and_a_stranger_refuses_it(
    store_url: str, clock: FrozenClock, tmp_path: Path
) -> None:
    app = build(fast_settings(database_url=store_url, data_dir=tmp_path, group_members_max=MEMBERS + 2),
                clock=clock)  # fmt: skip

    async def go() -> None:
        owner = await app.users.register("owner", PASSWORD)
        members = list(await asyncio.gather(*(app.users.register(f"member{i}", PASSWORD) for i in range(MEMBERS))))
        stranger = await app.users.register("stranger", PASSWORD)
        await asyncio.gather(*(app.social.request_friend(owner, m) for m in members))
        await asyncio.gather(*(app.social.accept_friend(m, owner) for m in members))

        with pytest.raises(HongbaoError) as refused:
            await app.social.create_group(owner, "almost", [*members, stranger])
        assert refused.value.code == "not_friends"
        with pytest.raises(HongbaoError) as unknown:
            await app.social.create_group(owner, "almost", [*members, 10**9])
        assert unknown.value.code == "user_not_found"

        group = await app.social.create_group(owner, "everyone", members)
        assert sorted(m["id"] for m in group["members"]) == sorted([owner, *members])
        assert [g["name"] for g in await app.social.groups(owner)] == ["everyone"]  # the refused ones left none

    try:
        asyncio.run(go())
    finally:
        app.close()
