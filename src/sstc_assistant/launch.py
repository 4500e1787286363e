"""Start `sstc serve` and `chroma run` as child processes and wait until they answer.

One place for what the tests, the load benchmark and local deployment scripts all need: a free
loopback port, a log file per process, a readiness poll that fails fast with the log's tail when
the process dies, and a stop that cannot hang.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LaunchError(RuntimeError):
    """A child process exited or never answered; the message ends with its log's tail."""


@dataclass
class Child:
    """A running child process with the URL it serves and the file its output goes to."""

    proc: subprocess.Popen
    url: str
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def kill(self) -> None:
        """SIGKILL, as a crash or the OOM killer would: no clean-up code runs."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self, timeout: float = 30) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()


def _start(cmd: list[str], log: Path, env: Mapping[str, str] | None, cwd: Path | None) -> subprocess.Popen:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as fh:  # the child keeps its own descriptor
        return subprocess.Popen(
            cmd,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            stdout=fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def server_env(
    home: Path, work: Path, index: str, corpus: Path, *, isolated: bool = True, **settings: str
) -> dict[str, str]:
    """The environment of a child `sstc` over a private index in `work`, offline.

    `isolated` drops the caller's own SSTC_* variables (a test must not pick up a developer's
    Chroma URL); a benchmark keeps them so they can be varied. `settings` are more SSTC_* values,
    e.g. `api_key="k"` for SSTC_API_KEY."""
    env = {k: v for k, v in os.environ.items() if not (isolated and k.startswith("SSTC_"))}
    env.update(
        HF_HUB_OFFLINE="1",
        GRADIO_ANALYTICS_ENABLED="False",
        ANONYMIZED_TELEMETRY="False",
        SSTC_HOME=str(home),
        SSTC_INDEXES_DIR=str(work / "indexes"),
        SSTC_INDEX=index,
        SSTC_CORPUS_DIR=str(corpus),
        SSTC_FEEDBACK_PATH=str(work / "feedback.jsonl"),
    )
    env.update({f"SSTC_{key.upper()}": value for key, value in settings.items()})
    return env


def wait_ready(child: Child, path: str, timeout: float) -> Child:
    """Poll `url + path` until it answers 200; fail at once if the process has exited."""
    deadline = time.monotonic() + timeout
    while True:
        if child.proc.poll() is not None:
            raise LaunchError(f"{child.url} exited with {child.proc.returncode}:\n{child.log_text()[-3000:]}")
        try:
            if httpx.get(child.url + path, timeout=5).status_code == 200:
                return child
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            child.kill()
            raise LaunchError(f"{child.url} did not answer in {timeout:.0f} s:\n{child.log_text()[-3000:]}")
        time.sleep(0.3)


def serve(
    env: Mapping[str, str],
    log: Path,
    *,
    port: int | None = None,
    cwd: Path | None = None,
    timeout: float = 180,
) -> Child:
    """`sstc serve` on 127.0.0.1 with the given environment; returns once /api/health says 200."""
    port = port or free_port()
    cmd = [sys.executable, "-m", "sstc_assistant.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    child = Child(_start(cmd, log, env, cwd), f"http://127.0.0.1:{port}", log)
    return wait_ready(child, "/api/health", timeout)


def chroma(path: Path, log: Path, *, port: int | None = None, timeout: float = 60) -> Child:
    """`chroma run` over a data folder on 127.0.0.1, the vector store of a team deployment."""
    exe = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    port = port or free_port()
    cmd = [exe, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)]
    child = Child(_start(cmd, log, None, None), f"http://127.0.0.1:{port}", log)
    return wait_ready(child, "/api/v2/heartbeat", timeout)
