"""The upstream of the sidecar tests: a plain HTTP/1.1 app on the standard library only (docs/sidecar.md).

Prints "listening <port>" once it accepts connections. Paths:
  /echo         any method; answers JSON: method, path, headers, body length and sha256 (chunked bodies decoded)
  /drip         as /echo, but reads the body slowly through a small receive buffer (16 KiB reads, a pause of 1 ms
                after each 64 KiB), so that a proxy's writes to it stop and resume many times
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
  /early?id=K   as /sink, but answers 200 (chunked) before reading the body, and its length and sha256 once read
  /progress?id=K        what /generate or /sink K wrote or read so far, and the sha256 once done
  /ws/echo[?refuse=1]   a WebSocket (RFC 6455, written here: the standard library has none) that first sends a text
                message with the upgrade request's path and headers, then echoes each frame; "close-me" makes it
                close (1000, "bye"); refuse=1 answers 403 instead of 101
  /ws/flood?n=N&id=K    a WebSocket that sends N bytes in binary frames, counting what it wrote, then echoes
  /ws/open      WebSockets open right now

With "port cert.pem key.pem [address]" as arguments it serves HTTPS (on 127.0.0.1 or the address given).
"""
import hashlib
import base64
import json
import os
import socket
import ssl
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

lock = threading.Lock()
open_connections = 0
hits = {}
progress = {}
ws_open = 0
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
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
        body = b"" if url.path in ("/sink", "/early", "/drip") else self.read_body()  # these read their own, slowly
        if url.path == "/echo":
            doc = {"method": self.command, "path": self.path,
                   "headers": {k.lower(): v for k, v in self.headers.items()},
                   "length": len(body), "sha256": hashlib.sha256(body).hexdigest()}
            self.send_body(200, json.dumps(doc).encode(), extra=[("X-Upstream", "python")])
        elif url.path == "/drip":
            self.drip()
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
            self.send_body(200, json.dumps(self.read_gated(q["id"])).encode())
        elif url.path == "/early":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            doc = json.dumps(self.read_gated(q["id"])).encode()
            self.wfile.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(doc), doc))
        elif url.path == "/release":
            gate(q["id"]).set()
            self.send_body(200, b"{}")
        elif url.path == "/progress":
            with lock:
                doc = dict(progress.get(q["id"], {}))
            self.send_body(200, json.dumps(doc).encode())
        elif url.path in ("/ws/echo", "/ws/flood"):
            self.websocket(url.path, q)
        elif url.path == "/ws/open":
            with lock:
                n = ws_open
            self.send_body(200, json.dumps({"open": n}).encode())
        elif url.path == "/connections":
            with lock:
                n = open_connections
            self.send_body(200, json.dumps({"open": n}).encode())
        else:
            self.send_body(404, b'{"error":"no such path"}')

    def generate(self, n, key):
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(n))
        self.end_headers()
        self.send_counted(n, key, self.wfile.write)

    def send_counted(self, n, key, write):
        """Writes n bytes (a repeating random block) with write, counting in progress[key] what the socket took."""
        block = os.urandom(65536)
        digest = hashlib.sha256()
        written = 0
        while written < n:
            piece = block[:min(len(block), n - written)]
            write(piece)  # blocks while the sidecar does not read: what the backpressure tests watch
            digest.update(piece)
            written += len(piece)
            with lock:
                progress[key] = {"written": written}
        with lock:
            progress[key] = {"written": written, "sha256": digest.hexdigest()}

    def drip(self):
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        n = int(self.headers["Content-Length"])
        digest = hashlib.sha256()
        done = 0
        while done < n:
            piece = self.rfile.read(min(16384, n - done))
            if not piece:
                break
            digest.update(piece)
            done += len(piece)
            if done % 65536 == 0:
                time.sleep(0.001)
        self.send_body(200, json.dumps({"length": done, "sha256": digest.hexdigest()}).encode())

    def read_gated(self, key):
        """Reads 1 MiB of the body, waits for /release?id=key, reads the rest; returns its length and sha256."""
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
        return doc

    def websocket(self, path, q):
        global ws_open
        key = self.headers.get("Sec-WebSocket-Key")
        if self.headers.get("Upgrade", "").lower() != "websocket" or not key:
            self.send_body(400, b'{"error":"not a websocket upgrade"}')
            return
        if q.get("refuse"):
            self.send_body(403, b'{"error":"refused"}')
            return
        accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.end_headers()
        self.close_connection = True
        with lock:
            ws_open += 1
        try:
            self.ws_send(0x1, json.dumps({"path": self.path, "headers": {k.lower(): v for k, v in
                                                                          self.headers.items()}}).encode())
            if path == "/ws/flood":
                self.send_counted(int(q["n"]), q["id"], lambda piece: self.ws_send(0x2, piece))
            self.echo()
        except OSError:
            pass  # the peer went away
        finally:
            with lock:
                ws_open -= 1

    def echo(self):
        while True:
            frame = self.ws_read()
            if frame is None:
                return
            fin, opcode, payload = frame
            if opcode == 0x8:
                self.ws_send(0x8, payload[:2])
                return
            if opcode == 0x9:
                self.ws_send(0xA, payload)
            elif payload == b"close-me":
                self.ws_send(0x8, struct.pack("!H", 1000) + b"bye")
                return
            elif opcode != 0xA:
                self.ws_send(opcode, payload, fin)

    def read_exact(self, n):
        data = self.rfile.read(n)
        if len(data) < n:
            raise EOFError
        return data

    def ws_read(self):
        try:
            head = self.read_exact(2)
            n = head[1] & 0x7F
            if n == 126:
                n = struct.unpack("!H", self.read_exact(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self.read_exact(8))[0]
            mask = self.read_exact(4) if head[1] & 0x80 else None
            payload = self.read_exact(n) if n else b""
        except EOFError:
            return None
        if mask and n:
            key = (mask * (n // 4 + 1))[:n]
            payload = (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(n, "big")
        return bool(head[0] & 0x80), head[0] & 0x0F, payload

    def ws_send(self, opcode, payload, fin=True):
        n = len(payload)
        first = (0x80 if fin else 0) | opcode
        if n < 126:
            head = struct.pack("!BB", first, n)
        elif n < 65536:
            head = struct.pack("!BBH", first, 126, n)
        else:
            head = struct.pack("!BBQ", first, 127, n)
        self.wfile.write(head + payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = handle_any


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024

    def handle_error(self, request, client_address):
        pass  # a proxy that gave up (504) or a test that stopped reading closes connections mid-answer


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    server = Server((sys.argv[4] if len(sys.argv) > 4 else "127.0.0.1", port), Handler)
    if len(sys.argv) > 3:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(sys.argv[2], sys.argv[3])
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    print("listening %d" % server.server_address[1], flush=True)
    server.serve_forever()
