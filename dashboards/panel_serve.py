"""Serve Panel apps on their own thread and asyncio loop (the ops desk and the planner both do).

`serve_panel(apps, host=..., http_port=..., title=..., name=...)` returns a `PanelThread` once the
HTTP server listens (port 0 picks a free one); `PanelThread.stop()` stops it. Nothing at import.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass
class PanelThread:
    """A running Bokeh/Panel server: the port it listens on and how to stop it."""

    port: int
    server: Any
    loop: asyncio.AbstractEventLoop
    thread: threading.Thread

    def stop(self) -> None:
        """Stop the server and its loop; wait up to 10 s for the thread."""

        def _shutdown() -> None:
            self.server.stop()
            self.server.io_loop.stop()

        self.loop.call_soon_threadsafe(_shutdown)
        self.thread.join(timeout=10)


def serve_panel(
    apps: Mapping[str, Callable[[], Any]], *, host: str, http_port: int, title: str, name: str
) -> PanelThread:
    """Serve `apps` (URL path → session factory) at `http://host:http_port/<path>` on a new thread.

    `name` names the thread and the error messages. Raises RuntimeError when the port cannot be
    bound or the server does not start within 60 s.
    """
    import panel as pn

    if http_port == 0:
        # Bokeh checks the browser's Origin against host:port, so the port must be known up front.
        with socket.socket() as probe:
            probe.bind((host, 0))
            http_port = int(probe.getsockname()[1])
    ready = threading.Event()
    box: dict[str, Any] = {}

    def run() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            server = pn.serve(
                dict(apps),
                port=http_port,
                address=host,
                show=False,
                start=False,
                title=title,
                websocket_origin=[f"{host}:{http_port}", f"localhost:{http_port}", f"127.0.0.1:{http_port}"],
            )
            server.start()
        except (OSError, ValueError) as exc:
            box["error"] = exc
            ready.set()
            return
        box.update(server=server, loop=loop)
        ready.set()
        server.io_loop.start()

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    if not ready.wait(60):
        raise RuntimeError(f"the {name} did not start within 60 s")
    if "error" in box:
        error = box["error"]
        raise RuntimeError(f"the {name} could not listen on {host}:{http_port}: {error}") from error
    return PanelThread(int(box["server"].port), box["server"], box["loop"], thread)
