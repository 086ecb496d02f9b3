"""A chat backend with no long-lived connection of its own, behind `switchboard serve --upstream` (docs/sidecar.md).

GET  /           a page that follows the room
GET  /events     hands the caller to Switchboard: an SSE stream of topic chat.lobby
GET  /poll       the same as a held long poll (for clients without EventSource)
POST /say        publishes the body to chat.lobby through Switchboard's API
"""
import json
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SWITCHBOARD = "http://127.0.0.1:8080"
TOPIC = "chat.lobby"
PAGE = b"""<!doctype html><title>lobby</title><ul id=log></ul>
<script>new EventSource('/events').onmessage = e =>
  document.getElementById('log').insertAdjacentHTML('beforeend', '<li>' + e.data.replace(/</g, '&lt;'));</script>"""


class App(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/":
            self.answer(200, PAGE, [("Content-Type", "text/html")])
        elif self.path == "/events":
            # Decide here who may listen (cookies, sessions: the app's own rules), then let go of the client.
            self.answer(200, b": welcome to the lobby\n\n", [("Content-Type", "text/event-stream"),
                                                           ("Switchboard-Hold", f"stream; topic={TOPIC}; from=next")])
        elif self.path.startswith("/poll"):
            self.answer(200, headers=[("Switchboard-Hold", f"long-poll; topic={TOPIC}; from=next; timeout=25s")])
        else:
            self.answer(404, b"not found")

    def do_POST(self):
        if self.path != "/say":
            return self.answer(404, b"not found")
        text = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        publish = urllib.request.Request(f"{SWITCHBOARD}/v1/topics/{TOPIC}/messages", data=text,
                                         headers={"Content-Type": "text/plain"}, method="POST")
        with urllib.request.urlopen(publish) as r:
            offset = json.load(r)["offset"]
        self.answer(201, json.dumps({"offset": offset}).encode(), [("Content-Type", "application/json")])


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", 3000), App).serve_forever()
