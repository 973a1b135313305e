"""Provider credentials end to end: two providers whose keys come from a fake
credentials endpoint (a DAAC's /s3credentials behind Earthdata Login, and STS), where
every issued key is a real radosgw key that is removed from radosgw when it expires."""
import concurrent.futures
import os
import subprocess
import sys
import threading
import time
import unittest

import boto3
import botocore.config
import requests

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fakes"))
from fake_credentials import PASSWORD, TOKEN, USER, FakeCredentials  # noqa: E402

from harness import BIN, Gateway  # noqa: E402
from test_s3 import PEER  # noqa: E402

RADOSGW_SH = os.environ["RADOSGW_SH"]

COLLECTIONS = """
collections:
  lp_data:
    description: behind the lpdaac provider (bearer token)
    bucket: {bucket}
    prefix: lp/
    provider: lpdaac
    workflows: {{image_stats: {{authorized_users: [thomas]}}}}
  po_data:
    description: behind the podaac provider (Earthdata Login username and password)
    bucket: {bucket}
    prefix: po/
    provider: podaac
    workflows: {{image_stats: {{authorized_users: [thomas]}}}}
  sts_data:
    description: behind a role assumed through STS
    bucket: {bucket}
    prefix: lp/
    provider: crossaccount
    workflows: {{image_stats: {{authorized_users: [thomas]}}}}
"""


def providers(fake, lp_prefetch="true", margin="3s"):
    ep = PEER["S3_ENDPOINT"]
    return f"""providers:
  local: {{type: file, root: ./buckets}}
  lpdaac:
    type: s3
    region: us-west-2
    endpoint: "{ep}"
    max_retries: 0
    credentials: {{type: earthdata-s3credentials, url: "{fake.daac_url}/s3credentials", token: "env:EDL_TOKEN",
                   refresh_every: 1h, refresh_margin: {margin}, retry_backoff_max: 1s, prefetch: {lp_prefetch}}}
  podaac:
    type: s3
    region: us-west-2
    endpoint: "{ep}"
    max_retries: 0
    credentials: {{type: earthdata-s3credentials, url: "{fake.daac_url}/s3credentials", username: "env:EDL_USER",
                   password: "env:EDL_PASSWORD", login_host: "{fake.login_host}", refresh_every: 1h,
                   refresh_margin: {margin}, retry_backoff_max: 1s}}
  crossaccount:
    type: s3
    region: us-west-2
    endpoint: "{ep}"
    max_retries: 0
    credentials:
      type: sts-assume-role
      role_arn: "arn:aws:iam::123456789012:role/scigate-read"
      endpoint: "{fake.daac_url}"
      refresh_every: 1h
      refresh_margin: {margin}
      retry_backoff_max: 1s
      base: {{type: static, access_key_id: "env:BASE_KEY", secret_access_key: "env:BASE_SECRET"}}
"""


class CredentialsFixture:
    """A fake credentials endpoint per test and a gateway whose three S3 providers use it
    (self.bucket is the test class's bucket)."""
    ttl = 6

    def setUp(self):
        self.fake = FakeCredentials(RADOSGW_SH, PEER["RADOSGW_DIR"], ttl=self.ttl)
        self.gw = None

    def tearDown(self):
        if self.gw:
            self.gw.cleanup()
        self.fake.close()

    def gateway(self, extra_server="", **kw):
        self.gw = Gateway(extra_server=extra_server, providers=providers(self.fake, **kw),
                          collections=COLLECTIONS.format(bucket=self.bucket),
                          extra_env={"EDL_TOKEN": TOKEN, "EDL_USER": USER, "EDL_PASSWORD": PASSWORD,
                                     "BASE_KEY": PEER["S3_ACCESS_KEY_ID"], "BASE_SECRET": PEER["S3_SECRET_ACCESS_KEY"]})
        return self.gw.start()


