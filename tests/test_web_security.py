"""The chat's web surface against hostile but ordinary clients: uploads (none in
read-only mode, bounded and short-lived in every mode), login attempts, a
question that is not valid UTF-8, and handlers that fail. Real servers (`python
-m ui.app`, or Gradio launched in this process over a failing index), real HTTP."""

from __future__ import annotations

import http.client
import json
import os
import socket
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest

import qa
from helpers import SEED_QUESTION, running_chat
from ui import guard, uploads

ASK = "Where was Haniyeh \ud800 when he was killed?"  # a lone surrogate: no UTF-8 can encode it
MB = 1_000_000


# --- HTTP, by hand: the bodies and framings a browser would not send ----------------------------

def multipart(files: list[tuple[str, bytes]]) -> tuple[str, bytes]:
    """(content type, body) of a multipart upload of ``files`` as Gradio's client sends them."""
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n"
        for name, data in files
    ]
    return f"multipart/form-data; boundary={boundary}", b"".join(parts) + f"--{boundary}--\r\n".encode()


def post(url: str, path: str, body: bytes, content_type: str, *, chunked: bool = False,
         source: str | None = None, headers: dict | None = None) -> tuple[int, dict, bytes]:
    """POST ``body`` (chunked: in 1 MB chunks, no Content-Length), from ``source`` if given:
    (status, headers with lower-case names, body)."""
    where = urlsplit(url)
    conn = http.client.HTTPConnection(where.hostname, where.port, timeout=120,
                                      source_address=(source, 0) if source else None)
    try:
        head = {"Content-Type": content_type, **(headers or {})}
        if chunked:
            pieces = (body[i:i + MB] for i in range(0, len(body), MB))
            conn.request("POST", path, body=pieces, headers=head, encode_chunked=True)
        else:
            conn.request("POST", path, body=body, headers=head)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def upload(url: str, files: list[tuple[str, bytes]], **kw) -> tuple[int, dict, bytes]:
    content_type, body = multipart(files)
    return post(url, "/gradio_api/upload", body, content_type, **kw)


def fn_index(url: str, name: str) -> int:
    with urllib.request.urlopen(url + "config", timeout=30) as r:
        deps = json.loads(r.read())["dependencies"]
    return next(i for i, d in enumerate(deps) if d.get("api_name") == name)


def call_event(url: str, name: str, data: list) -> tuple[int, object]:
    """Run event ``name`` as the page does (queue/join, then its event stream):
    (join status, the event's output data, or the refusal's body)."""
    session = uuid.uuid4().hex[:10]
    status, _, body = post(url, "/gradio_api/queue/join", json.dumps({
        "data": data, "fn_index": fn_index(url, name), "session_hash": session,
        "event_data": None, "trigger_id": None,
    }).encode(), "application/json")
    if status != 200:
        return status, json.loads(body)
    with urllib.request.urlopen(f"{url}gradio_api/queue/data?session_hash={session}", timeout=120) as r:
        for line in r:
            if line.startswith(b"data:"):
                msg = json.loads(line[5:])
                if msg.get("msg") == "process_completed":
                    return status, msg["output"].get("data") if msg.get("success") else msg["output"]
                if msg.get("msg") == "unexpected_error":
                    return status, msg
    raise AssertionError("the event stream ended without a result")


def file_data(path: str, name: str) -> dict:
    return {"path": path, "orig_name": name, "meta": {"_type": "gradio.FileData"}}


def fetch_status(url: str, path: str) -> int:
    try:
        with urllib.request.urlopen(f"{url}gradio_api/file={path}", timeout=30) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


def loopback_alias_works() -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.2", 0))
        except OSError:
            return False
    return True


# --- Uploads --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def read_only_chat(tmp_path_factory):
    with running_chat(tmp_path_factory.mktemp("read-only"), QA_READ_ONLY="1") as chat:
        yield chat


