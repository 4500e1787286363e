"""How a server runs its models: one thread per model call, answers side by side."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


@pytest.mark.slow  # loads both embedders, twice, in child processes
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


def test_answer_slots_admit_waiters_in_arrival_order() -> None:
    """Under load no answer may be overtaken again and again: a freed slot goes to the oldest waiter,
    even when the thread that freed it asks again at once (a plain semaphore lets it barge in)."""
    import threading
    import time

    from sstc_assistant.assistant import FairSlots

    slots = FairSlots(1)
    admitted: list[str] = []

    def waiter(n: int) -> None:
        with slots:
            admitted.append(str(n))

    slots.__enter__()
    threads = []
    for n in range(5):
        t = threading.Thread(target=waiter, args=(n,))
        t.start()
        threads.append(t)
        while slots.waiting < n + 1:  # n is queued before n + 1 arrives
            time.sleep(0.001)
    slots.__exit__(None, None, None)
    with slots:  # straight back in: must queue behind the five
        admitted.append("again")
    for t in threads:
        t.join(timeout=10)
    assert admitted == ["0", "1", "2", "3", "4", "again"]
    assert slots.waiting == 0
