"""A TCP relay between the shop and PostgreSQL that a test can cut, silence and restore,
to play a database that goes away (failover, restart, network trouble) and comes back."""

import contextlib
import socket
import threading

from test_deploy import free_port


class DatabaseLink:
    """Listens on a port of its own and relays each connection to PostgreSQL.

    `down()` closes the port and every relayed connection (a crashed or restarting
    server); `silent()` accepts connections and never answers (a network black hole);
    `up()` relays again.
    """

    def __init__(self, host: str, port: int):
        self.target = (host, port)
        self.port = free_port()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._relay = True

    def up(self) -> None:
        """Accept and relay connections (cutting any a black hole swallowed)."""
        self.down()
        self._listen(relay=True)

    def silent(self) -> None:
        """Cut every connection, then accept new ones and never answer them."""
        self.down()
        self._listen(relay=False)

    def down(self) -> None:
        """Stop listening and cut every relayed connection."""
        with self._lock:
            listener, self._listener = self._listener, None
            sockets, self._sockets = self._sockets, set()
        for sock in ([listener] if listener else []) + list(sockets):
            _close(sock)

    def _listen(self, relay: bool) -> None:
        """Open the port (again) and accept in a background thread."""
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(0.1)
        with self._lock:
            self._listener, self._relay = listener, relay
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        """Take connections until this listener is replaced or closed."""
        while self._listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self._sockets.add(client)
                relay = self._relay
            if relay:
                self._connect(client)

    def _connect(self, client: socket.socket) -> None:
        """Relay `client` to PostgreSQL in both directions."""
        try:
            server = socket.create_connection(self.target, timeout=5)
        except OSError:
            _close(client)
            return
        server.settimeout(None)
        client.settimeout(None)
        with self._lock:
            self._sockets.add(server)
        for source, sink in ((client, server), (server, client)):
            threading.Thread(target=_pump, args=(source, sink), daemon=True).start()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    """Copy bytes one way until either side closes."""
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    _close(source)
    _close(sink)


def _close(sock: socket.socket) -> None:
    """Shut a socket down hard (wakes any thread blocked on it) and close it."""
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
