"""The chat imports Gradio without Gradio's stub-writing pass (ui/gradio_import.py).

Each check runs in a fresh interpreter: the pass is skipped only when
Gradio is not imported yet, which a pytest process cannot promise.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_python(code: str, *paths: Path, env: dict[str, str] | None = None) -> str:
    env_path = ":".join(str(p) for p in (*paths, ROOT))
    base = {k: v for k, v in os.environ.items() if k != "DOCQA_GRADIO_STUBS"}
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True, text=True, timeout=300,
        env={**base, "PYTHONPATH": env_path, "HF_HUB_OFFLINE": "1", **(env or {})},
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_the_chat_module_gets_gradio_without_the_stub_pass_and_it_still_builds_an_app():
    out = run_python(
        """
        import ui.app
        import gradio.component_meta as meta, gradio.blocks_events as blocks_events
        from ui.gradio_import import _no_stubs
        print(meta.create_or_modify_pyi is _no_stubs, blocks_events.create_or_modify_pyi is _no_stubs)
        gr = ui.app.gr
        with gr.Blocks() as demo:
            box = gr.Textbox(label="q")
            box.submit(lambda s: s, box, box)
        print(type(demo).__name__, len(demo.fns))
        """
    )
    assert out.split() == ["True", "True", "Blocks", "1"]


def test_a_gradio_without_the_stub_writer_imports_as_usual(tmp_path):
    # A release that renames or drops the function must not break the chat's import.
    pkg = tmp_path / "gradio"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("from .component_meta import VALUE\n")
    (pkg / "component_meta.py").write_text("VALUE = 42\n")
    out = run_python(
        """
        from ui.gradio_import import import_gradio
        import sys
        gr = import_gradio()
        print(gr.VALUE, sum(type(f).__name__ == "_SkipStubs" for f in sys.meta_path))
        """,
        tmp_path,
    )
    assert out.split() == ["42", "0"]


def test_the_escape_hatch_keeps_gradio_exactly_as_shipped():
    out = run_python(
        """
        import ui.app
        import gradio.component_meta as meta
        print(meta.create_or_modify_pyi.__module__, meta.create_or_modify_pyi.__name__)
        """,
        env={"DOCQA_GRADIO_STUBS": "1"},
    )
    assert out.split() == ["gradio.component_meta", "create_or_modify_pyi"]