@pytest.mark.slow
def test_a_read_only_chat_takes_no_upload_on_any_route(read_only_chat):
    url = read_only_chat.url
    for i in range(5):  # what was accepted, kept and served back before
        status, _, body = upload(url, [(f"blob{i}.txt", os.urandom(10 * MB))])
        assert status == 403 and "read-only" in json.loads(body)["detail"], (status, body[:200])
    status, _, body = upload(url, [("blob.txt", os.urandom(2 * MB))], chunked=True)
    assert status == 403 and "read-only" in json.loads(body)["detail"]
    content_type, small = multipart([("x.txt", b"hello")])
    for path in ("/upload", "/gradio_api/upload/", "/gradio_api/process_recording", "/gradio_api/component_server"):
        status, _, body = post(url, path, small, content_type)
        assert status == 403 and "read-only" in json.loads(body)["detail"], path

    # An event call can name files too (the chat it sends back): none is taken.
    chat_with_a_file = [{"role": "user", "content": [{"type": "file", "file": file_data(
        "https://example.com/leak.txt", "leak.txt")}]}]
    status, out = call_event(url, "ask", ["hello", chat_with_a_file, None, None, []])
    assert status == 403 and "read-only" in out["detail"]
    # Questions are still answered.
    status, out = call_event(url, "answer", [SEED_QUESTION])
    assert status == 200 and out[0]["found"] is True


@pytest.fixture(scope="module")
def small_files_chat(tmp_path_factory):
    with running_chat(tmp_path_factory.mktemp("small-files"), QA_MAX_FILE_MB="1") as chat:
        yield chat


def upload_folder(url: str) -> Path:
    """The folder the chat keeps uploads in, learnt from a small upload."""
    status, _, body = upload(url, [("probe.txt", b"where do uploads go?")])
    assert status == 200, body
    return Path(json.loads(body)[0]).parent.parent


def stored_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


@pytest.mark.slow
def test_uploads_are_bounded_however_the_body_is_framed(small_files_chat):
    url = small_files_chat.url
    folder = upload_folder(url)
    before = stored_bytes(folder)
    for chunked in (False, True):
        # One file over QA_MAX_FILE_MB (1 MB here).
        status, _, body = upload(url, [("big.txt", b"a" * int(1.5 * MB))], chunked=chunked)
        assert status == 413, (chunked, body[:200])
        # Many files each under it, more than one request may carry (10 files of 1 MB).
        status, _, body = upload(url, [(f"part{i}.txt", os.urandom(int(0.95 * MB))) for i in range(12)],
                                 chunked=chunked)
        assert status == 413, (chunked, status, body[:200])
    assert stored_bytes(folder) == before  # nothing refused is left behind, not even in part
    # Within bounds, an upload of several files is taken.
    status, _, body = upload(url, [(f"ok{i}.txt", os.urandom(int(0.9 * MB))) for i in range(9)])
    assert status == 200 and len(json.loads(body)) == 9


@pytest.mark.slow
def test_uploads_waiting_to_be_added_are_bounded_in_total(small_files_chat):
    url = small_files_chat.url
    statuses = []
    for batch in range(4):  # 4 x 8.6 MB against a folder bound of 20 files of 1 MB
        status, _, body = upload(url, [(f"w{batch}-{i}.txt", os.urandom(int(0.95 * MB))) for i in range(9)])
        statuses.append(status)
    assert statuses[0] == 200 and statuses[-1] == 507, statuses
    assert "waiting to be added" in json.loads(body)["detail"]


@pytest.mark.slow
def test_an_upload_is_gone_once_added_or_refused_and_none_outlives_the_chat(tmp_path):
    (tmp_path / "chat").mkdir()
    with running_chat(tmp_path / "chat") as chat:
        url = chat.url
        status, _, body = upload(url, [
            ("quenville-ferry.txt", b"The Quenville ferry leaves at seven every morning.\n"),
            ("blank.txt", b"   \n"),  # refused: no text
        ])
        assert status == 200
        added, refused = json.loads(body)
        folder = Path(added).parent.parent
        assert fetch_status(url, added) == 200
        status, out = call_event(url, "add", [[file_data(added, "quenville-ferry.txt"), file_data(refused, "blank.txt")]])
        assert status == 200
        assert "Added quenville-ferry.txt" in out[0] and "Not added" in out[0] and "blank.txt" in out[0]
        assert not os.path.exists(added) and not os.path.exists(refused)
        assert fetch_status(url, added) != 200
        assert (chat.corpus / "quenville-ferry.txt").is_file()

        # A file elsewhere on the server is never taken as an upload.
        outside = tmp_path / "private.txt"
        outside.write_text("The vault code is 4512.", encoding="utf-8")
        status, out = call_event(url, "add", [[file_data(str(outside), "private.txt")]])
        assert status == 403 and "uploaded" in out["detail"]
        assert not (chat.corpus / "private.txt").exists()

        status, _, body = upload(url, [("never-added.txt", b"left in the upload box")])
        assert status == 200 and os.path.exists(json.loads(body)[0])
    assert not folder.exists()  # the chat stopped: its uploads went with it


