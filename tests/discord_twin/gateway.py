"""The twin's gateway: a websocket speaking Discord's gateway protocol (v10, JSON, zlib-stream).

HELLO, IDENTIFY -> READY + GUILD_CREATE, HEARTBEAT -> ACK, RESUME -> replay + RESUMED, INVALID
SESSION, RECONNECT, request guild members, sequence numbers, intents, shards. Events are kept per
session so a resumed session gets what it missed, as on Discord.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from aiohttp import WSMsgType, web

from .world import JSON, World

log = logging.getLogger(__name__)

# Opcodes.
DISPATCH = 0
HEARTBEAT = 1
IDENTIFY = 2
PRESENCE_UPDATE = 3
VOICE_STATE_UPDATE = 4
RESUME = 6
RECONNECT = 7
REQUEST_GUILD_MEMBERS = 8
INVALID_SESSION = 9
HELLO = 10
HEARTBEAT_ACK = 11

# Intents.
GUILDS = 1 << 0
GUILD_MEMBERS = 1 << 1
GUILD_PRESENCES = 1 << 8
GUILD_MESSAGES = 1 << 9
MESSAGE_CONTENT = 1 << 15
PRIVILEGED_INTENTS = GUILD_MEMBERS | GUILD_PRESENCES | MESSAGE_CONTENT
ALL_INTENTS = (1 << 26) - 1


@dataclass
class ConnectionRecord:
    """What one websocket connection did, for assertions."""

    path: str
    query: dict[str, str]
    opened_at: datetime
    identified: bool = False
    resumed: bool = False
    session_id: str | None = None
    heartbeats: int = 0
    close_code: int | None = None  # the code the connection ended with, from either side
    closed_by_twin: bool = False
    sent: list[str] = field(default_factory=list)  # "READY", "GUILD_CREATE", "op11", ...


@dataclass
class _Close:
    code: int
    reason: str


class _Connection:
    """One live websocket: an ordered outbound queue drained by a single writer task."""

    def __init__(self, ws: web.WebSocketResponse, record: ConnectionRecord, compress: bool):
        self.ws = ws
        self.record = record
        self.session: GatewaySession | None = None
        self.ready = False
        self._zlib = zlib.compressobj() if compress else None
        self._queue: asyncio.Queue[JSON | _Close | None] = asyncio.Queue()
        self.closed = asyncio.Event()
        self.writer = asyncio.create_task(self._write(), name="twin-gateway-writer")

    def send(self, frame: JSON) -> None:
        """Queue a frame for the writer (sends keep their order)."""
        label = str(frame.get("t") or f"op{frame.get('op')}")
        self.record.sent.append(label)
        self._queue.put_nowait(frame)

    def close(self, code: int, reason: str) -> None:
        """Close the socket with `code` after the frames already queued."""
        self._queue.put_nowait(_Close(code, reason))

    def stop(self) -> None:
        """End the writer without closing (the peer already did)."""
        self._queue.put_nowait(None)

    async def _write(self) -> None:
        try:
            while True:
                item = await self._queue.get()
                if item is None:
                    return
                if isinstance(item, _Close):
                    if not self.ws.closed:
                        self.record.close_code = item.code
                        self.record.closed_by_twin = True
                    await self.ws.close(code=item.code, message=item.reason.encode())
                    return
                text = json.dumps(item, separators=(",", ":"), ensure_ascii=False)
                if self._zlib is not None:
                    raw = self._zlib.compress(text.encode()) + self._zlib.flush(zlib.Z_SYNC_FLUSH)
                    await self.ws.send_bytes(raw)
                else:
                    await self.ws.send_str(text)
        except (ConnectionError, RuntimeError) as exc:
            log.debug("gateway writer stopped: %s", exc)


class GatewaySession:
    """A gateway session: survives its connection so that RESUME can replay what was missed."""

    def __init__(self, session_id: str, shard: tuple[int, int], intents: int) -> None:
        self.id = session_id
        self.shard = shard
        self.intents = intents
        self.seq = 0
        self.log: list[JSON] = []
        self.conn: _Connection | None = None
        self.resumable = True

    def covers(self, guild_id: int | None) -> bool:
        """Whether this session's shard receives the guild's events (guild-less: shard 0)."""
        shard_id, count = self.shard
        if guild_id is None:
            return shard_id == 0
        return (guild_id >> 22) % count == shard_id

    def dispatch(self, event: str, data: JSON) -> int:
        """Number, log and (if connected) send an event; return its sequence number."""
        self.seq += 1
        frame = {"op": DISPATCH, "t": event, "s": self.seq, "d": data}
        self.log.append(frame)
        if self.conn is not None:
            self.conn.send(frame)
        return self.seq


class Gateway:
    """Sessions and connections of the twin's gateway; `handle` is the aiohttp websocket view."""

    def __init__(
        self,
        world: World,
        *,
        heartbeat_interval: float,
        privileged_intents: int,
        resume_url: Callable[[], str],
        on_change: Callable[[], None],
    ) -> None:
        self.world = world
        self.heartbeat_interval = heartbeat_interval
        self.privileged_intents = privileged_intents
        self._resume_url = resume_url
        self._on_change = on_change
        self.sessions: dict[str, GatewaySession] = {}
        self.connections: list[ConnectionRecord] = []
        self.identify_count = 0
        self._live: set[_Connection] = set()
        self.ready = asyncio.Event()

    # -- websocket view ------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        """Serve one gateway connection until either side closes it."""
        ws = web.WebSocketResponse(max_msg_size=4 * 1024 * 1024, autoping=True)
        await ws.prepare(request)
        query = dict(request.query)
        record = ConnectionRecord(path=request.path, query=query, opened_at=self.world.clock.now())
        self.connections.append(record)
        compress = query.get("compress")
        conn = _Connection(ws, record, compress == "zlib-stream")
        self._live.add(conn)
        problem = self._check_query(query)
        try:
            if problem is not None:
                conn.close(*problem)
            else:
                conn.send(
                    {"op": HELLO, "d": {"heartbeat_interval": int(self.heartbeat_interval * 1000)}}
                )
                async for msg in ws:
                    if msg.type is WSMsgType.TEXT:
                        self._on_frame(conn, msg.data)
                    elif msg.type is WSMsgType.BINARY:
                        conn.close(4002, "binary (ETF) payloads are not supported by the twin")
            conn.stop()  # the read loop is over: let the writer finish
            await asyncio.wait_for(conn.writer, timeout=5)
        finally:
            if not conn.writer.done():
                conn.writer.cancel()
            if record.close_code is None:
                record.close_code = ws.close_code
            self._live.discard(conn)
            if conn.session is not None and conn.session.conn is conn:
                conn.session.conn = None
                if ws.close_code in (1000, 1001) and not record.closed_by_twin:
                    # A client's clean close ends its session on Discord.
                    conn.session.resumable = False
            conn.closed.set()
            self._update_ready()
        return ws

    def _check_query(self, query: dict[str, str]) -> tuple[int, str] | None:
        if query.get("v", "10") not in ("9", "10"):
            return 4012, f"Invalid API version: {query.get('v')}"
        if query.get("encoding", "json") != "json":
            return 4002, f"the twin speaks encoding=json only, not {query.get('encoding')}"
        if query.get("compress") not in (None, "zlib-stream"):
            return 4002, f"the twin supports compress=zlib-stream only, not {query.get('compress')}"
        return None

    # -- inbound frames ------------------------------------------------------------------------

    def _on_frame(self, conn: _Connection, text: str) -> None:
        try:
            frame = json.loads(text)
            op = frame["op"]
        except (ValueError, KeyError, TypeError):
            conn.close(4002, "Error while decoding payload.")
            return
        data = frame.get("d")
        if op == HEARTBEAT:
            conn.record.heartbeats += 1
            conn.send({"op": HEARTBEAT_ACK})
        elif op == IDENTIFY:
            self._identify(conn, data if isinstance(data, dict) else {})
        elif op == RESUME:
            self._resume(conn, data if isinstance(data, dict) else {})
        elif conn.session is None:
            conn.close(4003, "Not authenticated.")
        elif op in (PRESENCE_UPDATE, VOICE_STATE_UPDATE):
            pass  # accepted; the twin keeps no presence or voice state
        elif op == REQUEST_GUILD_MEMBERS:
            self._request_members(conn.session, data if isinstance(data, dict) else {})
        else:
            conn.close(4001, f"Unknown opcode: {op}")

    def _identify(self, conn: _Connection, data: JSON) -> None:
        if conn.session is not None:
            conn.close(4005, "Already authenticated.")
            return
        if data.get("token") != self.world.token:
            conn.close(4004, "Authentication failed.")
            return
        intents = data.get("intents")
        if not isinstance(intents, int) or intents < 0 or intents & ~ALL_INTENTS:
            conn.close(4013, f"Invalid intent(s): {intents!r}")
            return
        if intents & PRIVILEGED_INTENTS & ~self.privileged_intents:
            conn.close(4014, "Disallowed intent(s).")
            return
        shard = data.get("shard") or [0, 1]
        if not isinstance(shard, list) or len(shard) != 2 or not 0 <= int(shard[0]) < int(shard[1]):
            conn.close(4010, f"Invalid shard: {shard!r}")
            return
        session = GatewaySession(uuid.uuid4().hex, (int(shard[0]), int(shard[1])), intents)
        # A new session for a shard replaces the old one: it gets no more events.
        for old in self.sessions.values():
            if old.shard == session.shard:
                old.resumable = False
        self.sessions[session.id] = session
        self.identify_count += 1
        session.conn = conn
        conn.session = session
        conn.record.identified = True
        conn.record.session_id = session.id
        guilds = [g for g in self.world.guilds.values() if session.covers(g.id)]
        ready: JSON = {
            "v": 10,
            "user": self.world.bot_user.payload() | {"verified": True, "mfa_enabled": False},
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self._resume_url(),
            "application": {
                "id": str(self.world.application_id),
                "flags": self.world.application_flags,
            },
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "user_settings": {},
            "_trace": ["discord-twin"],
        }
        if data.get("shard") is not None:
            ready["shard"] = list(session.shard)
        session.dispatch("READY", ready)
        for guild in guilds:
            session.dispatch("GUILD_CREATE", self.world.gateway_guild(guild))
        conn.ready = True
        self._update_ready()

    def _resume(self, conn: _Connection, data: JSON) -> None:
        if conn.session is not None:
            conn.close(4005, "Already authenticated.")
            return
        if data.get("token") != self.world.token:
            conn.close(4004, "Authentication failed.")
            return
        session = self.sessions.get(str(data.get("session_id")))
        seq = data.get("seq")
        if (
            session is None
            or not session.resumable
            or not isinstance(seq, int)
            or seq > session.seq
        ):
            conn.send({"op": INVALID_SESSION, "d": False})
            return
        if session.conn is not None and session.conn is not conn:
            session.conn.close(4000, "session resumed elsewhere")
        session.conn = conn
        conn.session = session
        conn.record.resumed = True
        conn.record.session_id = session.id
        for frame in session.log:
            if frame["s"] > seq:
                conn.send(frame)
        session.dispatch("RESUMED", {"_trace": ["discord-twin"]})
        conn.ready = True
        self._update_ready()

    def _request_members(self, session: GatewaySession, data: JSON) -> None:
        guild_ids = data.get("guild_id")
        for raw in guild_ids if isinstance(guild_ids, list) else [guild_ids]:
            guild = self.world.guilds.get(int(raw)) if raw is not None else None
            if guild is None:
                continue
            members = list(guild.members.values())
            wanted = data.get("user_ids")
            not_found: list[str] = []
            if wanted is not None:
                ids = {int(u) for u in (wanted if isinstance(wanted, list) else [wanted])}
                not_found = [str(i) for i in ids if i not in guild.members]
                members = [m for m in members if m.id in ids]
            else:
                query = str(data.get("query") or "").lower()
                members = [m for m in members if m.user.username.lower().startswith(query)]
                limit = int(data.get("limit") or 0)
                if limit:
                    members = members[:limit]
            chunk: JSON = {
                "guild_id": str(guild.id),
                "members": [m.payload() for m in members],
                "chunk_index": 0,
                "chunk_count": 1,
            }
            if not_found:
                chunk["not_found"] = not_found
            if data.get("nonce") is not None:
                chunk["nonce"] = data["nonce"]
            if data.get("presences"):
                chunk["presences"] = []
            session.dispatch("GUILD_MEMBERS_CHUNK", chunk)

    # -- outbound ------------------------------------------------------------------------------

    def current_sessions(self) -> list[GatewaySession]:
        """Sessions that still get events (connected, or resumable while disconnected)."""
        return [s for s in self.sessions.values() if s.resumable]

    def dispatch(
        self, event: str, data: JSON, *, guild_id: int | None = None, intent: int = 0
    ) -> bool:
        """Send an event to every live session that covers the guild and has the intent."""
        delivered = False
        for session in self.current_sessions():
            if not session.covers(guild_id):
                continue
            if intent and not session.intents & intent:
                continue
            session.dispatch(event, data)
            delivered = True
        return delivered

    def session_intents(self, guild_id: int | None) -> int:
        """The intents of the session that covers `guild_id` (0 if none)."""
        for session in self.current_sessions():
            if session.covers(guild_id):
                return session.intents
        return 0

    # -- fault injection -----------------------------------------------------------------------

    async def drop(self, *, resume: bool, code: int = 4000, timeout: float = 5.0) -> None:
        """Break the live connections: resumable close, or INVALID_SESSION (not resumable)."""
        conns = [c for c in self._live if c.session is not None]
        if not conns:
            raise RuntimeError("drop_gateway: no identified gateway connection to drop")
        for conn in conns:
            conn.ready = False
            if resume:
                conn.close(code, "dropped by the twin")
            else:
                assert conn.session is not None
                conn.session.resumable = False
                conn.send({"op": INVALID_SESSION, "d": False})
        self._update_ready()
        await asyncio.wait_for(asyncio.gather(*(c.closed.wait() for c in conns)), timeout)

    async def request_reconnect(self, timeout: float = 5.0) -> None:
        """Send op 7 RECONNECT: the client should close and RESUME."""
        conns = [c for c in self._live if c.session is not None]
        if not conns:
            raise RuntimeError("request_reconnect: no identified gateway connection")
        for conn in conns:
            conn.ready = False
            conn.send({"op": RECONNECT, "d": None})
        self._update_ready()
        await asyncio.wait_for(asyncio.gather(*(c.closed.wait() for c in conns)), timeout)

    async def close_all(self) -> None:
        """Close every connection (twin shutdown)."""
        conns = list(self._live)
        for conn in conns:
            conn.close(1001, "twin stopping")
        if conns:
            await asyncio.wait([asyncio.ensure_future(c.closed.wait()) for c in conns], timeout=2.0)

    def _update_ready(self) -> None:
        live = [c for c in self._live if c.ready and c.session is not None]
        shards = {c.session.shard for c in live if c.session is not None}
        complete = bool(shards) and all(
            {(i, count) for i in range(count)} <= shards for _, count in shards
        )
        if complete:
            self.ready.set()
        else:
            self.ready.clear()
        self._on_change()
