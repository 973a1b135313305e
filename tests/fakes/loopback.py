"""The HTTP server the Python fakes run on: 127.0.0.1, a port chosen at run time (or the
one given), served by a daemon thread; a client that hangs up is not an error worth
printing."""
import http.server
import sys
import threading


class QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)  # a client that gave up is normal here


class LoopbackServer:
    """Serves `handler` (a BaseHTTPRequestHandler class) until close()."""

    def __init__(self, handler, port=0):
        self.server = QuietServer(("127.0.0.1", port), handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
