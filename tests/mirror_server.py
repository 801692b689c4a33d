"""A small HTTP server on 127.0.0.1 that serves ../shared/data like RCSB, AlphaFold DB and UniProt.

Paths (all below http://127.0.0.1:<port>/):
  rcsb/download/<ID>.<ext>                pdb/<id>.<ext> of the mirror (case-insensitive ID)
  rcsb/search            (POST)           RCSB search API answer, computed from the mirror's DBREFs
  rcsb/graphql           (POST)           method (EXPDTA) and resolution (REMARK 2) of entries
  alphafold/api/prediction/<ACC>          [{"uniprotAccession": ACC, "latestVersion": N}]
  alphafold/files/AF-<ACC>-F1-model_vN.<ext>
  uniprot/<ACC>.<fasta|json|txt>
  mirror/<folder>/<file>                  the mirror's own layout (a URL mirror)
  any path of ``server.files``             a local file served as is (model weights)

Faults are queued per path with ``server.fault(path, kind, ...)`` and consumed one per request:
404, 503, 429 (with Retry-After), stall (sleep before answering), truncate (Content-Length
larger than the body), corrupt_gzip, html, big (a body larger than the client's limit);
attacks: cut_after_endmdl (no Content-Length, the body cut right after the first ENDMDL),
drip (the body one byte every ``interval`` s), drip_headers (the status line and headers
so), redirect (302 to ``location``), gzip_encoding
(the body sent with ``Content-Encoding: gzip``).
"""

from __future__ import annotations

