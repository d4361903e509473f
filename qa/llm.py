"""A thin client of any OpenAI-compatible chat-completions server, streamed (httpx).

Only the documented wire format: POST {url}/chat/completions with
``"stream": true``, server-sent events whose ``data:`` lines carry
``choices[0].delta.content``, ended by ``data: [DONE]``. Every failure is an
:class:`LLMError` whose message says what happened (server down, too slow,
rate-limited, an HTTP error, a stream that is not one), never a traceback.
"""

from __future__ import annotations

import json
import time
from typing import Iterator

from .errors import LLMError


def endpoint(url: str) -> str:
    """The chat-completions URL of a server given as its base ("http://host:11434/v1") or in full."""
    url = url.strip().rstrip("/")
    return url if url.endswith("/chat/completions") else f"{url}/chat/completions"


def stream_chat(url: str, model: str, messages: list[dict], *, api_key: str = "", timeout_s: float = 60.0,
                max_tokens: int = 400) -> Iterator[str]:
    """The model's reply to ``messages``, piece by piece as it is written."""
    import httpx

    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    body = {"model": model or "default", "messages": messages, "stream": True, "temperature": 0,
            "max_tokens": max_tokens}
    deadline = time.monotonic() + timeout_s
    limits = httpx.Timeout(timeout_s, connect=min(10.0, timeout_s))
    where = endpoint(url)
    try:
        with httpx.Client(timeout=limits) as client, client.stream("POST", where, json=body, headers=headers) as r:
            if r.status_code == 429:
                wait = r.headers.get("retry-after", "")
                raise LLMError(f"the model server is rate-limiting requests{f' (retry after {wait} s)' if wait else ''}")
            if r.status_code >= 400:
                r.read()
                raise LLMError(f"the model server answered HTTP {r.status_code} ({r.text[:160].strip() or 'no reason'})")
            got_any = False
            for line in r.iter_lines():
                if time.monotonic() > deadline:
                    raise LLMError(f"the model took longer than {timeout_s:g} s (QA_LLM_TIMEOUT_S)")
                line = line.strip()
                if not line or line.startswith(":"):
                    continue
                if not line.startswith("data:"):
                    raise LLMError("the model server's reply is not an event stream (is QA_LLM_URL an "
                                   "OpenAI-compatible /v1 endpoint?)")
                data = line[5:].strip()
                if data == "[DONE]":
                    return
                try:
                    event = json.loads(data)
                    choice = (event.get("choices") or [{}])[0]
                    piece = (choice.get("delta") or {}).get("content") or ""
                except (ValueError, AttributeError, IndexError, TypeError):
                    raise LLMError("the model server sent a malformed stream") from None
                if isinstance(event, dict) and event.get("error"):
                    raise LLMError(f"the model server reported an error: {str(event['error'])[:160]}")
                if piece:
                    got_any = True
                    yield str(piece)
            if not got_any:
                raise LLMError("the model server's stream ended without an answer")
    except httpx.TimeoutException:
        raise LLMError(f"the model server did not answer within {timeout_s:g} s (QA_LLM_TIMEOUT_S)") from None
    except httpx.ConnectError:
        raise LLMError(f"the model server at {where} cannot be reached (is it running? QA_LLM_URL)") from None
    except httpx.HTTPError as exc:
        raise LLMError(f"the connection to the model server failed ({type(exc).__name__})") from None
