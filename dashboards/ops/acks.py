"""Acknowledging an alert from the desk: the operator check, and the way the ack reaches the engine.

The engine owns alert state (`twin.alerts.AlertEngine.acknowledge(alert_id, by, note, now)`), so
the desk never marks an alert acknowledged itself: it sends the acknowledgement to the engine and
shows it acknowledged once the bus says so. How it travels is behind `Acknowledger`, because the
bus has no ack message kind yet; `BusAcknowledger` sends the kind proposed in docs/ops.md
(`{"v":1,"kind":"alert_ack","rows":[...]}` on `/ingest`) and reports the bus's answer as it is.
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from typing import Literal, Protocol

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

ACK_KIND = "alert_ack"
Refusal = Literal["ack_no_token", "ack_bad_token"]


@dataclass(frozen=True)
class AckResult:
    """What became of one acknowledgement: `ok`, and the engine's receipt or the reason it failed."""

    ok: bool
    detail: str


class Acknowledger(Protocol):
    """Carries an operator's acknowledgement to the engine."""

    async def acknowledge(self, alert_id: str, by: str, note: str, ts_utc: str) -> AckResult:
        """Send it; `ts_utc` is the twin's clock (ISO 8601 with offset) when the operator pressed."""
        ...


def check_operator(configured: str | None, given: str | None) -> Refusal | None:
    """None when `given` is the operator token; else why not (text key of `dashboards.ops.i18n`).

    With no token configured nobody may acknowledge: an unguarded desk would let anyone on the
    network silence alarms. Compared in constant time.
    """
    if not configured:
        return "ack_no_token"
    if not given or not hmac.compare_digest(configured.encode(), given.encode()):
        return "ack_bad_token"
    return None


class BusAcknowledger:
    """Sends acknowledgements to the bus's `/ingest` (server to server, with the ingest token)."""

    def __init__(self, ingest_url: str, ingest_token: str | None, *, timeout_s: float = 5.0) -> None:
        self.ingest_url = ingest_url
        self.ingest_token = ingest_token
        self.timeout_s = timeout_s

    async def acknowledge(self, alert_id: str, by: str, note: str, ts_utc: str) -> AckResult:
        """One message, one reply: `{"ack": seq}` is success, anything else is reported verbatim."""
        if not self.ingest_token:
            return AckResult(False, "the desk has no ingest token (TWIN_INGEST_TOKEN) for the bus")
        message = {
            "v": 1,
            "kind": ACK_KIND,
            "id": f"ack-{alert_id}",
            "rows": [{"ts_utc": ts_utc, "alert_id": alert_id, "by": by, "note": note}],
        }
        try:
            async with connect(
                self.ingest_url,
                additional_headers={"Authorization": f"Bearer {self.ingest_token}"},
                open_timeout=self.timeout_s,
                close_timeout=1,
            ) as ws:
                await ws.send(json.dumps(message))
                reply = json.loads(await ws.recv())
        except (OSError, InvalidStatus, InvalidHandshake, ConnectionClosed, TimeoutError) as exc:
            return AckResult(False, f"{type(exc).__name__}: {exc}")
        except json.JSONDecodeError as exc:
            return AckResult(False, f"unreadable reply: {exc}")
        if isinstance(reply, dict) and "ack" in reply:
            return AckResult(True, f"journal seq {reply['ack']}")
        return AckResult(False, json.dumps(reply, ensure_ascii=False))