import gzip
import json
import re
import threading
import time
from collections import Counter, defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class MirrorServer:
    def __init__(self, root: Path, af_version: int = 6, delay: float = 0.0):
        self.root = Path(root)
        self.af_version = af_version
        self.delay = delay
        self.faults: dict[str, list[tuple[str, dict]]] = defaultdict(list)
        self.hits: Counter = Counter()
        self.files: dict[str, Path] = {}  # URL path -> local file served as is
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                server._handle(self, None)

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                server._handle(self, self.rfile.read(n))

        class Server(ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass  # clients that hang up early (size limit, timeouts) are part of the tests

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def fault(self, path: str, kind: str, times: int = 1, **kw) -> None:
        with self.lock:
            self.faults[path] += [(kind, kw)] * times

    # -- routing --------------------------------------------------------------------------------

    def _file_for(self, path: str) -> Path | None:
        m = re.fullmatch(r"/mirror/((?:pdb|alphafold|uniprot|msa|evidence|variants)/[A-Za-z0-9_.-]+)", path)
        if m and ".." not in m.group(1):  # the mirror's own layout, as a URL mirror serves it
            return self.root / m.group(1)
        m = re.fullmatch(r"/rcsb/download/([0-9A-Za-z]{4})(\.[a-z0-9.]+)", path)
        if m:
            return self.root / "pdb" / (m.group(1).lower() + m.group(2))
        m = re.fullmatch(r"/alphafold/files/AF-([A-Z0-9]+)-F1-model_v(\d+)\.(cif|pdb)", path)
        if m and int(m.group(2)) == self.af_version:
            return self.root / "alphafold" / f"AF-{m.group(1)}-F1-model.{m.group(3)}"
        m = re.fullmatch(r"/uniprot/([A-Z0-9]+)\.(fasta|json|txt)", path)
        if m:
            return self.root / "uniprot" / f"{m.group(1)}.{m.group(2)}"
        return None

    def _body_for(self, path: str, payload: bytes | None) -> tuple[int, bytes, str]:
        if path in self.files:
            return 200, Path(self.files[path]).read_bytes(), "application/octet-stream"
        m = re.fullmatch(r"/alphafold/api/prediction/([A-Z0-9]+)", path)
        if m:
            acc = m.group(1)
            if not list((self.root / "alphafold").glob(f"AF-{acc}-F1-model*")):
                return 404, b"[]", "application/json"
            body = [{"uniprotAccession": acc, "latestVersion": self.af_version}]
            return 200, json.dumps(body).encode(), "application/json"
        if path == "/rcsb/search":
            q = json.loads(payload or b"{}")
            acc = q["query"]["nodes"][0]["parameters"]["value"]
            ids = []
            for f in sorted((self.root / "pdb").iterdir()):
                text = _read(f)
                if any(ln.startswith("DBREF") and acc in ln for ln in text.splitlines()):
                    ids.append(f.name.split(".")[0].upper())
            if not ids:
                return 204, b"", "application/json"
            body = {"result_set": [{"identifier": i, "score": 1.0} for i in ids],
                    "total_count": len(ids)}
            return 200, json.dumps(body).encode(), "application/json"
        if path == "/rcsb/graphql":
            q = json.loads(payload or b"{}")
            entries = []
            for pid in q["variables"]["ids"]:
                f = next(iter(sorted((self.root / "pdb").glob(pid.lower() + ".*"))))
                text = _read(f)
                method = next((ln[10:].split("  ")[0].strip() for ln in text.splitlines()
                               if ln.startswith("EXPDTA")), None)
                res = next((float(ln.split("RESOLUTION.")[1].split()[0]) for ln in text.splitlines()
                            if ln.startswith("REMARK   2 RESOLUTION.")), None)
                entries.append({"rcsb_id": pid, "exptl": [{"method": method}],
                                "rcsb_entry_info": {"resolution_combined": [res]}})
            return 200, json.dumps({"data": {"entries": entries}}).encode(), "application/json"
        f = self._file_for(path)
        if f is None or not f.is_file():
            return 404, b"<html><body>404 Not Found</body></html>", "text/html"
        return 200, f.read_bytes(), "application/octet-stream"

    def _handle(self, h: BaseHTTPRequestHandler, payload: bytes | None) -> None:
        path = h.path.split("?")[0]
        with self.lock:
            self.hits[path] += 1
            fault = self.faults[path].pop(0) if self.faults.get(path) else None
        if self.delay:
            time.sleep(self.delay)
        kind, kw = fault if fault else (None, {})
        if kind == "stall":
            time.sleep(kw.get("seconds", 5))
        if kind == "redirect":
            h.send_response(302)
            h.send_header("Location", kw["location"])
            h.send_header("Content-Length", "0")
            h.end_headers()
            return
        if kind in ("404", "503", "429"):
            body = b"<html><body>error</body></html>"
            h.send_response(int(kind))
            if kind == "429":
                h.send_header("Retry-After", str(kw.get("retry_after", 0)))
            h.send_header("Content-Type", "text/html")
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body)
            return
        if kind == "corrupt_gzip" and path.endswith(".gz"):
            status, body, ctype = self._body_for(path[:-3], payload)  # gzip the real file
        else:
            status, body, ctype = self._body_for(path, payload)
        if kind == "html":  # a 200 answer whose body is a web page
            status = 200
            body, ctype = b"<!DOCTYPE html><html><body>Service page</body></html>", "text/html"
        elif kind == "corrupt_gzip":
            good = gzip.compress(body)
            body = good[:20] + bytes(b ^ 0xFF for b in good[20:60]) + good[60:]
        elif kind == "big":
            body = body + b"REMARK 999 PADDING" * (kw.get("size", 1 << 20) // 18)
        if kind == "drip_headers":  # the status line and headers one byte every interval
            head = (f"HTTP/1.1 {status} OK\r\nContent-Type: {ctype}\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n").encode()
            try:
                for i in range(len(head)):
                    h.wfile.write(head[i:i + 1])
                    h.wfile.flush()
                    time.sleep(kw.get("interval", 0.2))
                h.wfile.write(body)
            except OSError:
                pass  # the client gave up
            h.close_connection = True
            return
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        if kind == "cut_after_endmdl":
            cut = body.index(b"ENDMDL")
            body = body[: body.index(b"\n", cut) + 1]
            h.send_header("Connection", "close")
            h.end_headers()
            h.wfile.write(body)
            h.wfile.flush()
            h.close_connection = True
            return
        if kind == "drip":
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            try:
                for i in range(len(body)):
                    h.wfile.write(body[i:i + 1])
                    h.wfile.flush()
                    time.sleep(kw.get("interval", 0.2))
            except OSError:
                pass  # the client gave up
            return
        if kind == "gzip_encoding":
            body = gzip.compress(body)
            h.send_header("Content-Encoding", "gzip")
        if kind == "truncate":
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body[: len(body) // 2])
            h.wfile.flush()
            h.close_connection = True
            return
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if status != 204:
            h.wfile.write(body)


def _read(f: Path) -> str:
    raw = f.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return raw.decode("latin-1")
