"""Use cases: register, top up, befriend, send, grab, open, expire. They orchestrate domain rules and ports."""
