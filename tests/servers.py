"""The tests' one way to get a free loopback port and to run a server for the length of a `with`.

`serving` starts either a command (a child process: `sstc serve`, `chroma run`) or an ASGI app
(uvicorn in a thread of the test process, so its log records are the test's), waits until it
answers, yields its base URL (`http://127.0.0.1:PORT`) and stops it, whatever the test did.
Tests that kill or restart a server on purpose (tests/test_crash.py, tests/test_deployment.py)
drive `sstc_assistant.launch`'s children instead, as deployment scripts do; the stand-in ODS
(tests/odsserver.py) is a server class of its own.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx


def free_port() -> int:
    """A loopback port nothing listens on now (a server started next binds it; an address built
    from it and never served is a closed port)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serving(
    target: Sequence[str] | Callable[..., Any],
    *,
    ready: str | None = "/",
    timeout: float = 120,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    log: Path | None = None,
    **config: Any,
) -> Iterator[str]:
    """Serve `target` on a free loopback port; yields its base URL.

    `target`: a command (a list), where "{port}" stands for the port (`[..., "--port", "{port}"]`),
    run with `env` and `cwd`, its output appended to `log` (or dropped); or an ASGI app, run by
    uvicorn with `config` (uvicorn.Config options such as `log_level`).
    `ready`: a path that must answer 200 before the URL is yielded; None: listening is enough (a
    server that records its requests then sees only the test's).
    A command that exits, or a server that does not answer within `timeout` seconds, raises
    RuntimeError (with the tail of a command's log)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    if isinstance(target, list | tuple):
        cmd = [arg.replace("{port}", str(port)) for arg in target]
        with _process(cmd, url, ready, timeout, env, cwd, log):
            yield url
    else:
        with _in_thread(target, port, url, ready, timeout, config):
            yield url


@contextlib.contextmanager
def _process(
    cmd: list[str],
    url: str,
    ready: str | None,
    timeout: float,
    env: Mapping[str, str] | None,
    cwd: Path | None,
    log: Path | None,
) -> Iterator[None]:
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") if log is not None else contextlib.nullcontext() as out:  # the child keeps its own
        proc = subprocess.Popen(
            cmd,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            stdout=out if out is not None else subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def dead() -> str | None:
        if proc.poll() is None:
            return None
        tail = log.read_text(errors="replace")[-3000:] if log is not None and log.exists() else ""
        return f"{cmd[0]} exited with {proc.returncode}:\n{tail}"

    try:
        _wait(url, ready, timeout, dead)
        yield
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=30)


@contextlib.contextmanager
def _in_thread(
    app: Callable[..., Any], port: int, url: str, ready: str | None, timeout: float, config: dict[str, Any]
) -> Iterator[None]:
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, **config))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()

    def dead() -> str | None:
        return None if thread.is_alive() else f"uvicorn on {url} stopped before it served"

    try:
        deadline = time.monotonic() + timeout
        while not server.started:
            if (why := dead()) is not None or time.monotonic() > deadline:
                raise RuntimeError(why or f"uvicorn on {url} did not start in {timeout:.0f} s")
            time.sleep(0.02)
        if ready is not None:
            _wait(url, ready, max(1.0, deadline - time.monotonic()), dead)
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def _wait(url: str, ready: str | None, timeout: float, dead: Callable[[], str | None]) -> None:
    """Until `url + ready` answers 200 (or, with no `ready`, the port accepts a connection)."""
    deadline = time.monotonic() + timeout
    while True:
        if (why := dead()) is not None:
            raise RuntimeError(why)
        try:
            if ready is None:
                with socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), timeout=2):
                    return
            elif httpx.get(url + ready, timeout=5).status_code == 200:
                return
        except (OSError, httpx.HTTPError):
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url}{ready or ''} did not answer in {timeout:.0f} s")
        time.sleep(0.2)
