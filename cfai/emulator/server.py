"""`Emulator`: the emulator app served by uvicorn on a loopback port, in a background thread with its own loop.

Starlette and uvicorn are imported only when the app is first needed or the server starts, so importing this module
(and `cfai.emulator`) is cheap and works without the `emulator` extra. Start and stop take a few milliseconds: the
socket is bound before uvicorn starts (so `port=0` is resolved at once), uvicorn's 100 ms polling loop is replaced
by an event, and shutdown closes idle keep-alive connections instead of waiting for them. Those changes subclass
uvicorn's `Server` and `H11Protocol` and touch their internals (`main_loop`, `server_state`, `servers`), which is
why pyproject.toml bounds uvicorn to the releases the emulator's tests have passed with.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
import threading
from collections.abc import Collection, Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Any

from cfai.emulator.faults import Route, Script
from cfai.emulator.queue import ItemFailure
from cfai.emulator.state import (
    DEFAULT_ACCOUNT_ID,
    DEFAULT_MODELS,
    EmulatorSettings,
    EmulatorState,
    RecordedRequest,
    ResponsesStreaming,
)

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from cfai.emulator.binding import EmulatorBinding

_START_TIMEOUT = 10.0
_GRACE_SECONDS = 0.5  # how long in-flight replies may finish at shutdown before their connections are cut


class Emulator:
    """A local Workers AI: `with Emulator() as emulator:` (or `async with`) serves it on 127.0.0.1.

    Pass `emulator.v1_url` as a client's `base_url` and `emulator.api_token` as its token; `emulator.app` serves the
    same emulator in-process (`httpx.AsyncClient(transport=httpx.ASGITransport(app=emulator.app))`).
    """

    def __init__(
        self,
        api_token: str = "test-token",
        account_id: str = DEFAULT_ACCOUNT_ID,
        port: int = 0,
        *,
        host: str = "127.0.0.1",
        models: Collection[str] = DEFAULT_MODELS,
        stream_mode: ResponsesStreaming = "ignore",
        context_window: int = 128_000,
        batch_pending_polls: int = 2,
        allow_remote: bool = False,
    ) -> None:
        if not allow_remote and not is_loopback(host):
            raise ValueError(f"refusing to serve on {host!r}: not a loopback address (pass allow_remote=True)")
        settings = EmulatorSettings(
            api_token=api_token,
            account_id=account_id,
            models=frozenset(models),
            stream_mode=stream_mode,
            context_window=context_window,
            batch_pending_polls=batch_pending_polls,
        )
        self.state = EmulatorState(settings)
        self.host = host
        self._requested_port = port
        self._app: Starlette | None = None
        self._connections = _Connections()
        self._running: _Running | None = None
        self.state.disconnect = self._connections.disconnect

    # -- serving ------------------------------------------------------------------------------------------------

    @property
    def app(self) -> Starlette:
        """The ASGI app (shared state with the server: requests and scripts are the same either way)."""
        if self._app is None:
            from cfai.emulator.app import create_app

            self._app = create_app(self.state)
        return self._app

    def start(self) -> Emulator:
        if self._running is not None:
            raise RuntimeError("the emulator is already running")
        self._running = _Running(self.app, self.host, self._requested_port, self._connections)
        return self

    def stop(self) -> None:
        running, self._running = self._running, None
        if running is not None:
            running.stop()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    async def __aenter__(self) -> Emulator:
        return await asyncio.to_thread(self.start)

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        await asyncio.to_thread(self.stop)

    # -- addresses ----------------------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._running is None:
            raise RuntimeError("the emulator is not running: use `with Emulator() as emulator:` or call start()")
        return self._running.port

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def v1_path(self) -> str:
        """The path of the OpenAI-style root (append `/responses` or `/chat/completions`); also for in-process use."""
        return f"/client/v4/accounts/{self.account_id}/ai/v1"

    @property
    def v1_url(self) -> str:
        """The `base_url` to give a client: `{base_url}/client/v4/accounts/{account_id}/ai/v1`."""
        return self.base_url + self.v1_path

    def binding(self) -> EmulatorBinding:
        """A Workers AI binding (`env.AI`) served by this emulator in-process, for tests of Worker code: no server
        needs to run (`cfai.emulator.binding`)."""
        from cfai.emulator.binding import EmulatorBinding

        return EmulatorBinding(self)

    def run_url(self, model: str = "@cf/openai/gpt-oss-120b") -> str:
        return f"{self.base_url}/client/v4/accounts/{self.account_id}/ai/run/{model}"

    @property
    def api_token(self) -> str:
        return self.state.settings.api_token

    @property
    def account_id(self) -> str:
        return self.state.settings.account_id

    # -- scripting and inspection -------------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received since the last reset, oldest first (a copy)."""
        return self.state.requests

    def enqueue(self, script: Script, *, route: Route | None = None, times: int = 1) -> None:
        """Queue a `CannedReply` or `Fault` for the next `times` requests on `route` ("responses", "run",
        "chat_completions", "embeddings"; None for any). Scripts apply first in, first out, after authentication;
        on "run" they apply to batch submissions and polls too."""
        self.state.enqueue(script, route, times)

    @property
    def pending_scripts(self) -> int:
        return self.state.pending_scripts

    def fail_batch_items(
        self,
        items: Iterable[int],
        message: str = "AiError: Internal server error",
        *,
        type: str = "server_error",
        code: str = "3001",
    ) -> None:
        """Make the items at these 0-based indices of the next queued batch fail with `message` (`type` and `code`
        fill the gpt-oss shape's `error`; the generic shape reports `success: false` with the same `error`)."""
        self.state.fail_batch_items(items, ItemFailure(message, type, code))

    def configure(self, **settings: Any) -> None:
        """Change settings (see `EmulatorSettings`) until the next reset, e.g. `configure(stream_mode="sse")`,
        `configure(models={"@cf/x/y"})` or `configure(batch_pending_polls=0)`."""
        for name in ("models", "embedding_models"):
            if name in settings:
                settings[name] = frozenset(settings[name])
        self.state.configure(**settings)

    @property
    def connections_opened(self) -> int:
        """TCP connections accepted since start (or the last reset)."""
        return self._connections.opened

    def reset(self) -> None:
        """Forget requests, scripts, prompt caches, batches and the connection count; restore the settings."""
        self.state.reset()
        self._connections.opened = 0


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Connections:
    """Counts accepted connections and keeps their transports, so a fault can cut one (`disconnect`)."""

    def __init__(self) -> None:
        self.opened = 0
        self._transports: dict[tuple[Any, ...], asyncio.BaseTransport] = {}

    def made(self, client: tuple[Any, ...] | None, transport: asyncio.BaseTransport) -> None:
        self.opened += 1
        if client is not None:
            self._transports[tuple(client)] = transport

    def lost(self, client: tuple[Any, ...] | None) -> None:
        if client is not None:
            self._transports.pop(tuple(client), None)

    def disconnect(self, client: Any) -> bool:
        """Abort the connection of ASGI client address `client` (runs on the server's loop)."""
        transport = self._transports.get(tuple(client)) if client else None
        if not isinstance(transport, asyncio.Transport):
            return False
        transport.abort()
        return True

    def abort_all(self) -> None:
        for transport in list(self._transports.values()):
            if isinstance(transport, asyncio.Transport):
                transport.abort()


