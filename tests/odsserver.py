"""A loopback stand-in for the UN Official Document System, for the real download code to meet.

`GET /api/symbol/access?s=A/RES/79/236&l=en&t=pdf` answers as ODS does: 302 to the file when the
folder has `A_RES_79_236.en.pdf`, else status 200 with an HTML "not found" page. `/files/NAME`
serves the file with range requests. Per symbol, `misbehave` makes it fail the way servers do:
`404`, `slow` (silent past any short time-out), `truncate` (the connection closes halfway),
`truncate-once`, `503-once`, `empty`, `no-range` (ignores Range headers).
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit

NOT_FOUND_PAGE = (
    b"<!DOCTYPE html><html><head><title>Official Document System</title></head><body>"
    b"<p>The document you are looking for does not exist in the Official Document System (ODS).</p>"
    b"</body></html>"
)


class ODSServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, folder: Path, *, slow_seconds: float = 2.0) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.folder = folder
        self.slow_seconds = slow_seconds
        self.misbehave: dict[str, str] = {}
        self.requests: list[tuple[float, str, str | None]] = []  # (time, path with query, Range)
        self.served: dict[str, int] = {}  # file requests per name, for the "-once" behaviours
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def access_requests(self) -> list[tuple[float, str, str | None]]:
        return [r for r in self.requests if r[1].startswith("/api/symbol/access")]

    def __enter__(self) -> ODSServer:
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    server: ODSServer
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:  # quiet tests
        pass

    def do_GET(self) -> None:
        with self.server.lock:
            self.server.requests.append((time.monotonic(), self.path, self.headers.get("Range")))
        url = urlsplit(self.path)
        if url.path == "/api/symbol/access":
            query = parse_qs(url.query)
            symbol, lang = query.get("s", [""])[0], query.get("l", ["en"])[0]
            self._access(symbol, lang)
        elif url.path.startswith("/files/"):
            self._file(unquote(url.path.removeprefix("/files/")))
        else:
            self._send(404, b"no such page", "text/plain")

    def _access(self, symbol: str, lang: str) -> None:
        how = self.server.misbehave.get(symbol, "")
        name = f"{symbol.replace('/', '_')}.{lang}.pdf"
        if how == "404":
            self._send(404, b"<html><body>Not Found</body></html>", "text/html")
        elif how == "503-once" and self._first(f"access:{name}"):
            self._send(503, b"busy", "text/plain", {"Retry-After": "0"})
        elif how == "empty":
            self._send(200, b"", "application/pdf")
        elif (self.server.folder / name).is_file():
            self._send(302, b"", "text/plain", {"Location": f"/files/{quote(name)}?s={quote(symbol)}"})
        else:
            self._send(200, NOT_FOUND_PAGE, "text/html; charset=utf-8")

    def _file(self, name: str) -> None:
        path = self.server.folder / Path(name).name
        if not path.is_file():
            self._send(404, b"no such file", "text/plain")
            return
        symbol = parse_qs(urlsplit(self.path).query).get("s", [""])[0]
        how = self.server.misbehave.get(symbol, "")
        data = path.read_bytes()
        if how == "slow":
            time.sleep(self.server.slow_seconds)
        start, status, headers = 0, 200, {"Accept-Ranges": "bytes"}
        ranged = self.headers.get("Range", "")
        if ranged.startswith("bytes=") and how != "no-range":
            start = int(ranged.removeprefix("bytes=").split("-")[0] or 0)
            if start >= len(data):
                self._send(416, b"", "text/plain", {"Content-Range": f"bytes */{len(data)}"})
                return
            status = 206
            headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
        body = data[start:]
        cut = how == "truncate" or (how == "truncate-once" and self._first(f"file:{name}"))
        self.send_response(status)
        self.send_header("Content-Type", "application/pdf")
        self.send_header("Content-Length", str(len(body)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        if cut:  # promise the whole body, send half, hang up
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)

    def _first(self, key: str) -> bool:
        with self.server.lock:
            self.server.served[key] = self.server.served.get(key, 0) + 1
            return self.server.served[key] == 1

    def _send(self, status: int, body: bytes, kind: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)
