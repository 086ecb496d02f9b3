"""The held-SSE backend of bench/sidecar/run, for Switchboard and Pushpin alike: GET /stream?topic=T answers at once
with both proxies' hold headers (Switchboard-Hold, docs/sidecar.md; Grip-Hold and Grip-Channel, Pushpin's GRIP), so
that each proxy holds the client on topic/channel T and the backend forgets it."""
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class Backend(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        url = urlsplit(self.path)
        topic = parse_qs(url.query).get("topic", [""])[0]
        if url.path != "/stream" or not topic:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = b": held\n\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Switchboard-Hold", "stream; topic=%s; from=next" % topic)
        self.send_header("Grip-Hold", "stream")
        self.send_header("Grip-Channel", topic)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024


if __name__ == "__main__":
    Server(("127.0.0.1", int(sys.argv[1])), Backend).serve_forever()
