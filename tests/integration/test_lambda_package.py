"""scripts/lambda-package: the zip runs the binary on nothing but what it carries (bundled
loader, glibc and libraries) in a clean environment, its bootstrap hands its arguments to
`scigate lambda` with PROJ's data and a CA bundle named, every library's dependencies
resolve inside it, it stays under Lambda's size limits, and the same inputs give the same
bytes. The zip is built once per run, from SCIGATE_BIN, into a temporary folder."""
import hashlib
import http.server
import os
import re
import shutil
import ssl
import stat
import subprocess
import tempfile
import threading
import unittest
import zipfile

from harness import BIN, SOURCE, Gateway

SCRIPT = os.path.join(SOURCE, "scripts", "lambda-package")
UNZIPPED_LIMIT = 250 * 1024 * 1024
DIRECT_UPLOAD_LIMIT = 50 * 1024 * 1024


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def package(out):
    result = subprocess.run([SCRIPT, "--binary", BIN, "--out", out], capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise AssertionError(f"lambda-package failed: {result.stdout}{result.stderr}")
    return os.path.join(out, "scigate-lambda.zip"), result.stdout


PACKED = {}


def setUpModule():
    """One zip for every test, unpacked as Lambda unpacks it into its task folder."""
    tmp = tempfile.mkdtemp(prefix="scigate-lambda-")
    PACKED["tmp"] = tmp
    PACKED["binary_hash"] = sha256(BIN)
    PACKED["zip"], PACKED["report"] = package(os.path.join(tmp, "out"))
    PACKED["root"] = os.path.join(tmp, "task")
    # Info-ZIP's unzip, which restores the modes the zip records (Lambda does too).
    subprocess.run(["unzip", "-q", PACKED["zip"], "-d", PACKED["root"]], check=True)


def tearDownModule():
    shutil.rmtree(PACKED["tmp"], ignore_errors=True)


class LambdaPackageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp, cls.zip, cls.report, cls.root = PACKED["tmp"], PACKED["zip"], PACKED["report"], PACKED["root"]
        cls.binary_hash = PACKED["binary_hash"]

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def loader_command(self, *args):
        return [self.path("lib", "ld-linux-x86-64.so.2"), "--library-path", self.path("lib"),
                self.path("bin", "scigate"), *args]

    def test_layout_modes_and_member_order(self):
        with zipfile.ZipFile(self.zip) as z:
            infos = z.infolist()
        names = [i.filename for i in infos]
        self.assertEqual(names, sorted(names, key=lambda n: n.encode()))
        for name in names:
            self.assertFalse(name.startswith("/") or ".." in name.split("/"), name)
        self.assertIn("bootstrap", names)
        self.assertIn("bin/scigate", names)
        self.assertIn("lib/ld-linux-x86-64.so.2", names)
        self.assertIn("lib/libc.so.6", names)
        self.assertIn("share/proj/proj.db", names)
        modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in infos}
        for executable in ("bootstrap", "bin/scigate", "lib/ld-linux-x86-64.so.2"):
            self.assertEqual(modes[executable], 0o755, executable)
            self.assertTrue(os.stat(self.path(executable)).st_mode & stat.S_IXOTH, executable)
        self.assertEqual(modes["lib/libc.so.6"], 0o644)
        # Nothing of this machine's paths in the archive's names or the bootstrap.
        with open(self.path("bootstrap")) as f:
            self.assertNotIn(self.tmp, f.read())
        self.assertNotIn(SOURCE, "\n".join(names))

    def test_binary_is_stripped_and_the_builds_binary_untouched(self):
        sections = subprocess.run(["readelf", "-S", "-W", self.path("bin", "scigate")], capture_output=True,
                                  text=True, check=True).stdout
        self.assertNotIn(".debug_info", sections)
        self.assertIn(".symtab", sections)  # backtraces still name functions
        self.assertEqual(sha256(BIN), self.binary_hash)
        self.assertLess(os.path.getsize(self.path("bin", "scigate")), os.path.getsize(BIN))

    def test_binary_runs_through_the_bundled_loader_in_a_clean_environment(self):
        want = subprocess.run([BIN, "version"], capture_output=True, text=True, check=True).stdout
        out = subprocess.run(["env", "-i", f"LAMBDA_TASK_ROOT={self.root}", *self.loader_command("version")],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout, want)
        self.assertTrue(out.stdout.startswith("scigate "), out.stdout)

    def test_bootstrap_runs_scigate_lambda_with_its_arguments(self):
        # Whatever `scigate lambda --help` does with this build (usage, or an unknown
        # command before `lambda` exists), the bootstrap does the same from the zip.
        want = subprocess.run([BIN, "lambda", "--help"], capture_output=True, text=True, timeout=30)
        for env in ([f"LAMBDA_TASK_ROOT={self.root}"], []):  # Lambda sets it; unset: the bootstrap's folder
            with self.subTest(env=env):
                out = subprocess.run(["env", "-i", *env, self.path("bootstrap"), "--help"], capture_output=True,
                                     text=True, timeout=30, cwd="/")
                self.assertEqual((out.returncode, out.stdout, out.stderr),
                                 (want.returncode, want.stdout, want.stderr))
                self.assertIn("lambda", out.stdout + out.stderr)

    def test_bootstrap_command_line_and_environment(self):
        # A copy whose "loader" is a script that records how the bootstrap called it.
        copy = os.path.join(self.tmp, "spy")
        shutil.copytree(self.root, copy, symlinks=True)
        record = os.path.join(self.tmp, "spy.out")
        loader = os.path.join(copy, "lib", "ld-linux-x86-64.so.2")
        os.remove(loader)
        with open(loader, "w") as f:
            f.write(f'#!/bin/sh\nprintf "%s\\n" "$@" > {record}\nenv >> {record}\n')
        os.chmod(loader, 0o755)

        def run(*env):
            subprocess.run(["env", "-i", *env, os.path.join(copy, "bootstrap"), "--operation", "listruns"],
                           check=True, timeout=30)
            with open(record) as f:
                lines = f.read().splitlines()
            return lines[:6], dict(line.split("=", 1) for line in lines[6:] if "=" in line)

        args, env = run()
        real = os.path.realpath(copy)
        self.assertEqual(args, ["--library-path", f"{real}/lib", f"{real}/bin/scigate", "lambda", "--operation",
                                "listruns"])
        self.assertEqual(env["LAMBDA_TASK_ROOT"], real)
        self.assertEqual(env["PROJ_DATA"], f"{real}/share/proj")
        self.assertTrue(os.path.isfile(os.path.join(env["PROJ_DATA"], "proj.db")))
        host_bundles = [f for f in ("/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/certs/ca-certificates.crt")
                        if os.access(f, os.R_OK)]
        self.assertEqual(env.get("SSL_CERT_FILE"), host_bundles[0] if host_bundles else None)
        # The function's own settings win.
        args, env = run(f"LAMBDA_TASK_ROOT={copy}", "SSL_CERT_FILE=/opt/certs.pem")
        self.assertEqual(args[:3], ["--library-path", f"{copy}/lib", f"{copy}/bin/scigate"])
        self.assertEqual(env["SSL_CERT_FILE"], "/opt/certs.pem")

    def test_every_library_resolves_inside_the_package(self):
        lib = self.path("lib")
        objects = [self.path("bin", "scigate")] + sorted(
            os.path.join(lib, f) for f in os.listdir(lib) if f != "ld-linux-x86-64.so.2")
        self.assertGreater(len(objects), 20)
        for obj in objects:
            with self.subTest(obj=os.path.basename(obj)):
                out = subprocess.run(["env", "-i", "LD_TRACE_LOADED_OBJECTS=1", os.path.join(lib, "ld-linux-x86-64.so.2"),
                                      "--library-path", lib, obj], capture_output=True, text=True, timeout=30)
                self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
                self.assertNotIn("not found", out.stdout)
                for line in out.stdout.splitlines():
                    m = re.search(r"=> (\S+) \(", line) or re.match(r"\s*(/\S+) \(", line)
                    if m:
                        self.assertTrue(os.path.realpath(m.group(1)).startswith(os.path.realpath(self.root) + "/"),
                                        line)
        # Everything the binary needs, and nothing else: each bundled library is loaded.
        out = subprocess.run(["env", "-i", "LD_TRACE_LOADED_OBJECTS=1", *self.loader_command()], capture_output=True,
                             text=True, timeout=30).stdout
        loaded = {os.path.basename(m) for m in re.findall(r"=> (\S+) \(", out)}
        self.assertEqual(loaded, set(os.listdir(lib)))

    def test_sizes_are_reported_and_within_lambdas_limits(self):
        zipped = os.path.getsize(self.zip)
        unzipped = sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(self.root) for f in files)
        self.assertIn(f"zipped:   {zipped} bytes ({zipped / 1048576:.1f} MiB)", self.report)
        self.assertIn(f"unzipped: {unzipped} bytes ({unzipped / 1048576:.1f} MiB)", self.report)
        self.assertIn("bin/scigate", self.report.split("largest members")[1])
        self.assertLess(unzipped, UNZIPPED_LIMIT)
        self.assertLess(zipped, DIRECT_UPLOAD_LIMIT)
        self.assertIn("fits", self.report)

    def test_same_inputs_give_the_same_zip(self):
        again, _ = package(os.path.join(self.tmp, "again"))
        self.assertEqual(sha256(again), sha256(self.zip))

    def test_over_the_size_limit_fails(self):
        # A binary padded past 250 MB (an extra section that strip --strip-debug keeps).
        big = os.path.join(self.tmp, "big-scigate")
        pad = os.path.join(self.tmp, "pad")
        with open(pad, "wb") as f:
            f.truncate(UNZIPPED_LIMIT)
        subprocess.run(["objcopy", "--add-section", f".scigate_pad={pad}", BIN, big], check=True)
        os.remove(pad)
        out = subprocess.run([SCRIPT, "--binary", big, "--out", os.path.join(self.tmp, "big")], capture_output=True,
                             text=True, timeout=600)
        os.remove(big)
        shutil.rmtree(os.path.join(self.tmp, "big"), ignore_errors=True)
        self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
        self.assertIn("over Lambda's limit", out.stderr)