class ProviderCredentials(CredentialsFixture, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.bucket = "providers-" + os.urandom(3).hex()
        s3 = boto3.client("s3", endpoint_url=PEER["S3_ENDPOINT"], region_name="us-east-1",
                          aws_access_key_id=PEER["S3_ACCESS_KEY_ID"], aws_secret_access_key=PEER["S3_SECRET_ACCESS_KEY"],
                          config=botocore.config.Config(s3={"addressing_style": "path"}))
        s3.create_bucket(Bucket=cls.bucket)
        s3.put_object(Bucket=cls.bucket, Key="lp/HLS.S30.T11SQA.tif", Body=b"lp-data")
        s3.put_object(Bucket=cls.bucket, Key="po/MUR-SST.nc", Body=b"po-data")


    def files(self, selection):
        return self.gw.get(f"/data-selections/{selection}/files/")

    def test_rotation_on_time_with_new_keys_and_three_providers_at_once(self):
        gw = self.gateway()
        start = time.monotonic()
        statuses, hrefs = [], set()
        while time.monotonic() - start < 13:
            for sel in ("lp_data", "po_data", "sts_data"):
                r = self.files(sel)
                statuses.append((sel, r.status_code))
                if r.status_code == 200:
                    hrefs.add(r.json()["files"][0]["href"].split("X-Amz-Credential=")[1].split("%2F")[0])
            time.sleep(0.1)
        elapsed = time.monotonic() - start
        bad = [s for s in statuses if s[1] != 200]
        self.assertEqual(bad, [], gw.logs()[-3000:])
        # ttl 6 s, margin 3 s: a refresh every ~3 s per provider, never per request.
        periods = elapsed / 3
        for kind in ("bearer", "password", "sts"):
            self.assertGreaterEqual(self.fake.issued[kind], int(periods) - 1, (kind, self.fake.issued))
            self.assertLessEqual(self.fake.issued[kind], int(periods) + 2, (kind, self.fake.issued))
        self.assertGreater(len(statuses), 60)
        # Keys really rotated: expired ones were removed from radosgw while requests,
        # signed with the newer keys, kept succeeding; three providers, three key series.
        self.assertGreaterEqual(len(self.fake.removed), 3)
        self.assertGreaterEqual(len(hrefs), 6)
        metrics = requests.get(gw.base + "/metrics", timeout=5).text
        self.assertRegex(metrics, r'scigate_credentials_refreshes_total\{provider="lpdaac"\} [2-9]')
        self.assertIn('scigate_credentials_valid{provider="podaac"} 1', metrics)
        self.assertRegex(metrics, r'scigate_credentials_expiry_seconds\{provider="crossaccount"\} \d')
        ready = requests.get(gw.base + "/readyz", timeout=5).json()
        self.assertTrue(ready["checks"]["credentials"]["lpdaac"].startswith("ok (earthdata-s3credentials"), ready)
        logs = gw.logs()
        for secret in (TOKEN, PASSWORD, PEER["S3_SECRET_ACCESS_KEY"]):
            self.assertNotIn(secret, logs)

    def test_password_goes_only_to_the_login_host(self):
        self.gateway()
        self.assertEqual(self.files("po_data").status_code, 200)
        seen = [(server, auth) for server, method, path, auth in self.fake.log]
        self.assertIn(("login", "Basic"), seen)
        self.assertNotIn(("daac", "Basic"), seen)
        self.assertFalse(any(s == "login" and a == "Bearer" for s, a in seen))  # the token stays at the DAAC too

    def test_endpoint_down_keeps_last_good_then_503_for_that_provider_only_then_recovers(self):
        gw = self.gateway(margin="4s")
        self.assertEqual(self.files("lp_data").status_code, 200)
        self.fake.fail_bearer = True
        t0 = time.monotonic()
        # Last good credentials keep working until they expire (6 s after issue).
        while time.monotonic() - t0 < 4:
            self.assertEqual(self.files("lp_data").status_code, 200)
            time.sleep(0.2)
        deadline = time.monotonic() + 10
        r = self.files("lp_data")
        while r.status_code == 200 and time.monotonic() < deadline:
            time.sleep(0.2)
            r = self.files("lp_data")
        self.assertEqual(r.status_code, 503, r.text)
        time.sleep(1.5)  # the first 503 may come a moment before expiry (no link outlives its keys)
        r = self.files("lp_data")
        self.assertEqual(r.status_code, 503, r.text)
        self.assertEqual(r.headers.get("Retry-After"), "1")
        self.assertIn("lpdaac", r.json()["error"]["message"])
        self.assertEqual(self.files("po_data").status_code, 200)  # other providers unaffected
        ready = requests.get(gw.base + "/readyz", timeout=5).json()
        self.assertTrue(ready["checks"]["credentials"]["lpdaac"].startswith("unavailable"), ready)
        self.assertEqual(ready["status"], "ready")  # one provider's outage does not take the instance out
        self.fake.fail_bearer = False
        deadline = time.monotonic() + 10
        while self.files("lp_data").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        self.assertEqual(self.files("lp_data").status_code, 200)

    def test_concurrent_first_requests_cause_one_upstream_call(self):
        self.gateway(lp_prefetch="false")
        # 32 requests released at once, all before the provider has keys. (Not hundreds in a
        # row: on a loaded machine they outlast the fake's 6-s keys, and a refresh then is right.)
        barrier = threading.Barrier(32)

        def first_request(_):
            barrier.wait()
            return self.files("lp_data").status_code

        with concurrent.futures.ThreadPoolExecutor(32) as pool:
            codes = list(pool.map(first_request, range(32)))
        self.assertEqual(set(codes), {200})
        self.assertEqual(self.fake.issued["bearer"], 1)

    def test_credentials_check_cli(self):
        gw = Gateway(providers=providers(self.fake), collections=COLLECTIONS.format(bucket=self.bucket))
        env = {**gw.env(), "EDL_TOKEN": TOKEN, "EDL_USER": USER, "EDL_PASSWORD": PASSWORD,
               "BASE_KEY": PEER["S3_ACCESS_KEY_ID"], "BASE_SECRET": PEER["S3_SECRET_ACCESS_KEY"]}
        try:
            out = subprocess.run([BIN, "credentials", "check", "--config", gw.config], env=env, capture_output=True, text=True)
            self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
            self.assertIn("lpdaac: earthdata-s3credentials: ok", out.stdout)
            self.assertIn("crossaccount: sts-assume-role: ok", out.stdout)
            for secret in (TOKEN, PASSWORD, PEER["S3_SECRET_ACCESS_KEY"]):
                self.assertNotIn(secret, out.stdout + out.stderr)
            self.fake.fail_bearer = True
            out = subprocess.run([BIN, "credentials", "check", "--config", gw.config], env=env, capture_output=True, text=True)
            self.assertEqual(out.returncode, 1)
            self.assertIn("lpdaac: earthdata-s3credentials: FAILED", out.stdout)
        finally:
            gw.cleanup()


if __name__ == "__main__":
    unittest.main()
