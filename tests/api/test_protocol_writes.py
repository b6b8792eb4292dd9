"""How a response reaches the socket through `HeadWithBody` (api/protocol.py): a small answer's head and body in one
write, a streamed answer's head at once.  The transport here records writes; the real server is test_edge_server.py's.
"""

from __future__ import annotations

from hongbao.api.protocol import HeadWithBody

FIXED_HEAD = b"HTTP/1.1 409 Conflict\r\ncontent-type: application/problem+json\r\ncontent-length: 5\r\n\r\n"
STREAM_HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"


class Recorded:
    """What a connection's transport was asked to do, in order."""

    def __init__(self) -> None:
        self.calls: list[bytes | str] = []
        self.closing = False

    def write(self, data: bytes) -> None:
        self.calls.append(data)

    def close(self) -> None:
        self.calls.append("close")
        self.closing = True

    def is_closing(self) -> bool:
        return self.closing

    def get_extra_info(self, name: str) -> str:
        return f"extra:{name}"


def test_a_fixed_length_answer_goes_out_in_one_write() -> None:
    transport = Recorded()
    cycle_view = HeadWithBody(transport)  # type: ignore[arg-type]

    cycle_view.write(FIXED_HEAD)
    cycle_view.write(b"oops!")

    assert transport.calls == [FIXED_HEAD + b"oops!"]


def test_a_streamed_answer_has_its_head_written_at_once_and_each_chunk_after() -> None:
    transport = Recorded()
    cycle_view = HeadWithBody(transport)  # type: ignore[arg-type]

    cycle_view.write(STREAM_HEAD)
    assert transport.calls == [STREAM_HEAD]  # an event stream's client sees 200 before the first event

    cycle_view.write(b"5\r\nhello\r\n")
    assert transport.calls == [STREAM_HEAD, b"5\r\nhello\r\n"]


def test_a_100_continue_goes_at_once_and_the_answer_after_it_is_still_joined() -> None:
    transport = Recorded()
    cycle_view = HeadWithBody(transport)  # type: ignore[arg-type]

    cycle_view.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    cycle_view.write(FIXED_HEAD)
    cycle_view.write(b"oops!")

    assert transport.calls == [b"HTTP/1.1 100 Continue\r\n\r\n", FIXED_HEAD + b"oops!"]


def test_closing_writes_a_held_head_first() -> None:
    # an app that started a fixed-length answer and then failed: uvicorn closes the connection
    transport = Recorded()
    cycle_view = HeadWithBody(transport)  # type: ignore[arg-type]

    cycle_view.write(FIXED_HEAD)
    cycle_view.close()

    assert transport.calls == [FIXED_HEAD, "close"]
    assert cycle_view.is_closing()


def test_later_writes_of_the_same_answer_go_straight_through() -> None:
    transport = Recorded()
    cycle_view = HeadWithBody(transport)  # type: ignore[arg-type]

    cycle_view.write(FIXED_HEAD.replace(b"5", b"10"))
    cycle_view.write(b"first")
    cycle_view.write(b"again")

    assert transport.calls == [FIXED_HEAD.replace(b"5", b"10") + b"first", b"again"]
    assert cycle_view.get_extra_info("peername") == "extra:peername"  # the rest is the transport's own
