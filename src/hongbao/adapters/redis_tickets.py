"""Shake win-ticket batches decided by Redis (scaled mode): one Lua script per batch, no write to the database.

A round's counters live in one hash per event and round: each pool's fen left and each prize's tickets left,
set from the database the first time a process asks in that round (HSETNX: the first one wins) and taken by the
script atomically, so processes never draw the same prize twice from Redis.  The database stays the judge of money:
a winner is paid by the conditional UPDATE on the pool's budget, so whatever Redis hands out (after a restart or a
flush it starts again from the database's figures) no pool is overspent; a winner whose ticket the database
refuses hears "nothing".  Tickets not used go back into the hash at round end and at process stop; those of a
crashed process are lost to its round only (the next round starts from the database's figures).
"""

from __future__ import annotations

from typing import Any

from hongbao.adapters.redis_shared import connect

GRANT = """
local out = {}
for i = 2, #ARGV, 6 do
  local bf, cf, amount, n = ARGV[i], ARGV[i + 2], tonumber(ARGV[i + 4]), tonumber(ARGV[i + 5])
  redis.call('HSETNX', KEYS[1], bf, ARGV[i + 1])
  redis.call('HSETNX', KEYS[1], cf, ARGV[i + 3])
  local budget = tonumber(redis.call('HGET', KEYS[1], bf))
  local count = tonumber(redis.call('HGET', KEYS[1], cf))
  local granted = n
  if amount > 0 then granted = math.min(granted, math.floor(budget / amount)) end
  if count >= 0 then granted = math.min(granted, count) end
  if granted < 0 then granted = 0 end
  if granted > 0 then
    redis.call('HINCRBY', KEYS[1], bf, -granted * amount)
    if count >= 0 then redis.call('HINCRBY', KEYS[1], cf, -granted) end
  end
  out[#out + 1] = granted
end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1]))
return out
"""

GIVE_BACK = """
for i = 1, #ARGV, 4 do
  if redis.call('HEXISTS', KEYS[1], ARGV[i]) == 1 then redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1]) end
  local count = tonumber(redis.call('HGET', KEYS[1], ARGV[i + 2]))
  if count ~= nil and count >= 0 then redis.call('HINCRBY', KEYS[1], ARGV[i + 2], ARGV[i + 3]) end
end
return 1
"""


class RedisTickets:
    """The round's counters in Redis (sync client: called once per batch, from a worker thread)."""

    def __init__(self, url: str, prefix: str = "hongbao:", *, ttl_s: int = 86_400) -> None:
        self.r: Any = connect(url, timeout_s=2.0, retries=1)  # one Redis or a Redis Cluster (redis+cluster://)
        self.prefix = prefix
        self.ttl_s = ttl_s
        self._grant = self.r.register_script(GRANT)
        self._give_back = self.r.register_script(GIVE_BACK)

    def key(self, event_id: int, round_seq: int) -> str:
        return f"{self.prefix}shake:{{{event_id}}}:round:{round_seq}"

    def grant(self, event_id: int, round_seq: int, wanted: list[tuple[int, int, int, int, int, int]]) -> list[int]:
        """`wanted`: (pool, fen left in the database, prize, tickets left in the database or -1, fen each, n);
        returns the tickets granted for each."""
        argv: list[Any] = [self.ttl_s]
        for pool, budget_left, prize, count_left, amount, n in wanted:
            argv += [f"p{pool}", budget_left, f"c{prize}", count_left, amount, n]
        return [int(g) for g in self._grant(keys=[self.key(event_id, round_seq)], args=argv)]

    def give_back(self, event_id: int, round_seq: int, returned: list[tuple[int, int, int, int]]) -> None:
        """`returned`: (pool, fen, prize, tickets) not used; a round whose counters are gone takes nothing back."""
        argv: list[Any] = []
        for pool, fen, prize, n in returned:
            argv += [f"p{pool}", fen, f"c{prize}", n]
        if argv:
            self._give_back(keys=[self.key(event_id, round_seq)], args=argv)

    def close(self) -> None:
        self.r.close()
