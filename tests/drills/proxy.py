"""A loopback TCP proxy in front of PostgreSQL that loses a COMMIT's reply (or the COMMIT itself) on purpose.

It reads just enough of the PostgreSQL wire protocol to see a client's COMMIT: after the untyped startup
packet every message is a type byte, an int32 length that counts itself, and a body; psycopg 3 (under
SQLAlchemy) commits with a simple Query, `Q` + length + b"COMMIT\\0".  When the fault policy picks a COMMIT:

    "reply"    the COMMIT goes to the server, the proxy waits for the server's answer up to ReadyForQuery
               (so the transaction really committed), then cuts both sockets without relaying that answer;
               the client sees a dead connection and cannot know that its transaction committed.
    "request"  both sockets are cut before the COMMIT is forwarded: the server rolls the transaction back.
    "reply_then_down"  as "reply", and then the database seems gone: every connection is cut and new ones
               are refused until `come_up` (an outcome the writer cannot ask about for a while).

Everything else is relayed byte for byte.  Threads, not asyncio: the drills drive it from a plain test.
"""

from __future__ import annotations

import contextlib
import random
import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

COMMIT_QUERY = b"COMMIT\x00"
SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104

Policy = Callable[[int], str | None]  # the commit's number (1, 2, …) → "reply", "request" or None (let it through)


def never(_: int) -> str | None:
    return None


def every_nth(n: int, mode: str = "reply") -> Policy:
    """Lose every `n`-th commit (the n-th, 2n-th, …) in `mode`."""
    return lambda number: mode if number % n == 0 else None


def seeded(seed: int, reply_rate: float, request_rate: float = 0.0) -> Policy:
    """Lose each commit's reply with probability `reply_rate` (its request with `request_rate`), from one seed."""
    rng = random.Random(seed)

    def pick(_: int) -> str | None:
        roll = rng.random()
        if roll < reply_rate:
            return "reply"
        if roll < reply_rate + request_rate:
            return "request"
        return None

    return pick


@dataclass
class ProxyCounts:
    """What the proxy did; the drills assert that faults were actually injected."""

    connections: int = 0
    commits: int = 0
    replies_cut: int = 0
    requests_cut: int = 0
    queries: dict[bytes, int] = field(default_factory=dict)  # first word of each simple Query, e.g. b"COMMIT"


class _Cut(Exception):
    """Raised inside a relay thread when the proxy cuts its connection on purpose."""


class _Link:
    """One client connection and its server connection, relayed by two threads."""

    def __init__(self, proxy: CommitCutter, client: socket.socket, server: socket.socket) -> None:
        self.proxy = proxy
        self.client = client
        self.server = server
        self.swallow = threading.Event()  # set: the server's next answer is the committed COMMIT's, and is dropped
        self.then_down = False  # after dropping that answer, the whole database seems gone
        self.one_byte_answers = 0  # SSLRequest / GSSENCRequest answers: a single byte, not a message
        self.closed = False
        self.lock = threading.Lock()

    def cut(self) -> None:
        with self.lock:
            if self.closed:
                return
            self.closed = True
        for sock in (self.client, self.server):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    # ------------------------------------------------------------ client → server

    def client_to_server(self) -> None:
        try:
            self._client_loop()
        except (OSError, _Cut):
            pass
        finally:
            self.cut()

    def _client_loop(self) -> None:
        startup = True
        while True:
            if startup:  # untyped: int32 length (counting itself), int32 code, …
                head = _read(self.client, 4)
                (length,) = struct.unpack("!i", head)
                body = _read(self.client, length - 4)
                code = struct.unpack("!i", body[:4])[0] if len(body) >= 4 else 0
                if code in (SSL_REQUEST, GSSENC_REQUEST):
                    self.one_byte_answers += 1  # the server answers one byte ('N'), then a real startup follows
                else:
                    startup = False
                self.server.sendall(head + body)
                continue
            head = _read(self.client, 5)
            kind, length = head[:1], struct.unpack("!i", head[1:])[0]
            body = _read(self.client, length - 4)
            if kind == b"Q":
                self.proxy.saw_query(body)
                if body.strip().upper() == COMMIT_QUERY:
                    fault = self.proxy.commit_fault()
                    if fault == "request":
                        self.proxy.counted("requests_cut")
                        raise _Cut
                    if fault in ("reply", "reply_then_down"):
                        self.then_down = fault == "reply_then_down"
                        self.swallow.set()  # before forwarding: the answer cannot overtake the flag
            self.server.sendall(head + body)

    # ------------------------------------------------------------ server → client

    def server_to_client(self) -> None:
        try:
            self._server_loop()
        except (OSError, _Cut):
            pass
        finally:
            self.cut()

    def _server_loop(self) -> None:
        while True:
            if self.one_byte_answers:
                self.client.sendall(_read(self.server, 1))
                self.one_byte_answers -= 1
                continue
            head = _read(self.server, 5)
            kind, length = head[:1], struct.unpack("!i", head[1:])[0]
            body = _read(self.server, length - 4)
            if self.swallow.is_set():
                # The COMMIT's answer: CommandComplete, then ReadyForQuery ('Z') once the server is done.
                if kind == b"Z":
                    self.proxy.counted("replies_cut")
                    if self.then_down:
                        self.proxy.go_down()
                    raise _Cut
                continue
            self.client.sendall(head + body)


