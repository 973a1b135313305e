"""An emulator of the AWS Lambda Runtime API (2018-06-01) on 127.0.0.1, for scigate's tests
and benchmarks: the side of Lambda that a custom runtime (`bootstrap`) talks to.

The contract (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html):
* GET  /2018-06-01/runtime/invocation/next: long-polls until an event is queued; answers
  200 with the event as body and the headers Lambda-Runtime-Aws-Request-Id,
  Lambda-Runtime-Deadline-Ms (epoch ms), Lambda-Runtime-Invoked-Function-Arn,
  Lambda-Runtime-Trace-Id. Asking for the next event ends the previous invocation: one
  that got neither a response nor an error by then is recorded as a runtime failure.
* POST /2018-06-01/runtime/invocation/{id}/response: 202; 400 for an id that is not the
  invocation in progress (unknown, or already answered); 413 above 6 MB (the synchronous
  invocation limit).
* POST /2018-06-01/runtime/invocation/{id}/error: 202; the body is JSON
  {errorMessage, errorType, stackTrace?}, the header Lambda-Runtime-Function-Error-Type.
* POST /2018-06-01/runtime/init/error: 202 before the first /next, 403 after it.

Python API: rt = LambdaRuntime(); rt.start_bootstrap([...], env={...});
rt.invoke(event, timeout_ms) -> Invocation(kind, body, elapsed, ...) with kind one of
"response", "error", "timeout" (no answer before the deadline, as Lambda would kill the
function), "exited" (the process ended while the invocation was open);
rt.wait_init_error(), rt.times (ms from process start to the first /next, per-invoke
latencies), rt.stop().

Runnable too: lambda_runtime.py -- CMD ... starts CMD as the bootstrap and reads one event
(JSON) per line on stdin, printing each answer.
"""
import base64
import collections
import http.server
import json
import os
import subprocess
import sys
import threading
import time
import uuid

from loopback import LoopbackServer

PREFIX = "/2018-06-01/runtime"
MAX_RESPONSE = 6 * 1024 * 1024


class Invocation:
    """One event on its way through the function. kind: None until answered, then
    "response" | "error" | "timeout" | "exited" | "abandoned" (the runtime asked for the next
    event without answering this one)."""

    def __init__(self, event, timeout_ms):
        self.request_id = str(uuid.uuid4())
        self.payload = event if isinstance(event, bytes) else (
            event.encode() if isinstance(event, str) else json.dumps(event).encode())
        self.timeout_ms = timeout_ms
        self.queued = time.time()
        self.deadline_ms = None  # set when delivered: Lambda's clock starts at delivery
        self.delivered = None
        self.answered = None
        self.kind = None
        self.body = None  # the response or error body, bytes
        self.error_type_header = None
        self.trace_id = "Root=1-{:08x}-{};Parent={};Sampled=0".format(int(time.time()), os.urandom(12).hex(),
                                                                    os.urandom(8).hex())

    @property
    def elapsed(self):
        """Seconds from delivery to the answer (None while unanswered)."""
        if self.answered is None or self.delivered is None:
            return None
        return self.answered - self.delivered

    def json(self):
        return json.loads(self.body) if self.body else None

    def __iter__(self):  # kind, body, elapsed = rt.invoke(...)
        return iter((self.kind, self.body, self.elapsed))

    def __repr__(self):
        return f"Invocation({self.kind}, {self.body[:300] if self.body else self.body!r})"


