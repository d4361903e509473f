"""The chat's gatekeeper: an ASGI middleware that sees every request before Gradio.

Gradio answers uploads, logins and event calls for anyone who reaches the port,
and its own limits are per file. :class:`Guard` applies docqa's rules first:

- Uploads: none at all in read-only mode (every route that takes a file body,
  and any event call that names a file). Otherwise one upload request carries
  at most ``UPLOAD_FILES`` files' worth of bytes (Gradio refuses each file over
  ``QA_MAX_FILE_MB``), counted as the body arrives, so a chunked body without
  ``Content-Length`` is stopped too; and the upload folder holds at most
  ``FOLDER_FILES`` files' worth of uploads not yet added.
- Every other request body is at most ``MAX_BODY_BYTES``, and the files an
  event call names (Gradio's ``FileData`` objects in its JSON) must be uploads
  in the upload folder: no URL for the server to fetch, no path elsewhere on
  its disk.
- Failed logins are slowed down per client address (:class:`LoginThrottle`).

A refusal is a JSON body ``{"detail": "..."}`` that says why, with the usual
status: 403, 413, 429 (with ``Retry-After``) or 507.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import math
import os
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from starlette.datastructures import Headers
from starlette.responses import FileResponse
from starlette.formparsers import MultiPartException

from .originals import LINKS, PREFIX as ORIGINALS, Links

# Gradio 6 takes uploads at /gradio_api/upload; /upload is what older releases
# used, refused here too so that an upgrade or downgrade cannot open it.
UPLOAD_PATH = "/gradio_api/upload"
UPLOAD_PATHS = frozenset({UPLOAD_PATH, "/upload"})
LOGIN_PATH = "/login"
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_BODY_BYTES = 8_000_000  # an event call: the question and the tab's chat so far, as JSON
UPLOAD_FILES = 10  # one upload request: at most this many largest-allowed files
FOLDER_FILES = 20  # uploads waiting to be added, all tabs together
MULTIPART_SLACK = 1_000_000  # boundaries and part headers around the files' bytes
DRAIN_BYTES = 32_000_000  # a refused body is read up to this much, so the client gets the answer, not a reset

READ_ONLY = "This chat is read-only: it accepts no uploads."
ELSEWHERE = "This chat takes files only as uploads to /gradio_api/upload."
NOT_UPLOADED = ("Only files uploaded to this chat (through /gradio_api/upload) can be used: "
                "it fetches no URLs and reads no other files on the server.")
TOO_BIG_BODY = f"The request is too large: a request other than an upload carries at most {MAX_BODY_BYTES / 1e6:g} MB."
TOO_BIG_UPLOAD = "The upload is too large: one upload request carries at most {files} files of {mb:g} MB."
FOLDER_FULL = ("Too many uploads are waiting to be added ({mb:g} MB): add them to the index "
               "(or wait an hour, when unused uploads are removed) and try again.")
LINK_GONE = "This download link is unknown or has lapsed: open the citation in the chat again for a new one."
BUSY_LOGIN = "A login from this address is being checked: try again in {s} s."


@dataclass(frozen=True)
class Policy:
    """What the guard allows: from Settings, plus where Gradio keeps this chat's uploads."""

    read_only: bool
    max_file_bytes: int
    upload_dir: Path

    @property
    def upload_request_bytes(self) -> int:
        return UPLOAD_FILES * self.max_file_bytes + MULTIPART_SLACK

    @property
    def folder_bytes(self) -> int:
        return FOLDER_FILES * self.max_file_bytes


