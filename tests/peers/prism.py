"""Prism (@stoplight/prism-cli, installed in tests/node_modules by scripts/install-deps)
serving Airflow's official REST API contracts on loopback ports chosen at run time.

`prism mock` answers every request that follows the contract with the spec's examples
and refuses the others (v1: 400 with an sl-violations header, v2: 422); `prism proxy
--errors` forwards to a stateful fake and also fails (500) any answer of the fake that
breaks the contract.

As a CTest fixture: prism.py start-mocks DIR (writes DIR/prism.env) / prism.py stop DIR.
"""
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
PRISM = os.path.join(HERE, "..", "node_modules", ".bin", "prism")
SPECS = os.path.join(HERE, "..", "fixtures", "airflow-specs")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spec(version, workdir):
    """The spec file for `v1` or `v2`. Prism ignores v1's relative `servers: /api/v1`
    and would serve its paths at the root, so the v1 copy has the prefix written in."""
    if version == "v2":
        return os.path.join(SPECS, "airflow-3-rest-api-v2.yaml")
    out = os.path.join(workdir, "airflow-2-rest-api-v1.prefixed.yaml")
    in_paths = False
    with open(os.path.join(SPECS, "airflow-2-rest-api-v1.yaml")) as src, open(out, "w") as dst:
        for line in src:
            if line.startswith("paths:"):
                in_paths = True
            elif line[:1].isalpha():
                in_paths = False
            elif in_paths and line.startswith("  /"):
                line = "  /api/v1/" + line[3:]
            dst.write(line)
    return out


class Prism:
    """One prism process (mock or proxy) on a free loopback port."""

    def __init__(self, version, workdir, upstream=None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = os.path.join(workdir, f"prism-{version}-{'proxy' if upstream else 'mock'}-{self.port}.log")
        args = [PRISM, "proxy", spec(version, workdir), upstream, "--errors"] if upstream else \
               [PRISM, "mock", spec(version, workdir)]  # (--errors would also fail some of the spec's own examples)
        args += ["-h", "127.0.0.1", "-p", str(self.port)]
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.wait_ready()

    def wait_ready(self, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("prism exited: " + self.output())
            try:
                urllib.request.urlopen(self.url + "/", timeout=2)
                return
            except urllib.error.HTTPError:
                return  # answering (404 for an unknown path is an answer)
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("prism did not start: " + self.output())

    def output(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def violations(self):
        """Lines where prism reported a request or response that breaks the contract."""
        return [line for line in self.output().splitlines() if "violation" in line.lower()]

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


def main():
    cmd, workdir = sys.argv[1], sys.argv[2]
    os.makedirs(workdir, exist_ok=True)
    pids = os.path.join(workdir, "prism.pids")
    if cmd == "start-mocks":
        v1, v2 = Prism("v1", workdir), Prism("v2", workdir)
        with open(os.path.join(workdir, "prism.env"), "w") as f:
            f.write(f"PRISM_V1={v1.url}\nPRISM_V2={v2.url}\nPRISM_V1_LOG={v1.log_path}\nPRISM_V2_LOG={v2.log_path}\n")
        with open(pids, "w") as f:
            f.write(f"{v1.proc.pid}\n{v2.proc.pid}\n")
    elif cmd == "stop":
        if os.path.exists(pids):
            for pid in open(pids).read().split():
                try:
                    os.killpg(int(pid), signal.SIGTERM)
                except ProcessLookupError:
                    pass
            os.remove(pids)
    else:
        sys.exit("usage: prism.py start-mocks|stop DIR")


if __name__ == "__main__":
    main()
