"""The live bus: a websockets server with `/stream`, `/ingest` and `/health` (docs/protocol.md, v1).

- `/stream`: each client gets a `snapshot`, then `delta`s. Every client has a bounded outbox of
  already-serialised messages; the engine and the other clients never wait for a slow one.
  When a client's outbox is full its pending deltas are dropped and, once its socket drains, it
  is sent a fresh snapshot (coalescing). `seq` is numbered per client at send time, so the
  messages a client receives always rise by exactly one.
- `/ingest`: JSON batches (`nmea` lines or canonical rows) accepted only with
  `Authorization: Bearer <token>`; each is validated here, journalled by the live core, then
  answered `{"ack": seq}`. A bad message gets `{"error": ..., "field": ...}`; the connection and
  the engine carry on.
- `/health`: plain HTTP JSON from the core (feed freshness, engine seq, counters).

The server knows the rest of the live process only through `LiveCore`, so the core can be
swapped (for a broker-backed one, see DESIGN.md "Scale beyond one machine").
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from http import HTTPStatus
from typing import Any, Final, Protocol

import polars as pl
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from feeds._common import RowError, parse_ts_utc
from feeds.control import CONTROL_SCHEMAS
from feeds.schema import REJECTED, SCHEMAS, empty

PROTOCOL_VERSION: Final = 1
INGEST_MAX_BYTES: Final = 1 << 20          # cap of one incoming message, bytes (ingest and stream)
OUTBOX_MESSAGES: Final = 64                # per-client queue of deltas before coalescing
DEFAULT_ORIGINS: Final = ("http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*")
INGEST_SOURCE: Final = "ingest"
CLOSE_TIMEOUT_S: Final = 2.0               # a vanished client must not hold a shutdown for long

log = logging.getLogger(__name__)


class IngestError(Exception):
    """An ingest message that cannot be accepted; `field` names the offending field."""

    def __init__(self, rule: str, field_name: str, detail: str) -> None:
        super().__init__(detail)
        self.rule = rule
        self.field = field_name
        self.detail = detail
        self.msg_id: Any = None   # the client's "id" when the message had one

    def to_message(self, msg_id: Any = None) -> dict[str, Any]:
        """The error object sent back to the ingest client."""
        body: dict[str, Any] = {"error": self.rule, "field": self.field, "detail": self.detail}
        if msg_id is not None:
            body["id"] = msg_id
        return body


@dataclass
class IngestBatch:
    """One validated ingest message: accepted frames by kind and the rejected rows."""

    feed: str                                  # "ais", "gate", "customs", "tide"
    frames: dict[str, pl.DataFrame]
    rejected: pl.DataFrame
    items: int                                 # lines or rows received
    msg_id: Any = None                         # the client's optional "id", echoed in the reply

    @property
    def accepted_rows(self) -> int:
        """Rows accepted over all kinds."""
        return sum(frame.height for frame in self.frames.values())


FEED_OF_KIND: Final = {
    "ais_position": "ais",
    "ais_static": "ais",
    "gate_event": "gate",
    "customs_event": "customs",
    "tide_obs": "tide",
}
# what /ingest takes as rows: the canonical feed kinds and the operator messages (feeds.control)
INGEST_SCHEMAS: Final = {**SCHEMAS, **CONTROL_SCHEMAS}
OPERATOR_FEED: Final = "operator"


def _rejected(rows: list[tuple[int, str, str, Any]]) -> pl.DataFrame:
    """Rejected rows in the `REJECTED` schema from (1-based index, rule, detail, raw value)."""
    if not rows:
        return empty(REJECTED)
    return pl.DataFrame(
        {
            "source_file": [INGEST_SOURCE] * len(rows),
            "line": [index for index, _, _, _ in rows],
            "rule": [rule for _, rule, _, _ in rows],
            "detail": [detail for _, _, detail, _ in rows],
            "raw": [json.dumps(raw, default=str) for _, _, _, raw in rows],
        },
        schema=REJECTED,
    )


def rows_to_frame(kind: str, rows: list[Any]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Canonical rows given as JSON objects → (accepted frame in `SCHEMAS[kind]`, rejected rows).

    Times are ISO 8601 strings with an offset; other fields take the JSON value of their
    column type; a missing key is null. `ts_utc` is required. A row whose value cannot become
    its column's type is rejected with rule `ingest.<column>` naming the field; unknown keys are
    ignored. Never raises on bad rows.
    """
    schema = INGEST_SCHEMAS[kind]
    bad: list[tuple[int, str, str, Any]] = []
    columns: dict[str, list[Any]] = {name: [] for name in schema}
    kept: list[int] = []
    for index, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            bad.append((index, "ingest.row", "a row must be a JSON object", row))
            continue
        values: dict[str, Any] = {}
        try:
            for name, dtype in schema.items():
                value = row.get(name)
                if isinstance(dtype, pl.Datetime) and value is not None:
                    value = parse_ts_utc(value, name, f"ingest.{name}")
                elif name == "ts_utc":
                    raise RowError("ingest.ts_utc", "ts_utc is required")
                values[name] = value
        except RowError as exc:
            bad.append((index, exc.rule, exc.detail, row))
            continue
        kept.append(index)
        for name in schema:
            columns[name].append(values[name])
    series: dict[str, pl.Series] = {}
    invalid: dict[int, tuple[str, str]] = {}
    for name, dtype in schema.items():
        raw = columns[name]
        try:
            converted = pl.Series(name, raw, dtype=dtype, strict=False)
        except (TypeError, ValueError, OverflowError, pl.exceptions.PolarsError):
            # mixed JSON types in one column: convert value by value to find the bad rows
            converted = pl.Series(name, [_one(value, dtype) for value in raw], dtype=dtype)
        # a value given but null after conversion did not fit the column type
        given = pl.Series([value is not None for value in raw], dtype=pl.Boolean)
        for position in (given & converted.is_null()).arg_true().to_list():
            if kept[position] not in invalid:
                invalid[kept[position]] = (name, f"{name} {raw[position]!r} is not a valid {dtype}")
        series[name] = converted
    frame = pl.DataFrame(series) if kept else empty(schema)
    if invalid:
        mask = [index not in invalid for index in kept]
        frame = frame.filter(pl.Series(mask, dtype=pl.Boolean))
        for index, (name, detail) in invalid.items():
            bad.append((index, f"ingest.{name}", detail, rows[index - 1]))
    bad.sort(key=lambda item: item[0])
    return frame, _rejected(bad)


