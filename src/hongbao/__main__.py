"""`python -m hongbao …`: the `hongbao` command, where its script is not installed beside the interpreter."""

from hongbao.cli import app

app()