class LoginThrottle:
    """Consecutive failed logins per client address, and how long the next attempt waits.

    The first ``free`` failures cost nothing; then each attempt waits ``first_s``
    seconds after the last failure, doubling with every failure up to ``cap_s``.
    A success forgets the address; so does ``forget_s`` without a failure. One
    attempt per address is checked at a time (a second one meanwhile is refused
    at once), so parallel connections do not multiply the rate. At most
    ``max_clients`` addresses are remembered: the least recently seen goes first.
    """

    def __init__(self, free: int = 3, first_s: float = 1.0, cap_s: float = 30.0,
                 max_clients: int = 10_000, forget_s: float = 3600.0, clock=time.monotonic):
        self.free, self.first_s, self.cap_s = free, first_s, cap_s
        self.max_clients, self.forget_s, self.clock = max_clients, forget_s, clock
        self._clients: OrderedDict[str, list] = OrderedDict()  # address -> [failures, last failure, checking]

    def __len__(self) -> int:
        return len(self._clients)

    def delay(self, failures: int) -> float:
        """Seconds an attempt waits after ``failures`` consecutive failures."""
        if failures < self.free:
            return 0.0
        return min(self.cap_s, self.first_s * 2.0 ** (failures - self.free))

    def begin(self, client: str) -> float | None:
        """Start checking an attempt: the seconds it must wait first, or None when
        another attempt from ``client`` is being checked (refuse this one)."""
        now = self.clock()
        entry = self._entry(client, now)
        if entry[2]:
            return None
        entry[2] = True
        return max(0.0, entry[1] + self.delay(entry[0]) - now)

    def end(self, client: str, ok: bool) -> float:
        """Record the attempt's outcome; the seconds the next attempt from ``client`` will wait."""
        entry = self._clients.get(client)
        if ok:
            self._clients.pop(client, None)
            return 0.0
        now = self.clock()
        if entry is None:  # evicted meanwhile
            entry = self._entry(client, now)
        entry[0] += 1
        entry[1] = now
        entry[2] = False
        return self.delay(entry[0])

    def wait(self, client: str) -> float:
        """Seconds before an attempt from ``client`` would be checked (0 for an unknown one)."""
        entry = self._clients.get(client)
        if entry is None:
            return 0.0
        return max(0.0, entry[1] + self.delay(entry[0]) - self.clock())

    def _entry(self, client: str, now: float) -> list:
        entry = self._clients.get(client)
        if entry is not None:
            self._clients.move_to_end(client)
            if not entry[2] and now - entry[1] > self.forget_s:
                entry[0] = 0
            return entry
        while len(self._clients) >= self.max_clients:
            self._clients.popitem(last=False)
        entry = self._clients[client] = [0, now, False]
        return entry