def _read(sock: socket.socket, count: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < count:
        got = sock.recv(count - len(chunks))
        if not got:
            raise _Cut
        chunks += got
    return bytes(chunks)


class CommitCutter:
    """The proxy: listens on 127.0.0.1:<free port>, relays to `upstream_port`, loses the commits `policy` picks."""

    def __init__(self, upstream_port: int, policy: Policy = never) -> None:
        self.upstream_port = upstream_port
        self.policy = policy
        self.counts = ProxyCounts()
        self._lock = threading.Lock()
        self._links: list[_Link] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)  # so that close() is noticed without a connection to wake accept()
        self.port: int = self._listener.getsockname()[1]
        self._numbered = 0  # commits counted before the policy was armed
        self.down = False
        self._stopping = False
        self._thread = threading.Thread(target=self._accept_loop, name="drill-proxy", daemon=True)
        self._thread.start()

    def arm(self, policy: Policy) -> None:
        """From now on lose the commits `policy` picks (numbered from the next one)."""
        with self._lock:
            self.policy = policy
            self._numbered = self.counts.commits

    def disarm(self) -> None:
        self.arm(never)

    def go_down(self) -> None:
        """Seem to be a database that went away: cut every connection and refuse new ones until `come_up`."""
        with self._lock:
            self.down = True
            links = list(self._links)
        for link in links:
            link.cut()

    def come_up(self) -> None:
        self.down = False

    def commit_fault(self) -> str | None:
        with self._lock:
            self.counts.commits += 1
            return self.policy(self.counts.commits - self._numbered)

    def saw_query(self, body: bytes) -> None:
        word = body.split(maxsplit=1)[0].rstrip(b"\x00").upper() if body.strip(b"\x00 ") else b""
        with self._lock:
            self.counts.queries[word] = self.counts.queries.get(word, 0) + 1

    def counted(self, name: str) -> None:
        with self._lock:
            setattr(self.counts, name, getattr(self.counts, name) + 1)

    def _accept_loop(self) -> None:
        while not self._stopping:
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            if self.down:
                client.close()  # as a stopped server's port does: the connection ends at once
                continue
            try:
                server = socket.create_connection(("127.0.0.1", self.upstream_port))
            except OSError:
                client.close()  # PostgreSQL is down: the client sees a refused/closed connection
                continue
            for sock in (client, server):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            link = _Link(self, client, server)
            with self._lock:
                self.counts.connections += 1
                self._links = [each for each in self._links if not each.closed] + [link]
            threading.Thread(target=link.client_to_server, name="drill-proxy-up", daemon=True).start()
            threading.Thread(target=link.server_to_client, name="drill-proxy-down", daemon=True).start()

    def close(self) -> None:
        self._stopping = True
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            links = list(self._links)
        for link in links:
            link.cut()
        self._thread.join(timeout=5)
