"""ASGI entry point for deployments: `uvicorn app.main:app --host 127.0.0.1 --port 8000`.

Settings come from the environment (`SSTC_*`), as for `sstc serve`, which is the same app.
"""

from sstc_assistant.server import build_app

app = build_app()