class TlsCredentials(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = (b'{"accessKeyId": "AKTLS", "secretAccessKey": "tls-secret", "sessionToken": "",'
                b' "expiration": "2099-01-01T00:00:00Z"}')
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class LambdaPackageTlsTest(unittest.TestCase):
    """The bundled libcurl trusts the CA file SSL_CERT_FILE names (what the bootstrap sets
    on Amazon Linux, whose bundle is not where Debian's libcurl looks)."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="scigate-lambda-tls-")
        cls.root = PACKED["root"]
        cls.cert, key = os.path.join(cls.tmp, "cert.pem"), os.path.join(cls.tmp, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", key, "-out", cls.cert], check=True, capture_output=True)
        cls.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), TlsCredentials)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cls.cert, key)
        cls.server.socket = context.wrap_socket(cls.server.socket, server_side=True)
        threading.Thread(target=cls.server.serve_forever, daemon=True).start()

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()
        cls.server.server_close()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_credentials_over_https_with_the_named_ca_file_only(self):
        url = f"https://127.0.0.1:{self.server.server_address[1]}/s3credentials"
        gw = Gateway(providers=f"""providers:
  local: {{type: file, root: {{home}}/buckets}}
  tlsdaac:
    type: s3
    region: us-west-2
    endpoint: "http://127.0.0.1:9"
    credentials: {{type: earthdata-s3credentials, url: "{url}", token: "env:EDL_TOKEN", retry_backoff_max: 1s}}
""")
        try:
            command = [os.path.join(self.root, "lib", "ld-linux-x86-64.so.2"), "--library-path",
                       os.path.join(self.root, "lib"), os.path.join(self.root, "bin", "scigate"), "credentials",
                       "check", "--config", gw.config]
            env = ["env", "-i", f"SCIGATE_IT_SECRET={gw.env()['SCIGATE_IT_SECRET']}", "EDL_TOKEN=edl-token"]
            out = subprocess.run([*env, f"SSL_CERT_FILE={self.cert}", *command], capture_output=True, text=True,
                                 timeout=60, cwd=gw.dir)
            self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
            self.assertIn("tlsdaac: earthdata-s3credentials: ok", out.stdout)
            # Without it, the system's CA bundle does not know the test's certificate.
            out = subprocess.run([*env, *command], capture_output=True, text=True, timeout=60, cwd=gw.dir)
            self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
            self.assertIn("tlsdaac: earthdata-s3credentials: FAILED", out.stdout)
        finally:
            gw.cleanup()


if __name__ == "__main__":
    unittest.main()
