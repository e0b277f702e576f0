"""A Kafka-protocol TCP proxy that loses responses on purpose, for the idempotence tests.

Clients connect to the proxy (the broker advertises the proxy's address); every connection is
relayed to the broker frame by frame. The proxy notes the API key of each request by its
correlation id, and when a Produce response comes back it may, instead of forwarding it, close
both sides: the broker has appended the batches, the client never learns it and sends them
again on a new connection. `arm(every, count)` loses every `every`-th Produce response from
then on, `count` of them in all; `dropped` counts the losses since arm(). Standard library only; threads; stops with close().
"""

import socket
import struct
import threading

PRODUCE = 0


def _recv_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


def _recv_frame(sock):
    head = _recv_exact(sock, 4)
    if head is None:
        return None
    (size,) = struct.unpack(">i", head)
    body = _recv_exact(sock, size)
    return None if body is None else head + body


class DropProxy:
    def __init__(self):
        self.upstream = None  # (host, port), set once the broker runs
        self.produce_responses = 0
        self.dropped = 0
        self._every = 0
        self._count = 0
        self._lock = threading.Lock()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port = self._listener.getsockname()[1]
        self._closed = False
        self._socks = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def arm(self, every, count):
        with self._lock:
            self._every, self._count = every, count
            self.produce_responses = self.dropped = 0

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    def close(self):
        self._closed = True
        try:
            self._listener.close()
        except OSError:
            pass
        with self._lock:
            socks, self._socks = self._socks, []
        for s in socks:
            _close(s)

    def _accept(self):
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream, timeout=10)
                server.settimeout(None)
            except OSError:
                _close(client)
                continue
            for s in (client, server):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._socks += [client, server]
            api_of = {}
            threading.Thread(target=self._requests, args=(client, server, api_of), daemon=True).start()
            threading.Thread(target=self._responses, args=(client, server, api_of), daemon=True).start()

    def _requests(self, client, server, api_of):
        try:
            while True:
                f = _recv_frame(client)
                if f is None:
                    break
                api_key, _version, correlation = struct.unpack(">hhi", f[4:12])
                api_of[correlation] = api_key
                server.sendall(f)
        except OSError:
            pass
        _close(client, server)

    def _responses(self, client, server, api_of):
        try:
            while True:
                f = _recv_frame(server)
                if f is None:
                    break
                (correlation,) = struct.unpack(">i", f[4:8])
                if api_of.pop(correlation, None) == PRODUCE:
                    with self._lock:
                        self.produce_responses += 1
                        lose = self._every > 0 and self.produce_responses % self._every == 0 \
                            and self.dropped < self._count
                        if lose:
                            self.dropped += 1
                    if lose:
                        break
                client.sendall(f)
        except OSError:
            pass
        _close(client, server)


def _close(*socks):
    for s in socks:
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            s.close()
        except OSError:
            pass