class LambdaRuntime:
    """The Runtime API of one execution environment (one function instance)."""

    def __init__(self, function_name="scigate-test", region="us-west-2", account="123456789012"):
        self.function_name, self.region = function_name, region
        self.arn = f"arn:aws:lambda:{region}:{account}:function:{function_name}"
        self.cond = threading.Condition()
        self.queue = collections.deque()
        self.current = None  # the Invocation delivered and not answered yet
        self.by_id = {}
        self.init_errors = []  # (error type header, parsed body)
        self.log = []  # (time, method, path, status) of every Runtime API call
        self.next_calls = 0
        self.proc = None
        self.proc_started = None
        self.first_next = None  # time of the first /next
        self.latencies = []  # seconds, delivery → answer, per invocation
        self.http = LoopbackServer(self._handler())
        self.port = self.http.port
        self.api = f"127.0.0.1:{self.port}"

    # ---- the function's process -----------------------------------------------------
    def lambda_env(self, task_root, handler="scigate", extra=None, credentials=None):
        """The environment Lambda gives a provided.al2023 function, and nothing else
        (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime),
        plus the function's own variables (`extra`)."""
        key, secret, session = credentials or ("ASIAFAKELAMBDA00001", "lambda-secret-" + os.urandom(8).hex(),
                                               "lambda-session-" + os.urandom(16).hex())
        env = {
            "AWS_LAMBDA_RUNTIME_API": self.api,
            "LAMBDA_TASK_ROOT": task_root,
            "LAMBDA_RUNTIME_DIR": "/var/runtime",
            "_HANDLER": handler,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ACCESS_KEY_ID": key,
            "AWS_SECRET_ACCESS_KEY": secret,
            "AWS_SESSION_TOKEN": session,
            "AWS_LAMBDA_FUNCTION_NAME": self.function_name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
            "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/" + self.function_name,
            "AWS_LAMBDA_LOG_STREAM_NAME": time.strftime("%Y/%m/%d/[$LATEST]") + os.urandom(16).hex(),
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "PATH": "/usr/local/bin:/usr/bin/:/bin:/opt/bin",
            # Lambda's own value: the host's /lib64 first, so a bootstrap that needs its own
            # libraries must bring its loader and say so itself.
            "LD_LIBRARY_PATH": f"/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:{task_root}:{task_root}/lib:/opt/lib",
        }
        env.update(extra or {})
        return env

    def start_bootstrap(self, argv, env=None, task_root=None, cwd=None, stdout=None, stderr=None):
        """Starts the function's process with exactly `lambda_env()` + `env` (env -i)."""
        task_root = task_root or os.path.dirname(os.path.abspath(argv[0]))
        full_env = self.lambda_env(task_root, extra=env)
        self.proc_started = time.time()
        self.proc = subprocess.Popen(argv, env=full_env, cwd=cwd or task_root, stdout=stdout, stderr=stderr,
                                     stdin=subprocess.DEVNULL)
        return self.proc

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.http.close()

    # ---- the invoking side ----------------------------------------------------------
    def submit(self, event, timeout_ms=30000):
        inv = Invocation(event, timeout_ms)
        with self.cond:
            self.by_id[inv.request_id] = inv
            self.queue.append(inv)
            self.cond.notify_all()
        return inv

    def wait(self, inv, grace=2.0):
        """Waits for the answer until the deadline (+ grace); past it, the function would
        have been killed: kind "timeout" (the process is then stopped, like Lambda does)."""
        with self.cond:
            while inv.kind is None:
                now = time.time()
                if self.proc is not None and self.proc.poll() is not None:
                    inv.kind, inv.answered = "exited", now
                    break
                if inv.deadline_ms is not None and now * 1000 > inv.deadline_ms + grace * 1000:
                    inv.kind, inv.answered = "timeout", now
                    break
                if inv.deadline_ms is None and now - inv.queued > inv.timeout_ms / 1000 + 30:
                    inv.kind, inv.answered = "timeout", now  # never picked up
                    break
                self.cond.wait(0.05)
        return inv

    def invoke(self, event, timeout_ms=30000, grace=2.0):
        """Queues `event` (a JSON-able object, or str/bytes sent as they are) and waits for
        the function's answer: an Invocation (iterable as kind, body, elapsed)."""
        return self.wait(self.submit(event, timeout_ms), grace)

    def wait_init_error(self, timeout=20):
        """(error type header, body) of the first /init/error, or None if none came."""
        deadline = time.time() + timeout
        with self.cond:
            while not self.init_errors and time.time() < deadline:
                if self.proc is not None and self.proc.poll() is not None and not self.init_errors:
                    self.cond.wait(0.2)  # a last request may still be in flight
                    break
                self.cond.wait(0.05)
            return self.init_errors[0] if self.init_errors else None

    def wait_first_next(self, timeout=20):
        deadline = time.time() + timeout
        with self.cond:
            while self.first_next is None and time.time() < deadline:
                if self.proc is not None and self.proc.poll() is not None:
                    break
                self.cond.wait(0.02)
            return self.first_next is not None

    @property
    def times(self):
        """ms from process start to the first /next; per-invoke latencies in ms."""
        cold = None
        if self.first_next is not None and self.proc_started is not None:
            cold = (self.first_next - self.proc_started) * 1000
        return {"start_to_first_next_ms": cold, "invoke_ms": [x * 1000 for x in self.latencies]}

    # ---- the Runtime API ------------------------------------------------------------
    def _next(self):
        with self.cond:
            self.next_calls += 1
            if self.first_next is None:
                self.first_next = time.time()
            if self.current is not None:  # asked for more without answering: Lambda fails it
                self.current.kind, self.current.answered = "abandoned", time.time()
                self.current = None
            self.cond.notify_all()
            while not self.queue:
                self.cond.wait()
            inv = self.queue.popleft()
            inv.delivered = time.time()
            inv.deadline_ms = int(inv.delivered * 1000) + inv.timeout_ms
            self.current = inv
            return inv

    def _answer(self, request_id, kind, body, error_type):
        with self.cond:
            inv = self.by_id.get(request_id)
            if inv is None or inv is not self.current:
                return False
            inv.kind, inv.body, inv.error_type_header, inv.answered = kind, body, error_type, time.time()
            self.latencies.append(inv.answered - inv.delivered)
            self.current = None
            self.cond.notify_all()
            return True

    def _handler(self):
        rt = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def reply(self, status, obj=None, headers=(), raw=None):
                data = raw if raw is not None else (b"" if obj is None else json.dumps(obj).encode())
                self.send_response(status)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                with rt.cond:
                    rt.log.append((time.time(), self.command, self.path, status))

            def body(self):
                n = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(n) if n else b""

            def do_GET(self):
                if self.path != PREFIX + "/invocation/next":
                    return self.reply(404, {"errorMessage": "not found", "errorType": "NotFound"})
                inv = rt._next()
                self.reply(200, raw=inv.payload, headers=[
                    ("Lambda-Runtime-Aws-Request-Id", inv.request_id),
                    ("Lambda-Runtime-Deadline-Ms", str(inv.deadline_ms)),
                    ("Lambda-Runtime-Invoked-Function-Arn", rt.arn),
                    ("Lambda-Runtime-Trace-Id", inv.trace_id)])

            def do_POST(self):
                raw = self.body()
                path = self.path
                if path == PREFIX + "/init/error":
                    with rt.cond:
                        if rt.first_next is not None:
                            return self.reply(403, {"errorMessage": "init already done", "errorType": "InvalidStateTransition"})
                        try:
                            parsed = json.loads(raw) if raw else None
                        except ValueError:
                            parsed = raw.decode(errors="replace")
                        rt.init_errors.append((self.headers.get("Lambda-Runtime-Function-Error-Type"), parsed))
                        rt.cond.notify_all()
                    return self.reply(202, {"status": "OK"})
                parts = path[len(PREFIX):].strip("/").split("/") if path.startswith(PREFIX + "/") else []
                if len(parts) != 3 or parts[0] != "invocation" or parts[2] not in ("response", "error"):
                    return self.reply(404, {"errorMessage": "not found", "errorType": "NotFound"})
                request_id, what = parts[1], parts[2]
                if what == "response" and len(raw) > MAX_RESPONSE:
                    return self.reply(413, {"errorMessage": f"response of {len(raw)} bytes exceeds {MAX_RESPONSE}",
                                            "errorType": "RequestEntityTooLarge"})
                if what == "error":
                    try:
                        json.loads(raw)
                    except ValueError:
                        pass  # Lambda accepts it; the test sees what was sent
                if not rt._answer(request_id, what, raw, self.headers.get("Lambda-Runtime-Function-Error-Type")):
                    return self.reply(400, {"errorMessage": "Invalid request ID", "errorType": "InvalidRequestID"})
                self.reply(202, {"status": "OK"})

        return Handler


