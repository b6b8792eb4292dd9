"""What the use cases answer, one module per area: TypedDicts, so the replies stay plain dicts at runtime (stored
as JSON for idempotency and replayed) while mypy checks every key a use case writes and its reader reads.

They live apart from the use cases so that the API, the CLI and the tests can name a reply's shape without
importing the use case, and so that one test (tests/unit/test_results_match_models.py) can set each beside the
API's response model: the two key sets must be equal."""