class Guard:
    """ASGI middleware applying :class:`Policy` and, when a login is required, a :class:`LoginThrottle`."""

    def __init__(self, app, policy: Policy, throttle: LoginThrottle | None = None, links: Links | None = None):
        self.app = app
        self.policy = policy
        self.throttle = throttle
        self.links = links if links is not None else LINKS

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["path"].startswith(ORIGINALS) and scope["method"] in ("GET", "HEAD"):
            await self._original(scope, receive, send)
            return
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        path = scope["path"].rstrip("/") or "/"
        headers = Headers(scope=scope)
        multipart = headers.get("content-type", "").split(";")[0].strip().lower() == "multipart/form-data"
        if path in UPLOAD_PATHS or (multipart and path != LOGIN_PATH):
            await self._upload(scope, receive, send, path, headers)
            return
        body = await _read_body(receive, headers, MAX_BODY_BYTES)
        if body is None:
            await _refuse(send, 413, TOO_BIG_BODY)
            return
        problem = self._named_files_problem(body, headers)
        if problem:
            await _refuse(send, *problem)
            return
        replay = _replay(body, receive)
        if path == LOGIN_PATH and self.throttle is not None:
            await self._login(scope, replay, send)
        else:
            await self.app(scope, replay, send)

    async def _original(self, scope, receive, send):
        """A download link of the source viewer (ui/originals.py): the file, or why not."""
        path = self.links.resolve(scope["path"])
        if path is None or not path.is_file():
            await _refuse(send, 404, LINK_GONE)
            return
        await FileResponse(path, filename=path.name)(scope, receive, send)

    async def _upload(self, scope, receive, send, path, headers):
        limit = self.policy.upload_request_bytes
        if self.policy.read_only or path != UPLOAD_PATH:
            await _drain(receive)
            await _refuse(send, 403, READ_ONLY if self.policy.read_only else ELSEWHERE)
            return
        declared = _content_length(headers)
        if declared is not None and declared > limit:
            await _refuse(send, 413, TOO_BIG_UPLOAD.format(files=UPLOAD_FILES, mb=self.policy.max_file_bytes / 1e6))
            return
        room = self.policy.folder_bytes - _folder_size(self.policy.upload_dir)
        if room <= (declared or 0):
            await _drain(receive)
            await _refuse(send, 507, FOLDER_FULL.format(mb=self.policy.folder_bytes / 1e6))
            return
        budget = min(limit, room)
        seen = 0

        async def counted():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > budget:
                    # Raised inside Gradio's multipart parser, which then deletes the
                    # partial files and answers 413 with this message.
                    raise MultiPartException(
                        f"The upload exceeded the maximum allowed size of {budget} bytes for one request."
                    )
            return message

        await self.app(scope, counted, send)

    async def _login(self, scope, receive, send):
        client = _client_key(scope)
        wait = self.throttle.begin(client)
        if wait is None:
            retry = max(1, math.ceil(self.throttle.wait(client)))
            await _refuse(send, 429, BUSY_LOGIN.format(s=retry), [(b"retry-after", str(retry).encode())])
            return
        ended = False

        async def noted(message):
            nonlocal ended
            if message["type"] == "http.response.start" and not ended:
                ended = True
                ok = message["status"] == 200
                next_wait = self.throttle.end(client, ok)
                if not ok and next_wait > 0:
                    message = {**message, "headers": [*message.get("headers", []),
                                                      (b"retry-after", str(math.ceil(next_wait)).encode())]}
            await send(message)

        try:
            if wait > 0:
                await asyncio.sleep(wait)  # this connection waits; the server goes on with the others
            await self.app(scope, receive, noted)
        finally:
            if not ended:  # the client left, or the app failed: counts as a failure
                self.throttle.end(client, False)

    def _named_files_problem(self, body: bytes, headers: Headers) -> tuple[int, str] | None:
        """(status, message) when a JSON body names a file it may not, else None."""
        if "json" not in headers.get("content-type", "").lower() or not body:
            return None
        try:
            data = json.loads(body)
        except RecursionError:
            return 400, "The request's JSON is nested too deeply."
        except ValueError:
            return None  # not JSON: Gradio answers that itself
        folder = self.policy.upload_dir
        for path in _file_paths(data):
            if self.policy.read_only:
                return 403, READ_ONLY
            if not _inside(path, folder):
                return 403, NOT_UPLOADED
        return None


def _file_paths(data):
    """The ``path`` of every file object (a dict with a string "path", as Gradio
    recognises them) anywhere in decoded JSON ``data``."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if isinstance(item.get("path"), str):
                yield item["path"]
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _inside(path: str, folder: Path) -> bool:
    if "://" in path or path.startswith("data:"):
        return False
    try:
        return Path(folder).resolve() in Path(os.path.realpath(path)).parents
    except (OSError, ValueError):
        return False


def _client_key(scope) -> str:
    """The throttle's key for the client: its address, or its /64 network for IPv6
    (one machine usually holds a whole /64)."""
    host = (scope.get("client") or ("unknown",))[0]
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if address.version == 6:
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def _content_length(headers: Headers) -> int | None:
    try:
        return int(headers["content-length"])
    except (KeyError, ValueError):
        return None


def _folder_size(folder: Path) -> int:
    total = 0
    for root, _, names in os.walk(folder):
        for name in names:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                pass  # added and removed meanwhile
    return total


async def _read_body(receive, headers: Headers, limit: int) -> bytes | None:
    """The whole request body, or None when it is longer than ``limit``."""
    declared = _content_length(headers)
    if declared is not None and declared > limit:
        return None
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break  # the client left; the app finds out at its next receive
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive):
    """A receive callable that gives ``body`` once, then whatever the client sends (its disconnect)."""
    sent = False

    async def replay():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _drain(receive, limit: int = DRAIN_BYTES) -> None:
    seen = 0
    while seen <= limit:
        message = await receive()
        if message["type"] != "http.request":
            return
        seen += len(message.get("body", b""))
        if not message.get("more_body", False):
            return


async def _refuse(send, status: int, message: str, headers=()) -> None:
    body = json.dumps({"detail": message}).encode()
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *headers],
    })
    await send({"type": "http.response.body", "body": body})
