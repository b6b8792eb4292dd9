"""The batch loader: keys asked for while a read is in flight share the next read; errors and cancels stay local."""

from __future__ import annotations

import asyncio

import pytest

from hongbao.service.batch import BatchLoader


class Source:
    """A store stand-in that records each batch it is asked for and answers when released."""

    def __init__(self, rows: dict[str, int]) -> None:
        self.rows = rows
        self.batches: list[list[str]] = []
        self.release = asyncio.Event()
        self.fail_next = False

    async def load_many(self, keys: list[str]) -> dict[str, int]:
        self.batches.append(list(keys))
        await self.release.wait()
        if self.fail_next:
            self.fail_next = False
            raise OSError("store down")
        return {k: self.rows[k] for k in keys if k in self.rows}


def test_keys_asked_for_during_a_read_are_all_answered_by_the_next_single_read() -> None:
    async def scenario() -> tuple[list[int | None], list[list[str]]]:
        source = Source({f"k{i}": i for i in range(50)})
        loader = BatchLoader(source.load_many)
        first = asyncio.create_task(loader.get("k0"))
        await asyncio.sleep(0)  # the first read is now in flight
        rest = [asyncio.create_task(loader.get(f"k{i}")) for i in range(1, 50)]
        missing = asyncio.create_task(loader.get("nobody"))
        await asyncio.sleep(0)
        source.release.set()
        return [await first, *[await r for r in rest], await missing], source.batches

    answers, batches = asyncio.run(scenario())

    assert answers == [*range(50), None]
    assert batches == [["k0"], [f"k{i}" for i in range(1, 50)] + ["nobody"]]


def test_the_same_key_asked_twice_at_once_is_read_once() -> None:
    async def scenario() -> tuple[int | None, int | None, list[list[str]]]:
        source = Source({"a": 1})
        loader = BatchLoader(source.load_many)
        one, two = asyncio.create_task(loader.get("a")), asyncio.create_task(loader.get("a"))
        await asyncio.sleep(0)
        source.release.set()
        return await one, await two, source.batches

    assert asyncio.run(scenario()) == (1, 1, [["a"]])


def test_a_batch_larger_than_keys_max_is_read_in_several_reads() -> None:
    async def scenario() -> tuple[list[int | None], list[list[str]]]:
        source = Source({f"k{i}": i for i in range(7)})
        source.release.set()
        loader = BatchLoader(source.load_many, keys_max=3)
        answers = await asyncio.gather(*(loader.get(f"k{i}") for i in range(7)))
        return list(answers), source.batches

    answers, batches = asyncio.run(scenario())

    assert answers == list(range(7))
    assert [len(b) for b in batches] == [3, 3, 1]


def test_a_failed_read_fails_only_its_own_batch_and_the_next_read_works() -> None:
    async def scenario() -> tuple[list[BaseException | int | None], int | None]:
        source = Source({"a": 1, "b": 2})
        source.fail_next = True
        loader = BatchLoader(source.load_many)
        tasks = [asyncio.create_task(loader.get(k)) for k in ("a", "b")]
        await asyncio.sleep(0)
        source.release.set()
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        return list(outcomes), await loader.get("b")

    outcomes, after = asyncio.run(scenario())

    assert all(isinstance(o, OSError) for o in outcomes)
    assert after == 2


def test_a_caller_that_gives_up_does_not_cancel_the_answer_of_another_caller_with_the_same_key() -> None:
    async def scenario() -> int | None:
        source = Source({"a": 1})
        loader = BatchLoader(source.load_many)
        quitter, stayer = asyncio.create_task(loader.get("a")), asyncio.create_task(loader.get("a"))
        await asyncio.sleep(0)
        quitter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await quitter
        source.release.set()
        return await stayer

    assert asyncio.run(scenario()) == 1
