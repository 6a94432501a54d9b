"""Delivering the outbox: the Delivery protocol, console and webhook deliveries, the dispatcher.

A row is marked delivered only after the target confirmed it. A failed delivery is retried with
capped exponential backoff and never dropped; a destination that refuses for good (channel gone,
permission lost) is marked broken and its rows are kept.
"""

from __future__ import annotations

import json
import logging
import os
import random
import secrets
import sys
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from casewatch import render
from casewatch.clock import Clock
from casewatch.digest import DigestView, digest_messages, digest_text, load_digest
from casewatch.render import AlertView
from casewatch.views import alert_json, alert_view
from storage import destinations, outbox

if TYPE_CHECKING:  # aiohttp: a webhook has a session, and its module, by the time it posts
    import aiohttp

    from storage.db import Database

log = logging.getLogger(__name__)


class DeliveryError(Exception):
    """A delivery failed. `gone` means the destination refuses for good (stop sending there)."""

    def __init__(self, message: str, *, retry_after: float | None = None, gone: bool = False):
        super().__init__(message)
        self.retry_after = retry_after
        self.gone = gone


class Delivery(Protocol):
    """What the console, the webhook and the Discord bot implement."""

    types: tuple[str, ...]  # destination types this delivery serves

    async def send_alert(self, dest: dict, row: dict, view: AlertView) -> str | None:
        """Post an alert; return the message id (None when the target has none)."""
        ...

    async def update_alert(self, dest: dict, row: dict, view: AlertView, message_id: str) -> None:
        """Edit a posted alert (more outlets joined)."""
        ...

    async def send_digest(self, dest: dict, row: dict, digest: DigestView) -> str | None: ...

    async def send_notice(self, dest: dict, row: dict, text: str) -> str | None: ...


@dataclass
class DrainReport:
    delivered: int = 0
    failed: int = 0
    broken: int = 0


def retry_delay(attempts: int, retry_after: float | None, rng: random.Random) -> float:
    """Capped exponential backoff with jitter; never sooner than a server's retry_after."""
    base = min(3600.0, 5.0 * 2 ** min(attempts, 12))
    delay = base / 2 + rng.random() * base / 2
    return max(delay, retry_after or 0.0)


class Dispatcher:
    """Drains due outbox rows of a delivery's destination types."""

    # How long a row stays claimed by the process delivering it: longer than any one delivery
    # (a long 429 reschedules the row instead of waiting). The row a process was delivering when
    # it died waits this long to be retried (by a nonce, so Discord shows it once).
    CLAIM_LEASE = timedelta(minutes=5)

    def __init__(self, db: Database, clock: Clock, *, rng: random.Random | None = None) -> None:
        self.db = db
        self.clock = clock
        self.rng = rng or random.Random()
        # Who claims rows: another process on the same file has another id.
        self.owner = f"{os.getpid()}-{secrets.token_hex(4)}"

    async def drain(self, delivery: Delivery, *, limit: int = 100) -> DrainReport:
        report = DrainReport()
        for row in outbox.pending(self.db, now=self.clock.now(), types=delivery.types, limit=limit):
            dest = destinations.get(self.db, row["destination_id"])
            if dest is None or dest.get("broken_reason"):
                continue
            now = self.clock.now()
            if not outbox.claim(
                self.db, row["id"], owner=self.owner, now=now, until=now + self.CLAIM_LEASE
            ):
                continue  # another process delivers it (or did already)
            try:
                message_id = await self._deliver_one(delivery, dest, row)
            except DeliveryError as exc:
                if exc.gone:
                    if destinations.mark_broken(self.db, dest["id"], str(exc), self.clock.now()):
                        log.warning("destination %s is broken: %s (rows kept)", dest["id"], exc)
                        tell = getattr(delivery, "destination_broken", None)
                        if tell is not None:
                            await tell(dest, str(exc))
                    outbox.release(self.db, row["id"])
                    report.broken += 1
                    continue
                self._failed(row, str(exc), exc.retry_after)
                report.failed += 1
                continue
            except Exception as exc:  # a bug in a delivery must not lose the row
                log.exception("delivery of outbox row %s failed unexpectedly", row["id"])
                self._failed(row, f"{type(exc).__name__}: {exc}", None)
                report.failed += 1
                continue
            outbox.mark_delivered(self.db, row["id"], now=self.clock.now(), message_id=message_id)
            report.delivered += 1
        return report

    def _failed(self, row: dict, error: str, retry_after: float | None) -> None:
        delay = retry_delay(int(row["attempts"]), retry_after, self.rng)
        outbox.mark_failed(
            self.db, row["id"], error=error, retry_at=self.clock.now() + timedelta(seconds=delay)
        )
        log.info("outbox row %s: %s; retry in %.0fs", row["id"], error, delay)

    async def _deliver_one(self, delivery: Delivery, dest: dict, row: dict) -> str | None:
        kind = row["kind"]
        if kind in ("alert", "update"):
            view = alert_view(self.db, int(row["story_id"]))
            if view is None:
                return None  # the story is gone: nothing to say
            if kind == "alert":
                return await delivery.send_alert(dest, row, view)
            original = outbox.alert_message(self.db, dest["id"], int(row["story_id"]))
            if original is None or original.get("delivered_at") is None:
                return None  # the alert itself is still pending and will show every outlet
            message_id = str(original.get("message_id") or "")
            await delivery.update_alert(dest, row, view, message_id)
            return message_id or None
        if kind == "digest":
            return await delivery.send_digest(dest, row, load_digest(self.db, row["payload"] or {}))
        if kind == "notice":
            return await delivery.send_notice(dest, row, (row["payload"] or {}).get("text", ""))
        log.warning("outbox row %s has an unknown kind %r; leaving it", row["id"], kind)
        raise DeliveryError(f"unknown outbox kind {kind!r}")