def test_upload_folders_of_chats_no_longer_running_are_removed(tmp_path):
    dead = tmp_path / f"{uploads.PREFIX}999999999-abc"  # above any pid_max
    alive = tmp_path / f"{uploads.PREFIX}{os.getpid()}-abc"
    other = tmp_path / "docqa-something-else"
    for folder in (dead, alive, other):
        (folder / "x").mkdir(parents=True)
        (folder / "x" / "upload.txt").write_text("hi", encoding="utf-8")
    assert uploads.remove_stale(tmp_path) == [dead]
    assert not dead.exists() and alive.exists() and other.exists()


def test_discard_deletes_only_inside_the_upload_folder(tmp_path):
    folder = tmp_path / "uploads"
    (folder / "abc").mkdir(parents=True)
    inside = folder / "abc" / "doc.txt"
    outside = tmp_path / "doc.txt"
    for path in (inside, outside):
        path.write_text("x", encoding="utf-8")
    uploads.discard(inside, folder)
    uploads.discard(outside, folder)
    uploads.discard(folder / "abc" / ".." / ".." / "doc.txt", folder)
    assert not inside.exists() and not (folder / "abc").exists() and outside.exists()


# --- Logins ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def login_chat(tmp_path_factory):
    with running_chat(tmp_path_factory.mktemp("login"), QA_AUTH="alice:s3cret") as chat:
        yield chat


def login(url: str, password: str, source: str = "127.0.0.1") -> tuple[int, float, str | None]:
    """(status, seconds taken, Retry-After) of one login attempt from address ``source``."""
    start = time.perf_counter()
    status, headers, _ = post(url, "/login", f"username=alice&password={password}".encode(),
                              "application/x-www-form-urlencoded", source=source)
    return status, time.perf_counter() - start, headers.get("retry-after")


@pytest.mark.slow
def test_failed_logins_are_slowed_down_per_address_and_a_success_resets(login_chat):
    url = login_chat.url
    other = "127.0.0.2" if loopback_alias_works() else None
    fast = [login(url, f"wrong{i}") for i in range(3)]
    assert [(s, r) for s, _, r in fast] == [(400, None), (400, None), (400, "1")]
    status, slow1, retry = login(url, "wrong3")  # waits 1 s, then is checked
    assert (status, retry) == (400, "2")
    assert slow1 > 3 * max(t for _, t, _ in fast)

    attempt: dict = {}
    waiting = threading.Thread(target=lambda: attempt.update(out=login(url, "wrong4")))  # waits 2 s
    waiting.start()
    time.sleep(0.5)
    # Meanwhile a second attempt from the same address is refused at once, not queued...
    status, _, retry = login(url, "wrong5")
    assert status == 429 and retry is not None and int(retry) >= 1
    # ...and another address is not slowed at all.
    if other:
        status, other_time, retry = login(url, "wrong", source=other)
        assert (status, retry) == (400, None)
        assert login(url, "s3cret", source=other)[0] == 200
    waiting.join()
    status, slow2, retry = attempt["out"]
    assert (status, retry) == (400, "4")
    assert slow2 > 1.5 * slow1  # the wait doubles
    if other:
        assert other_time < slow2 / 4

    assert login(url, "s3cret")[0] == 200  # after its 4 s wait
    status, after, retry = login(url, "wrong-again")
    assert (status, retry) == (400, None) and after < slow1 / 3