def decode_body(response):
    """The bytes of an API Gateway proxy response's body."""
    body = response.get("body") or ""
    return base64.b64decode(body) if response.get("isBase64Encoded") else body.encode()


def main():
    if "--" not in sys.argv:
        print("usage: lambda_runtime.py [--timeout-ms N] -- BOOTSTRAP [ARGS...] (events as JSON lines on stdin)")
        return 2
    i = sys.argv.index("--")
    opts, argv = sys.argv[1:i], sys.argv[i + 1:]
    timeout_ms = int(opts[opts.index("--timeout-ms") + 1]) if "--timeout-ms" in opts else 30000
    rt = LambdaRuntime()
    rt.start_bootstrap(argv, env={k: v for k, v in os.environ.items() if k.startswith("SCIGATE_")},
                       cwd=os.getcwd())
    try:
        for line in sys.stdin:
            if line.strip():
                inv = rt.invoke(line.strip(), timeout_ms)
                print(json.dumps({"kind": inv.kind, "elapsed_ms": (inv.elapsed or 0) * 1000,
                                  "body": inv.body.decode(errors="replace") if inv.body else None}), flush=True)
        err = rt.wait_init_error(timeout=0.1)
        if err:
            print(json.dumps({"init_error": err}))
    finally:
        rt.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
