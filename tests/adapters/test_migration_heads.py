"""The migrations form one line: a branch (two engineers each adding a revision on the same parent) is merged before
it lands, so the next revision has one parent to name and `alembic downgrade -1` means one thing."""

from __future__ import annotations

from alembic.script import ScriptDirectory

from hongbao.adapters.sql.migrate import alembic_config


def test_the_migrations_have_exactly_one_head() -> None:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert len(heads) == 1, f"several heads {heads}: add a merge revision (see 0007, 0013)"