def test_the_login_throttle_doubles_to_a_cap_and_forgets():
    now = [0.0]
    throttle = guard.LoginThrottle(free=3, first_s=1, cap_s=30, max_clients=100, forget_s=3600, clock=lambda: now[0])
    assert [throttle.delay(n) for n in range(10)] == [0, 0, 0, 1, 2, 4, 8, 16, 30, 30]
    waits = []
    for _ in range(6):
        waits.append(throttle.begin("10.0.0.1"))
        assert throttle.begin("10.0.0.1") is None  # one attempt at a time per address
        throttle.end("10.0.0.1", ok=False)
    assert waits == [0, 0, 0, 1, 2, 4]
    now[0] += 5  # the client waited on its own: that counts
    assert throttle.begin("10.0.0.1") == 3
    throttle.end("10.0.0.1", ok=True)
    assert throttle.begin("10.0.0.1") == 0
    throttle.end("10.0.0.1", ok=False)

    for i in range(10_000):  # an address per attempt: the table stays bounded
        throttle.begin(f"10.1.{i // 256}.{i % 256}")
        throttle.end(f"10.1.{i // 256}.{i % 256}", ok=False)
    assert len(throttle) <= 100
    for _ in range(5):
        throttle.begin("10.0.0.9")
        throttle.end("10.0.0.9", ok=False)
    now[0] += 3601
    assert throttle.begin("10.0.0.9") == 0  # an hour without failures: forgotten


# --- Questions that are not valid UTF-8 ------------------------------------------------------

@pytest.mark.slow
def test_a_lone_surrogate_in_a_question_is_answered_in_the_chat_and_the_api(read_only_chat):
    url = read_only_chat.url
    status, out = call_event(url, "ask", [ASK, [], None, None, []])
    assert status == 200 and isinstance(out, list), out
    box, messages = out[0], out[1]
    assert box == "" and messages[0]["content"][0]["text"] == ASK.replace("\ud800", "\ufffd")
    assert "Tehran" in messages[1]["content"][0]["text"]
    status, out = call_event(url, "answer", [ASK])
    assert status == 200 and "error" not in out[0] and "\ufffd" in out[0]["question"]


# --- Handlers that fail: one clear line, never Gradio's bare "Error" -------------------------

class _FailingIndex:
    """An index whose every read and write fails with an error that is not a QAError."""

    def __init__(self, settings):
        self.settings = settings

    def sync(self, **kw):
        raise FileNotFoundError("corpus/churned.txt")

    def documents(self):
        raise RuntimeError("the documents registry is unreadable")

    def answer(self, question, k=5, history=(), docs=(), folders=()):
        raise RuntimeError("secret internals")


def test_sync_and_the_documents_table_show_one_line_when_the_index_fails(tmp_path, monkeypatch):
    from gradio_client import Client

    from ui.app import build_app

    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))
    settings = qa.Settings(corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index")
    chat = build_app(_FailingIndex(settings), settings)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    chat.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False, download_files=False, analytics_enabled=False)
        status = client.predict(api_name="/sync")
        assert status.startswith("Sync failed: an unexpected error") and "\n" not in status
        assert "Traceback" not in status and "churned" not in status
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/config", timeout=30) as r:
            page = r.read().decode()
        assert "could not be read" in page  # the documents table, as a new tab loads it
    finally:
        chat.close()


def test_download_links_are_unguessable_and_lapse(tmp_path):
    from ui.originals import PREFIX, Links

    f = tmp_path / "a.pdf"
    f.write_bytes(b"%PDF-1.4")
    links = Links(ttl_s=60)
    url = links.mint(f)
    assert url.startswith(PREFIX.lstrip("/")) and url.endswith("/a.pdf")
    assert links.resolve("/" + url) == f
    token = url.split("/")[2]
    assert len(token) >= 32 and links.mint(f) != url  # a fresh token every time
    assert links.resolve(f"{PREFIX}not-a-token/a.pdf") is None
    gone = Links(ttl_s=-1)
    assert gone.resolve("/" + gone.mint(f)) is None


@pytest.mark.slow
def test_an_unknown_download_link_is_refused_with_a_reason(read_only_chat):
    try:
        urllib.request.urlopen(read_only_chat.url + "docqa/original/abcdef/secret.txt", timeout=30)
        raise AssertionError("an unknown link was served")
    except urllib.error.HTTPError as exc:
        assert exc.code == 404 and "open the citation in the chat again" in json.loads(exc.read())["detail"]