class ConsoleDelivery:
    """Prints alerts, digests and notices to a terminal (or JSON lines)."""

    types: tuple[str, ...] = ("console",)

    def __init__(
        self, out: TextIO | None = None, *, as_json: bool = False, err: TextIO | None = None
    ) -> None:
        self.out = out or sys.stdout
        self.err = err  # admin notices in text mode (None: sys.stderr at the time of writing)
        self.as_json = as_json

    def _emit(self, text: str, obj: dict[str, Any]) -> None:
        self.out.write((json.dumps(obj, ensure_ascii=False) if self.as_json else text) + "\n")
        self.out.flush()

    async def send_alert(self, dest: dict, row: dict, view: AlertView) -> str | None:
        self._emit(render.alert_text(view) + "\n", {"type": "alert", **alert_json(view)})
        return None

    async def update_alert(self, dest: dict, row: dict, view: AlertView, message_id: str) -> None:
        others = [o for o in view.outlets if o != view.source]
        line = f"[update] story {view.story_id} «{view.title}»"
        if view.summary:
            line += f"\n  {view.summary}"
        if others:
            line += f"\n  also reported by: {', '.join(others)}"
        line += "".join(f"\n  + {outlet}: {title}" for outlet, title in view.reports)
        self._emit(line + "\n", {"type": "update", **alert_json(view)})

    async def send_digest(self, dest: dict, row: dict, digest: DigestView) -> str | None:
        self._emit(digest_text(digest) + "\n", {"type": "digest", **digest.as_json()})
        return None

    async def send_notice(self, dest: dict, row: dict, text: str) -> str | None:
        """Admin notices go to stderr, beside the cycle summary, not among the alerts; with
        --json they are typed lines ("type": "notice") of the same stream."""
        if self.as_json:
            self._emit("", {"type": "notice", "text": text})
            return None
        err = self.err or sys.stderr
        err.write(f"[notice] {text}\n")
        err.flush()
        return None


class WebhookDelivery:
    """Posts through a Discord webhook (no bot). Webhooks take no nonce: the outbox row's
    delivered mark is what prevents repeats, so a crash between Discord's answer and that mark
    can repeat one message; the bot's channel sends do not have this gap."""

    types: tuple[str, ...] = ("webhook",)

    def __init__(self, session: aiohttp.ClientSession, url: str) -> None:
        self.session = session
        self.url = url.split("?", 1)[0]

    async def _call(self, method: str, url: str, payload: dict[str, Any]) -> dict[str, Any]:
        import aiohttp

        payload.setdefault("allowed_mentions", {"parse": []})
        try:
            async with self.session.request(method, url, json=payload) as resp:
                body = await resp.read()
                if resp.status == 429:
                    try:
                        retry = float(json.loads(body).get("retry_after", 1.0))
                    except (ValueError, AttributeError):
                        retry = float(resp.headers.get("Retry-After", "1") or 1)
                    raise DeliveryError("webhook rate limited (429)", retry_after=retry)
                if resp.status in (401, 403, 404):
                    raise DeliveryError(
                        f"webhook refused with HTTP {resp.status}: {body[:200]!r}", gone=True
                    )
                if resp.status >= 400:
                    raise DeliveryError(f"webhook answered HTTP {resp.status}: {body[:200]!r}")
                return json.loads(body) if body else {}
        except aiohttp.ClientError as exc:
            raise DeliveryError(f"webhook unreachable: {exc}") from exc

    async def _post(self, content: str, embeds: list[dict[str, Any]]) -> str | None:
        content, embeds = render.clamp_message(content, embeds)
        data = await self._call(
            "POST", self.url + "?wait=true", {"content": content, "embeds": embeds}
        )
        return str(data["id"]) if "id" in data else None

    async def send_alert(self, dest: dict, row: dict, view: AlertView) -> str | None:
        return await self._post("", [render.alert_embed(view)])

    async def update_alert(self, dest: dict, row: dict, view: AlertView, message_id: str) -> None:
        _, embeds = render.clamp_message("", [render.alert_embed(view)])
        await self._call("PATCH", f"{self.url}/messages/{message_id}", {"embeds": embeds})

    async def send_digest(self, dest: dict, row: dict, digest: DigestView) -> str | None:
        first: str | None = None
        for content in digest_messages(digest):
            mid = await self._post(content, [])
            first = first or mid
        return first

    async def send_notice(self, dest: dict, row: dict, text: str) -> str | None:
        return await self._post("", [render.notice_embed(text)])
