#!/usr/bin/python3
"""A loopback HTTP proxy that counts what a client asks of an S3 server.

Usage: counting_proxy.py UPSTREAM_HOST:PORT LOG
Prints its own port, then forwards every request unchanged (Host header included, so
SigV4 signatures made for the proxy's address still verify) and appends one line per
request to LOG before answering: METHOD PATH RANGE STATUS BYTES. Benchmarks read LOG
between phases to count GETs and bytes.
"""
import http.client
import http.server
import socket
import sys
import threading

UPSTREAM = sys.argv[1]
LOG = open(sys.argv[2], "a", buffering=1)
LOCK = threading.Lock()
LOCAL = threading.local()


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def forward(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        if not hasattr(LOCAL, "conn"):
            LOCAL.conn = http.client.HTTPConnection(UPSTREAM, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "proxy-connection")}
        try:
            LOCAL.conn.request(self.command, self.path, body=body, headers=headers)
            resp = LOCAL.conn.getresponse()
        except (http.client.HTTPException, OSError):
            LOCAL.conn = http.client.HTTPConnection(UPSTREAM, timeout=60)
            LOCAL.conn.request(self.command, self.path, body=body, headers=headers)
            resp = LOCAL.conn.getresponse()
        data = resp.read()
        with LOCK:
            LOG.write(f"{self.command} {self.path} {self.headers.get('Range', '-')} {resp.status} {len(data)}\n")
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(k, v)
        # A HEAD's Content-Length is the object's size, not the (empty) body's.
        length = resp.getheader("Content-Length", "0") if self.command == "HEAD" else str(len(data))
        self.send_header("Content-Length", length)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = forward

    def log_message(self, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().server_bind()


server = Server(("127.0.0.1", 0), Proxy)
print(server.server_address[1], flush=True)
server.serve_forever()
