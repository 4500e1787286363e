"""How a server runs its models: one thread per model call, answers side by side."""

from __future__ import annotations

import os
import subprocess
import sys


def test_a_server_process_runs_each_model_call_on_one_thread() -> None:
    code = (
        "import os\n"
        "from sstc_assistant.embeddings import get_embedder, set_model_threads\n"
        "set_model_threads(1)\n"
        "get_embedder('minilm').embed_query('a question')\n"
        "get_embedder('e5').embed_query('a question')\n"
        "import torch\n"
        "print(torch.get_num_threads(), os.environ['OMP_NUM_THREADS'])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    assert out.stdout.split() == ["1", "1"]
    # and without the call, a batch process (ingest, eval) keeps every core for its model calls
    default = code.replace("set_model_threads(1)\n", "")
    out = subprocess.run(
        [sys.executable, "-c", default.replace("os.environ['OMP_NUM_THREADS']", "'-'")],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
        env={k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"},
    )
    assert out.stdout.split()[0] == str(os.cpu_count())
