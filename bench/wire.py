"""Round trips to PostgreSQL, counted on the wire.

A statement count misses what costs as much on a network: the driver's BEGIN and COMMIT,
the pool's liveness ping, a ROLLBACK when a connection goes back. `RoundTripRelay` sits
between the in-process shop and PostgreSQL and counts each time the shop sends after it
was answered (or first): one round trip, however many messages it carried.
"""

import contextlib
import selectors
import socket
import threading


class RoundTripRelay:
    """A TCP relay on 127.0.0.1 to PostgreSQL at (`host`, `port`) that counts round trips.

    Use as a context manager; `port` is where to connect, `count` the round trips so far
    (over every relayed connection: count one request at a time)."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._count = 0
        self._open = True
        self._threads: list[threading.Thread] = []

    @property
    def count(self) -> int:
        """Round trips made through the relay so far."""
        with self._lock:
            return self._count

    def __enter__(self) -> "RoundTripRelay":
        thread = threading.Thread(target=self._accept, daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def __exit__(self, *exc) -> None:
        self._open = False
        with contextlib.suppress(OSError):
            self._listener.close()

    def _accept(self) -> None:
        """Relay each connection the shop opens, in its own thread."""
        while self._open:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            for sock in (client, server):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            thread = threading.Thread(target=self._relay, args=(client, server), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _relay(self, client: socket.socket, server: socket.socket) -> None:
        """Copy bytes both ways; count the client's turns (it speaks after being answered)."""
        selector = selectors.DefaultSelector()
        selector.register(client, selectors.EVENT_READ, server)
        selector.register(server, selectors.EVENT_READ, client)
        answered = True  # the first bytes the shop sends open a round trip
        try:
            while self._open:
                for key, _ in selector.select(timeout=0.5):
                    data = key.fileobj.recv(65536)
                    if not data:
                        return
                    if key.fileobj is client:
                        if answered:
                            with self._lock:
                                self._count += 1
                            answered = False
                    else:
                        answered = True
                    key.data.sendall(data)
        except OSError:
            return
        finally:
            selector.close()
            client.close()
            server.close()
