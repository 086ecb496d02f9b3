"""The upstream of the sidecar tests: a plain HTTP/1.1 app on the standard library only (docs/sidecar.md).

Prints "listening <port>" once it accepts connections. Paths:
  /echo         any method; answers JSON: method, path, headers, body length and sha256 (chunked bodies decoded)
  /mirror       answers the request body back, chunked, in 64 KiB pieces
  /big?n=N      answers N bytes (a repeating pattern), chunked
  /slow?ms=N    answers after N ms
  /flaky?key=K&fails=N  closes the first N connections of key K without answering, then answers 200
  /hits?key=K   how many requests /flaky had for K
  /status?code=C        answers C with an empty body
  /hold/stream?topic=T[&from=F]   answers "Switchboard-Hold: stream" with a greeting comment as body
  /hold/poll?topic=T[&from=F]     answers "Switchboard-Hold: long-poll"
  /connections  open connections to this app right now (the sidecar's pool)
  /generate?n=N&id=K    answers N bytes (a repeating random block) with a Content-Length, counting what it wrote
  /sink?id=K    reads 1 MiB of the request body, waits for /release?id=K, reads the rest; answers length and sha256
  /progress?id=K        what /generate or /sink K wrote or read so far, and the sha256 once done
"""
import hashlib
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

lock = threading.Lock()
open_connections = 0
hits = {}
progress = {}
gates = {}


def gate(key):
    with lock:
        return gates.setdefault(key, threading.Event())


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        global open_connections
        super().setup()
        with lock:
            open_connections += 1

    def finish(self):
        global open_connections
        try:
            super().finish()
        finally:
            with lock:
                open_connections -= 1

    def log_message(self, *args):
        pass

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        n = int(self.headers.get("Content-Length", "0") or 0)
        return self.rfile.read(n) if n else b""

    def send_chunked(self, status, pieces, content_type="application/octet-stream"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for p in pieces:
            if p:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(p), p))
        self.wfile.write(b"0\r\n\r\n")

    def send_body(self, status, body, content_type="application/json", extra=()):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def handle_any(self):
        url = urlsplit(self.path)
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        body = b"" if url.path == "/sink" else self.read_body()  # /sink reads its own, slowly
        if url.path == "/echo":
            doc = {"method": self.command, "path": self.path,
                   "headers": {k.lower(): v for k, v in self.headers.items()},
                   "length": len(body), "sha256": hashlib.sha256(body).hexdigest()}
            self.send_body(200, json.dumps(doc).encode(), extra=[("X-Upstream", "python")])
        elif url.path == "/mirror":
            self.send_chunked(200, [body[i:i + 65536] for i in range(0, len(body), 65536)])
        elif url.path == "/big":
            n = int(q["n"])
            block = bytes(range(256)) * 256
            self.send_chunked(200, [block[:min(len(block), n - i)] for i in range(0, n, len(block))])
        elif url.path == "/slow":
            time.sleep(int(q["ms"]) / 1000)
            self.send_body(200, b'{"slow":true}')
        elif url.path == "/flaky":
            key = q["key"]
            with lock:
                hits[key] = hits.get(key, 0) + 1
                n = hits[key]
            if n <= int(q["fails"]):
                self.close_connection = True
                self.connection.shutdown(2)
                return
            self.send_body(200, json.dumps({"hits": n}).encode())
        elif url.path == "/hits":
            self.send_body(200, json.dumps({"hits": hits.get(q["key"], 0)}).encode())
        elif url.path == "/status":
            self.send_body(int(q["code"]), b"")
        elif url.path == "/hold/stream":
            hold = "stream; topic=%s; from=%s" % (q["topic"], q.get("from", "next"))
            self.send_body(200, b": welcome from python\n\n", "text/event-stream", [("Switchboard-Hold", hold)])
        elif url.path == "/hold/poll":
            hold = "long-poll; topic=%s; from=%s; timeout=%s" % (q["topic"], q.get("from", "next"),
                                                                  q.get("timeout", "20s"))
            self.send_body(200, b"", extra=[("Switchboard-Hold", hold)])
        elif url.path == "/generate":
            self.generate(int(q["n"]), q["id"])
        elif url.path == "/sink":
            self.sink(q["id"])
        elif url.path == "/release":
            gate(q["id"]).set()
            self.send_body(200, b"{}")
        elif url.path == "/progress":
            with lock:
                doc = dict(progress.get(q["id"], {}))
            self.send_body(200, json.dumps(doc).encode())
        elif url.path == "/connections":
            with lock:
                n = open_connections
            self.send_body(200, json.dumps({"open": n}).encode())
        else:
            self.send_body(404, b'{"error":"no such path"}')

    def generate(self, n, key):
        block = os.urandom(65536)
        digest = hashlib.sha256()
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(n))
        self.end_headers()
        written = 0
        while written < n:
            piece = block[:min(len(block), n - written)]
            self.wfile.write(piece)  # blocks while the sidecar does not read: what the backpressure test watches
            digest.update(piece)
            written += len(piece)
            with lock:
                progress[key] = {"written": written}
        with lock:
            progress[key] = {"written": written, "sha256": digest.hexdigest()}

    def sink(self, key):
        n = int(self.headers["Content-Length"])
        digest = hashlib.sha256()
        done = 0
        while done < n:
            if done >= 1 << 20:
                gate(key).wait()
            piece = self.rfile.read(min(65536, n - done))
            if not piece:
                break
            digest.update(piece)
            done += len(piece)
            with lock:
                progress[key] = {"read": done}
        doc = {"length": done, "sha256": digest.hexdigest()}
        with lock:
            progress[key] = dict(doc, read=done)
        self.send_body(200, json.dumps(doc).encode())

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = handle_any


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024

    def handle_error(self, request, client_address):
        pass  # a proxy that gave up (504) or a test that stopped reading closes connections mid-answer


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    server = Server(("127.0.0.1", port), Handler)
    print("listening %d" % server.server_address[1], flush=True)
    server.serve_forever()