class _Running:
    """One uvicorn server on its own thread and loop, started on construction."""

    def __init__(self, app: Starlette, host: str, port: int, connections: _Connections) -> None:
        import uvicorn

        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on accepted sockets whose proto says TCP, and
        # without it every reply stalls 40 ms on delayed ACKs
        self._socket = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._socket.bind((host, port))
            self._socket.listen(128)  # here, so that a taken port fails now with an OSError
        except OSError:
            self._socket.close()
            raise
        self.port: int = self._socket.getsockname()[1]
        config = uvicorn.Config(
            app,
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="off",
            ws="none",
            http=_counting_protocol(connections),
            proxy_headers=False,  # forwarded-for headers must not change the client address faults rely on
            server_header=False,
            headers=[("server", "cloudflare")],
            timeout_keep_alive=30,
        )
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._server = _fast_server_class()(config, connections, self._ready)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._serve, name=f"cfai-emulator-{self.port}", daemon=True)
        self._thread.start()
        if not self._ready.wait(_START_TIMEOUT) or self._error is not None or not self._server.started:
            self.stop()
            raise RuntimeError("the emulator's server did not start") from self._error

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._server.serve(sockets=[self._socket]))
        except BaseException as error:  # reported by the starting thread
            self._error = error
        finally:
            self._ready.set()
            self._loop.close()
            self._socket.close()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._server.request_stop)
            self._thread.join(timeout=_START_TIMEOUT)


def _counting_protocol(connections: _Connections) -> type[Any]:
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class CountingH11Protocol(H11Protocol):
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            connections.made(self.client, transport)

        def connection_lost(self, exc: Exception | None) -> None:
            connections.lost(self.client)
            super().connection_lost(exc)

    return CountingH11Protocol


@functools.cache
def _fast_server_class() -> type[Any]:
    """uvicorn's Server, woken by an event instead of its 100 ms polling, with a shutdown that does not sleep."""
    import uvicorn

    class FastServer(uvicorn.Server):
        def __init__(self, config: uvicorn.Config, connections: _Connections, ready: threading.Event) -> None:
            super().__init__(config)
            self.connections = connections
            self.ready = ready
            self.stop_requested = asyncio.Event()

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            self.ready.set()

        def request_stop(self) -> None:
            self.should_exit = True
            self.stop_requested.set()

        async def main_loop(self) -> None:
            await self.stop_requested.wait()

        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            for server in self.servers:
                server.close()
            for connection in list(self.server_state.connections):
                connection.shutdown()  # idle keep-alive connections close now; busy ones after their reply
            loop = asyncio.get_running_loop()
            deadline = loop.time() + _GRACE_SECONDS
            while self.server_state.connections and loop.time() < deadline:
                await asyncio.sleep(0.005)
            self.connections.abort_all()
            for task in list(self.server_state.tasks):
                task.cancel()
            await asyncio.sleep(0)

    return FastServer
