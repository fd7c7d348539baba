"""A TCP proxy between the service and PostgreSQL that can lose the reply to a COMMIT: the
server has committed, and the service never hears so.

It reads the server's side of the wire protocol (each message a type byte, then a four-byte
length that counts itself) and, when armed, forwards the CommandComplete of a COMMIT ('C',
tag "COMMIT") and then cuts both connections, before the ReadyForQuery that the client waits
for. The client's side is copied as it comes. The service must connect without TLS
(PGSSLMODE=disable), so that the messages can be read; and the startup reply is typed like any
other message once no SSLRequest is sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
import threading

from tests.api.server import free_port

COMMAND_COMPLETE = b"C"


class CommitReplyCutter:
    """Listens on a free loopback port; forwards to PostgreSQL at `upstream`."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = free_port()
        self.cuts = 0
        self._armed = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        # asyncio keeps only weak references to tasks: a connection's handler waiting on a
        # closed stream would be collected mid-`finally` without one of its own.
        self._handlers: set[asyncio.Task[None]] = set()
        self._thread = threading.Thread(target=self._run, name="commit-cutter", daemon=True)

    def cut_after_next_commit(self) -> None:
        self._armed.set()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            asyncio.start_server(self._serve, "127.0.0.1", self.port)
        )
        self._started.set()
        try:
            self._loop.run_forever()
        finally:
            server.close()
            # Until none is left: a connection accepted as the loop stopped starts its handler
            # only now, and a handler dropped unfinished would be closed mid-`finally` later.
            while pending := asyncio.all_tasks(self._loop):
                for task in pending:
                    task.cancel()
                self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self._loop.close()

    async def _serve(
        self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> None:
        handler = asyncio.current_task()
        assert handler is not None
        self._handlers.add(handler)
        handler.add_done_callback(self._handlers.discard)
        try:
            server_in, server_out = await asyncio.open_connection(*self.upstream)
        except OSError:
            client_out.close()
            return
        upward = asyncio.create_task(_copy(client_in, server_out))
        try:
            await self._relay_replies(server_in, client_out)
        finally:
            upward.cancel()
            for writer in (client_out, server_out):
                writer.close()
                with contextlib.suppress(OSError, ConnectionError):
                    await writer.wait_closed()

    async def _relay_replies(
        self, server_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> None:
        while True:
            try:
                header = await server_in.readexactly(5)
                kind, length = header[:1], struct.unpack("!I", header[1:])[0]
                body = await server_in.readexactly(length - 4)
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            client_out.write(header + body)
            await client_out.drain()
            if kind == COMMAND_COMPLETE and body.startswith(b"COMMIT\0") and self._armed.is_set():
                self._armed.clear()
                self.cuts += 1
                return  # the caller closes both sides: ReadyForQuery never arrives

    def __enter__(self) -> CommitReplyCutter:
        self._thread.start()
        self._started.wait(timeout=10)
        return self

    def __exit__(self, *_: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)


async def _copy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
