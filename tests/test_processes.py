"""Two real processes on one index: the web chat (`python -m ui.app`) and the
command line (`python -m qa.cli`). What one commits, the other answers from
at its next question, lists in its documents table, and counts in its Sync."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from helpers import ANSWER_TIMEOUT_MS, ROOT, running_chat
from playwright.sync_api import expect

pytestmark = [pytest.mark.slow, pytest.mark.browser]

QUESTION = "What colour are the croissants in Quenville?"


def cli(chat, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, QA_CORPUS_DIR=str(chat.corpus), QA_INDEX_DIR=str(chat.corpus.parent / "index"),
               HF_HUB_OFFLINE="1")
    done = subprocess.run([sys.executable, "-m", "qa.cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)
    assert "Traceback" not in done.stderr, done.stderr
    return done


def cited(client, question: str) -> list[str]:
    out = client.predict(question, api_name="/answer")
    return [h["passage"]["doc_id"] for h in out["hits"]]


def test_the_chat_follows_what_the_command_line_commits(tmp_path_factory, browser):  # noqa: F811
    from gradio_client import Client

    base = tmp_path_factory.mktemp("two-processes")
    with running_chat(base) as chat:
        client = Client(chat.url, verbose=False, download_files=False, analytics_enabled=False)
        memo = base / "memo.txt"
        memo.write_text("The Quenville bakery sells blue croissants every Tuesday morning.", encoding="utf-8")
        assert cli(chat, "add", str(memo)).returncode == 0
        assert cited(client, QUESTION)[0] == "memo.txt"

        page = browser.new_page()
        page.goto(chat.url)
        page.wait_for_selector("#question textarea", timeout=30_000)
        expect(page.locator("#documents")).to_contain_text("memo.txt", timeout=ANSWER_TIMEOUT_MS)

        removed = cli(chat, "remove", "memo.txt")
        assert removed.returncode == 0 and "removed memo.txt" in removed.stdout
        assert "memo.txt" not in cited(client, QUESTION)  # never cited again, with no restart
        page.reload()
        page.wait_for_selector("#question textarea", timeout=30_000)
        expect(page.locator("#documents")).to_contain_text("iran-orders", timeout=ANSWER_TIMEOUT_MS)
        expect(page.locator("#documents")).not_to_contain_text("memo.txt")

        # `qa sync` in a shell picks up one file; another is dropped in afterwards: the
        # page's Sync adds only that one, and counts the first as unchanged.
        (chat.corpus / "synced.txt").write_text("Lighthouses guide ships past the reef.", encoding="utf-8")
        assert cli(chat, "sync").returncode == 0
        (chat.corpus / "dropped.txt").write_text("Owls hunt mice at night in the barn.", encoding="utf-8")
        page.click("#sync-btn")
        status = page.locator("#upload-status")
        expect(status).to_contain_text("added: dropped.txt", timeout=ANSWER_TIMEOUT_MS)
        assert "synced.txt" not in status.inner_text().split("unchanged:")[0]
        assert "synced.txt" in status.inner_text().split("unchanged:")[1]
        expect(page.locator("#documents")).to_contain_text("synced.txt")
        assert cited(client, "What guides ships past the reef?")[0] == "synced.txt"
        page.close()