def _one(value: Any, dtype: pl.DataType) -> Any:
    """`value` as `dtype`, or None when it does not convert."""
    try:
        return pl.Series([value], dtype=dtype, strict=False)[0]
    except (TypeError, ValueError, OverflowError, pl.exceptions.PolarsError):
        return None


def parse_ingest(message: str | bytes, now: datetime, decoder: Any | None = None) -> IngestBatch:
    """Validate one `/ingest` message and turn it into frames.

    `now` (aware UTC) stamps NMEA messages that carry no time of their own. `decoder` (a
    `feeds.ais.NmeaDecoder` kept per connection) carries a multi-sentence message whose last
    fragment comes in the connection's next message, as gateways cut batches by time. Raises
    `IngestError` naming the field for a message that is not v1 JSON of a known kind; bad
    lines or rows inside a good message are not errors but rejected rows.
    """
    try:
        body = json.loads(message)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise IngestError("ingest.json", "$", f"not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise IngestError("ingest.json", "$", "the message must be a JSON object")
    msg_id = body.get("id")
    try:
        if body.get("v") != PROTOCOL_VERSION:
            raise IngestError("ingest.version", "v", f"v must be {PROTOCOL_VERSION}, got {body.get('v')!r}")
        kind = body.get("kind")
        if kind == "nmea":
            lines = body.get("lines")
            if not isinstance(lines, list) or not all(isinstance(line, str) for line in lines):
                raise IngestError("ingest.lines", "lines", "lines must be a list of strings")
            from feeds.ais import parse_nmea_lines  # the AIS decoder loads only when NMEA arrives

            if decoder is None:
                result = parse_nmea_lines(lines, INGEST_SOURCE, now)
            else:
                decoder.default_us = int(now.timestamp() * 1_000_000)  # this message's arrival
                result = decoder.feed(lines)
            return IngestBatch("ais", dict(result.frames), result.rejected, len(lines), msg_id)
        if kind not in INGEST_SCHEMAS:
            raise IngestError(
                "ingest.kind", "kind",
                f"kind must be 'nmea' or one of {', '.join(INGEST_SCHEMAS)}; got {kind!r}",
            )
        rows = body.get("rows")
        if not isinstance(rows, list):
            raise IngestError("ingest.rows", "rows", "rows must be a list of JSON objects")
        frame, rejected = rows_to_frame(str(kind), rows)
        feed = FEED_OF_KIND.get(str(kind), OPERATOR_FEED)
        return IngestBatch(feed, {str(kind): frame}, rejected, len(rows), msg_id)
    except IngestError as exc:
        exc.msg_id = msg_id
        raise


class LiveCore(Protocol):
    """What the bus needs from the live process (implemented by `feeds.live.LiveTwin`)."""

    def clock(self) -> datetime:
        """The twin's current time (simulated or wall clock), aware UTC."""
        ...

    async def submit_ingest(self, batch: IngestBatch) -> asyncio.Future[int]:
        """Journal `batch` (ordered by call); the future resolves to its seq once durable."""
        ...

    async def snapshot_message(self) -> tuple[int, str]:
        """(applied journal seq, snapshot JSON object text without the envelope keys)."""
        ...

    def health(self) -> dict[str, Any]:
        """The `/health` JSON body."""
        ...

    async def state_hash(self) -> str:
        """The engine's state hash, taken between two applies (diagnostics, tests)."""
        ...

    def count_rejected(self, feed: str, rejected: pl.DataFrame) -> None:
        """Count rejected rows of a feed, by rule."""
        ...

    def count_ingest_error(self, rule: str) -> None:
        """Count an ingest message refused as a whole."""
        ...

    def note_timing(self, stage: str, seconds: float) -> None:
        """Record how long one batch spent in a stage (reported by `/health`)."""
        ...


@dataclass(eq=False)  # identity: each connection is its own client in the hub's set
class StreamClient:
    """One `/stream` connection: a bounded outbox of (applied seq, body text) and its counters."""

    connection: ServerConnection
    limit: int = OUTBOX_MESSAGES
    outbox: deque[tuple[int, str]] = field(default_factory=deque)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    resync: bool = True            # the first message is a snapshot
    base: int = 0                  # applied seq covered by the last snapshot sent
    seq: int = -1                  # last stream seq sent
    dropped: int = 0               # deltas dropped by coalescing
    snapshots: int = 0


def envelope(kind: str, seq: int, body: str) -> str:
    """Prefix the protocol envelope to a serialised JSON object `body` (`{...}`) without re-encoding."""
    head = f'{{"v":{PROTOCOL_VERSION},"type":"{kind}","seq":{seq}'
    return head + ("}" if body == "{}" else "," + body[1:])


class Hub:
    """Fan-out of serialised deltas to `/stream` clients with per-client coalescing."""

    def __init__(self, core: LiveCore, outbox_messages: int = OUTBOX_MESSAGES) -> None:
        self.core = core
        self.outbox_messages = outbox_messages
        self.clients: set[StreamClient] = set()
        self.coalesced = 0          # times a client's outbox overflowed

    def publish(self, applied: int, body: str) -> None:
        """Queue one delta (serialised body, applied journal seq) to every client; never blocks."""
        for client in self.clients:
            if len(client.outbox) >= client.limit:
                client.dropped += len(client.outbox)
                client.outbox.clear()
                if not client.resync:
                    self.coalesced += 1
                client.resync = True
            else:
                client.outbox.append((applied, body))
            client.wake.set()

    async def serve_client(self, connection: ServerConnection) -> None:
        """Run one `/stream` connection until it closes; a `{"type":"snapshot"}` asks for a resync."""
        client = StreamClient(connection, limit=self.outbox_messages)
        self.clients.add(client)
        client.wake.set()
        writer = asyncio.create_task(self._writer(client))
        try:
            async for message in connection:
                if isinstance(message, str) and '"snapshot"' in message:
                    client.resync = True
                    client.wake.set()
        except ConnectionClosed:
            pass  # the client went away; the writer is cancelled below
        finally:
            self.clients.discard(client)
            writer.cancel()

    async def _writer(self, client: StreamClient) -> None:
        try:
            while True:
                await client.wake.wait()
                client.wake.clear()
                while True:
                    if client.resync:
                        client.resync = False
                        client.outbox.clear()
                        client.base, body = await self.core.snapshot_message()
                        client.seq += 1
                        client.snapshots += 1
                        await client.connection.send(envelope("snapshot", client.seq, body))
                    elif client.outbox:
                        applied, body = client.outbox.popleft()
                        if applied <= client.base:
                            continue  # already inside the snapshot this client got
                        client.seq += 1
                        await client.connection.send(envelope("delta", client.seq, body))
                    else:
                        break
        except ConnectionClosed:
            pass  # the reader side ends the connection


def origin_allowed(origin: str | None, allowed: Sequence[str]) -> bool:
    """Whether a browser `Origin` may connect.

    No Origin header (a non-browser client) is allowed: browsers always send one, and ingest is
    guarded by its token anyway. `"*"` allows every origin; `"http://host:*"` allows that host
    on any port or none; anything else must match exactly.
    """
    if origin is None:
        return True
    for entry in allowed:
        if entry == "*" or entry == origin:
            return True
        if entry.endswith(":*"):
            stem = entry[:-2]
            if origin == stem or (origin.startswith(stem + ":") and origin[len(stem) + 1 :].isdigit()):
                return True
    return False


def _json_response(connection: ServerConnection, status: HTTPStatus, body: dict[str, Any]) -> Response:
    response = connection.respond(status, json.dumps(body) + "\n")
    del response.headers["Content-Type"]
    response.headers["Content-Type"] = "application/json"
    return response


# (client message id, future of the durable journal seq or None for an error, reply body)
_Reply = tuple[Any, "asyncio.Future[int] | None", dict[str, Any]]


class BusServer:
    """The websockets server of the live twin (see the module docstring).

    `token` None disables `/ingest` (403). `origins` lists the browser origins allowed on
    `/stream` and `/ingest` (see `origin_allowed`). Binds `host`:`port` (0 = an ephemeral port).
    """

    def __init__(
        self,
        core: LiveCore,
        hub: Hub,
        *,
        host: str = "127.0.0.1",
        port: int = 8765,
        token: str | None = None,
        origins: Sequence[str] = DEFAULT_ORIGINS,
        max_size: int = INGEST_MAX_BYTES,
    ) -> None:
        self.core = core
        self.hub = hub
        self.host = host
        self.port = port
        self._token = token.encode() if token else None
        self.origins = tuple(origins)
        self.max_size = max_size
        self._server: Server | None = None
        self.refused: dict[str, int] = {}

    @property
    def url(self) -> str:
        """`ws://host:port` of the running server (the bound port when 0 was asked)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"ws://{host}:{self.port}"

    async def start(self) -> None:
        """Bind and start serving; updates `port` with the bound port."""
        self._server = await serve(
            self._handler,
            self.host,
            self.port,
            process_request=self._process_request,
            max_size=self.max_size,
            compression=None,   # deltas are small and CPU is scarce; off also avoids zip bombs
            close_timeout=CLOSE_TIMEOUT_S,
        )
        sockets = list(self._server.sockets)
        if sockets:
            self.port = int(sockets[0].getsockname()[1])

    async def close(self) -> None:
        """Stop accepting, close the connections and wait for them."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def _refuse(self, reason: str) -> None:
        self.refused[reason] = self.refused.get(reason, 0) + 1

    async def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        path, _, query = request.path.partition("?")
        if path == "/health":
            body = self.core.health()
            if "hash=1" in query.split("&"):
                body.setdefault("engine", {})["state_hash"] = await self.core.state_hash()
            return _json_response(connection, HTTPStatus.OK, body)
        if path not in ("/stream", "/ingest"):
            return connection.respond(HTTPStatus.NOT_FOUND, "not found: try /stream, /ingest or /health\n")
        if not origin_allowed(request.headers.get("Origin"), self.origins):
            self._refuse("origin")
            return connection.respond(HTTPStatus.FORBIDDEN, "origin not allowed\n")
        if path == "/ingest":
            if self._token is None:
                self._refuse("ingest_disabled")
                return connection.respond(HTTPStatus.FORBIDDEN, "ingest is disabled (no token configured)\n")
            if not self._authorised(request.headers):
                self._refuse("token")
                response = connection.respond(HTTPStatus.UNAUTHORIZED, "missing or wrong bearer token\n")
                response.headers["WWW-Authenticate"] = 'Bearer realm="twin-ingest"'
                return response
        return None

    def _authorised(self, headers: Headers) -> bool:
        value = headers.get("Authorization", "")
        scheme, _, given = value.partition(" ")
        assert self._token is not None
        # compare_digest on every request, also for a wrong scheme, so timing reveals nothing
        ok = hmac.compare_digest(given.strip().encode(), self._token)
        return ok and scheme.lower() == "bearer"

    async def _handler(self, connection: ServerConnection) -> None:
        path = connection.request.path.split("?", 1)[0] if connection.request else ""
        if path == "/ingest":
            await self._ingest(connection)
        else:
            await self.hub.serve_client(connection)

    async def _ingest(self, connection: ServerConnection) -> None:
        """Read messages in order, journal each, and answer acks in the same order."""
        replies: asyncio.Queue[_Reply | None] = asyncio.Queue()
        sender = asyncio.create_task(self._send_replies(connection, replies))
        from feeds.ais import NmeaDecoder

        decoder = NmeaDecoder(INGEST_SOURCE)  # one per connection: fragments may span its messages
        try:
            async for message in connection:
                started = time.perf_counter()
                try:
                    batch = await asyncio.to_thread(parse_ingest, message, self.core.clock(), decoder)
                except IngestError as exc:
                    self.core.count_ingest_error(exc.rule)
                    replies.put_nowait((None, None, exc.to_message(exc.msg_id)))
                    continue
                self.core.note_timing("ingest_parse", time.perf_counter() - started)
                try:
                    durable = await self.core.submit_ingest(batch)
                except OSError as exc:  # the journal cannot be written (disk full, I/O error)
                    self.core.count_ingest_error("journal.write")
                    error = IngestError("journal.write", "$", f"not journalled, send again later: {exc}")
                    replies.put_nowait((None, None, error.to_message(batch.msg_id)))
                    continue
                extra: dict[str, Any] = {"accepted": batch.accepted_rows, "rejected": batch.rejected.height}
                if batch.msg_id is not None:
                    extra["id"] = batch.msg_id
                replies.put_nowait((batch.msg_id, durable, extra))
        except ConnectionClosed:
            pass  # the client left; acks still owed are dropped with the connection
        finally:
            if decoder.pending_lines:  # fragments whose message never ended: rejected, and counted
                self.core.count_rejected("ais", decoder.flush().rejected)
            replies.put_nowait(None)
            try:
                await asyncio.wait_for(sender, timeout=5.0)
            except (TimeoutError, ConnectionClosed):
                sender.cancel()

    async def _send_replies(
        self,
        connection: ServerConnection,
        replies: asyncio.Queue[_Reply | None],
    ) -> None:
        while (item := await replies.get()) is not None:
            _msg_id, durable, body = item
            if durable is not None:
                try:
                    seq = await durable
                except OSError as exc:  # fsync failed: the batch may not survive a crash
                    self.core.count_ingest_error("journal.sync")
                    body = IngestError("journal.sync", "$", f"not durable: {exc}").to_message(_msg_id)
                else:
                    body = {"ack": seq, **body}
            try:
                await connection.send(json.dumps(body))
            except ConnectionClosed:
                return
