"""The whole flow with the data selection and staging on S3 (radosgw, which checks
signatures), presigned links, interop with awscli and botocore, a folder of 10,000
objects, a wrong secret and an S3 outage."""
import concurrent.futures
import datetime
import os
import subprocess
import time
import unittest
import urllib.parse
from unittest import mock

import boto3
import botocore.auth
import botocore.config
import requests

from harness import SOURCE, Gateway, auth, raw_request

AWS = "/usr/bin/aws"


def peer():
    env = {}
    with open(os.environ["RADOSGW_ENV"]) as f:
        for line in f:
            k, _, v = line.strip().partition("=")
            env[k] = v
    return env


# Run by CTest with the radosgw fixture; a missing peer is an error, never a skip.
PEER = peer()


def s3_client():
    return boto3.client("s3", endpoint_url=PEER["S3_ENDPOINT"], region_name="us-east-1",
                        aws_access_key_id=PEER["S3_ACCESS_KEY_ID"], aws_secret_access_key=PEER["S3_SECRET_ACCESS_KEY"],
                        config=botocore.config.Config(s3={"addressing_style": "path"}, signature_version="s3v4",
                                                      max_pool_connections=16))


def aws(*args, input_bytes=None):
    env = {**os.environ, "AWS_ACCESS_KEY_ID": PEER["S3_ACCESS_KEY_ID"],
           "AWS_SECRET_ACCESS_KEY": PEER["S3_SECRET_ACCESS_KEY"], "AWS_DEFAULT_REGION": "us-east-1"}
    return subprocess.run([AWS, "--endpoint-url", PEER["S3_ENDPOINT"], *args], env=env, input=input_bytes,
                          capture_output=True, check=True).stdout


def providers(secret_ref="env:S3_SECRET"):
    return f"""providers:
  local: {{type: file, root: ./buckets}}
  platform:
    type: s3
    region: us-east-1
    endpoint: "{PEER['S3_ENDPOINT']}"
    max_retries: 1
    connect_timeout: 1s
    request_timeout: 5s
    credentials: {{type: static, access_key_id: "env:S3_KEY", secret_access_key: "{secret_ref}"}}
"""


COLLECTIONS = """
collections:
  nebraska_images:
    description: Tissue images on S3
    bucket: {bucket}
    prefix: nebraska_images/
    provider: platform
    workflows:
      nebraska: {{authorized_users: [thomas, dliu]}}
      image_stats: {{authorized_users: [thomas]}}
  bulk:
    description: A folder of 10,000 objects
    bucket: {bucket}
    prefix: bulk/
    provider: platform
    workflows:
      image_stats: {{authorized_users: [thomas]}}
"""


class OnS3(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s3 = s3_client()
        cls.input_bucket = "inputs-" + os.urandom(3).hex()
        cls.staging_bucket = "staging-" + os.urandom(3).hex()
        cls.s3.create_bucket(Bucket=cls.input_bucket)
        cls.s3.create_bucket(Bucket=cls.staging_bucket)
        # Inputs written by awscli, read by scigate's engine.
        images = os.path.join(os.environ.get("TMPDIR", "/tmp"), "scigate-s3-images-" + os.urandom(3).hex())
        subprocess.run(["/usr/bin/python3", os.path.join(SOURCE, "examples/make_images.py"), images, "2"], check=True)
        aws("s3", "cp", "--recursive", "--quiet", images, f"s3://{cls.input_bucket}/nebraska_images/")
        cls.gw = cls.gateway()
        cls.gw.start()

    @classmethod
    def gateway(cls, secret_ref="env:S3_SECRET"):
        return Gateway(providers=providers(secret_ref),
                       staging=f'staging: {{provider: platform, bucket: {cls.staging_bucket}, prefix: "out/", presign_ttl: 10m}}\n',
                       collections=COLLECTIONS.format(bucket=cls.input_bucket),
                       extra_env={"S3_KEY": PEER["S3_ACCESS_KEY_ID"], "S3_SECRET": PEER["S3_SECRET_ACCESS_KEY"],
                                  "S3_WRONG": "wrong" + PEER["S3_SECRET_ACCESS_KEY"][5:]})

    @classmethod
    def tearDownClass(cls):
        cls.gw.cleanup()

    def test_full_flow_with_collection_and_staging_on_s3(self):
        gw = self.gw
        run = gw.start_run("nebraska", tile_size=96)
        done = gw.wait_run(run["run_id"])
        self.assertEqual(done["status"], "success", gw.get(f"/runs/{run['run_id']}/logs").text)
        listing = requests.get(run["output_url"], headers=auth("thomas"), timeout=10).json()
        files = {f["name"]: f for f in listing["files"]}
        self.assertEqual(set(files), {"detections.csv", "summary.json"})
        href = files["summary.json"]["href"]
        self.assertTrue(href.startswith(PEER["S3_ENDPOINT"] + f"/{self.staging_bucket}/out/thomas/{run['run_id']}/"), href)
        self.assertIn("X-Amz-Signature=", href)
        summary = requests.get(href, timeout=10)
        self.assertEqual(summary.status_code, 200)
        self.assertEqual(summary.json()["run_id"], run["run_id"])
        tiles = requests.get(listing["folders"][0]["url"], headers=auth("thomas"), timeout=10).json()
        self.assertEqual(len(tiles["files"]), 2 * 4)  # 2 images of 192 px in 96 px tiles
        # Outputs written by scigate, read back by awscli.
        key = f"out/thomas/{run['run_id']}/summary.json"
        self.assertEqual(aws("s3", "cp", f"s3://{self.staging_bucket}/{key}", "-"), summary.content)
        # Metadata: HeadObject, then PutObject of the sidecar.
        put = gw.put(f"/output-data/thomas/{run['run_id']}/", {"files": {"summary.json": {"properties": {"reviewer": "Thomas"}}}})
        self.assertEqual(put.status_code, 200, put.text)
        self.assertEqual(aws("s3", "cp", f"s3://{self.staging_bucket}/{key}.cfg", "-"), b"[summary.json]\nreviewer = Thomas\n\n")
        props = {f["name"]: f["properties"] for f in gw.get(f"/output-data/thomas/{run['run_id']}/").json()["files"]}
        self.assertEqual(props["summary.json"], {"reviewer": "Thomas"})
        self.assertEqual(gw.put(f"/output-data/thomas/{run['run_id']}/", {"files": {"none.txt": {"properties": {}}}}).status_code, 404)
        # A file path redirects to its presigned link.
        r = gw.get(f"/output-data/thomas/{run['run_id']}/detections.csv")
        self.assertEqual(r.status_code, 302)
        self.assertTrue(requests.get(r.headers["Location"], timeout=10).text.startswith("tile,nucleus"))

    def test_preview_reads_an_s3_staged_file_through_scigate_capped_and_only_for_its_owner(self):
        gw = self.gw
        run = gw.start_run("nebraska", tile_size=96)
        self.assertEqual(gw.wait_run(run["run_id"])["status"], "success")
        base = f"/output-data/thomas/{run['run_id']}/"
        key = f"out/thomas/{run['run_id']}/detections.csv"
        r = gw.get(base + "detections.csv?preview")
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(r.content, aws("s3", "cp", f"s3://{self.staging_bucket}/{key}", "-"))
        self.assertEqual(r.headers["Content-Type"], "text/csv")
        self.assertEqual(r.headers["X-File-Size"], str(len(r.content)))
        self.assertEqual(r.headers["X-Content-Type-Options"], "nosniff")
        self.assertEqual(r.headers["Content-Disposition"], "attachment")
        self.assertEqual(r.headers["Cache-Control"], "private")
        # A file over the cap: its first 256 KiB only.
        cap = 256 * 1024
        big = os.urandom(cap + 4096)
        self.s3.put_object(Bucket=self.staging_bucket, Key=f"out/thomas/{run['run_id']}/big.bin", Body=big)
        r = gw.get(base + "big.bin?preview")
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(r.content, big[:cap])
        self.assertEqual(r.headers["X-File-Size"], str(len(big)))
        self.assertEqual(r.headers["Content-Type"], "application/octet-stream")
        # Others are refused exactly as the listing refuses them: another user's outputs
        # (403, as their listing), a missing file or a folder (404).
        for user in ("dliu", "mallory"):
            listed = gw.get(base, user=user).status_code
            self.assertEqual(listed, 403)
            self.assertEqual(gw.get(base + "detections.csv?preview", user=user).status_code, listed)
        self.assertEqual(gw.get(f"/output-data/dliu/{run['run_id']}/detections.csv?preview", user="dliu").status_code, 404)
        self.assertEqual(gw.get(base + "nothing.csv?preview").status_code, 404)
        self.assertEqual(gw.get(base + "?preview").status_code, 404)
        # Data-selection inputs, for the users of its workflows only.
        r = gw.get("/data-selections/nebraska_images/files/tissue_01.png?preview")
        self.assertEqual(r.status_code, 200, r.text)
        self.assertTrue(r.content.startswith(b"\x89PNG"))
        self.assertEqual(r.headers["Content-Type"], "image/png")
        self.assertEqual(gw.get("/data-selections/nebraska_images/files/tissue_01.png?preview", user="mallory").status_code, 404)

    def test_browse_data_selection_files(self):
        gw = self.gw
        r = gw.get("/data-selections/nebraska_images/files/")
        self.assertEqual(r.status_code, 200, r.text)
        names = [f["name"] for f in r.json()["files"]]
        self.assertEqual(names, ["tissue_01.png", "tissue_02.png"])
        png = requests.get(r.json()["files"][0]["href"], timeout=10)
        self.assertTrue(png.content.startswith(b"\x89PNG"))
        self.assertEqual(gw.get("/data-selections/nebraska_images/files/", user="mallory").status_code, 404)
        for bad in ["..", "%2e%2e/x", "a//b", "a%2fb", "../bulk/", "x/../../"]:
            status, body = raw_request(gw, "GET", f"/data-selections/nebraska_images/files/{bad}", auth("thomas"))
            self.assertEqual(status, 400, (bad, body[:200]))
        self.assertEqual(gw.get("/data-selections/nebraska_images/files/nothing-here/").status_code, 404)

    def test_a_folder_of_10000_objects_lists_completely_page_by_page(self):
        def put(i):
            self.s3.put_object(Bucket=self.input_bucket, Key=f"bulk/many/f{i:05d}.txt", Body=b"x")
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            list(pool.map(put, range(10000)))
        seen, pages, url = [], 0, "/data-selections/bulk/files/many/"
        params = {"limit": 1000}
        while True:
            r = self.gw.get(url, params=params)
            self.assertEqual(r.status_code, 200, r.text[:300])
            body = r.json()
            seen += [f["name"] for f in body["files"]]
            pages += 1
            if not body["next_cursor"]:
                break
            params = {"limit": 1000, "cursor": body["next_cursor"]}
        # S3 may mark the tenth page truncated and answer an eleventh, empty one.
        self.assertIn(pages, (10, 11))
        self.assertEqual(len(seen), 10000)
        self.assertEqual(len(set(seen)), 10000)
        self.assertEqual(seen[0], "f00000.txt")
        self.assertEqual(seen[-1], "f09999.txt")

    def test_presigned_url_equals_botocores(self):
        at = 1763900000
        key = "dir with space/ünï+code=%.png"
        tool = subprocess.run([os.environ["PRESIGN_TOOL"], PEER["S3_ENDPOINT"], "us-east-1", "bucket-x", key,
                               "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "session-token/+=", str(at), "600"],
                              capture_output=True, text=True, check=True).stdout.strip()
        client = boto3.client("s3", endpoint_url=PEER["S3_ENDPOINT"], region_name="us-east-1",
                              aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                              aws_session_token="session-token/+=",
                              config=botocore.config.Config(s3={"addressing_style": "path"}, signature_version="s3v4"))
        fixed = datetime.datetime.utcfromtimestamp(at)
        with mock.patch.object(botocore.auth.datetime, "datetime", wraps=datetime.datetime) as dt:
            dt.utcnow.return_value = fixed
            dt.now.return_value = fixed
            boto = client.generate_presigned_url("get_object", Params={"Bucket": "bucket-x", "Key": key}, ExpiresIn=600)
        ours, theirs = urllib.parse.urlsplit(tool), urllib.parse.urlsplit(boto)
        self.assertEqual(ours.path, theirs.path)
        self.assertEqual(dict(urllib.parse.parse_qsl(ours.query)), dict(urllib.parse.parse_qsl(theirs.query)))

    def test_presigned_links_fail_when_tampered(self):
        run = self.gw.start_run("image_stats")
        self.assertEqual(self.gw.wait_run(run["run_id"])["status"], "success")
        href = self.gw.get(f"/output-data/thomas/{run['run_id']}/").json()["files"][0]["href"]
        self.assertEqual(requests.get(href, timeout=10).status_code, 200)
        sig = href.rsplit("X-Amz-Signature=", 1)[1][:64]
        tampered = href.replace(sig, ("0" if sig[0] != "0" else "1") + sig[1:])
        self.assertEqual(requests.get(tampered, timeout=10).status_code, 403)

    def test_wrong_secret_is_502_naming_the_provider(self):
        gw = self.gateway(secret_ref="env:S3_WRONG")
        gw.start(wait=False)
        try:
            gw.wait_ready(probe="/healthz")
            self.assertEqual(requests.get(gw.base + "/readyz", timeout=5).status_code, 503)  # staging unusable
            r = gw.get("/data-selections/nebraska_images/files/")
            self.assertEqual(r.status_code, 502)
            msg = r.json()["error"]["message"]
            self.assertIn("platform", msg)
            wrong = gw.env()["S3_WRONG"]
            self.assertNotIn(wrong, r.text)
            self.assertNotIn(wrong, gw.logs())
            self.assertNotIn(PEER["S3_SECRET_ACCESS_KEY"], gw.logs())
        finally:
            gw.cleanup()

    def test_zz_s3_outage_then_recovery(self):
        gw = self.gw
        subprocess.run([os.environ["RADOSGW_SH"], "stop-gateway", PEER["RADOSGW_DIR"]], check=True)
        try:
            r = gw.get("/data-selections/nebraska_images/files/")
            self.assertIn(r.status_code, (503, 504), r.text)
            self.assertIn("platform", r.json()["error"]["message"])
            self.assertEqual(gw.get("/workflows").status_code, 200)  # what needs no S3 still works
            self.assertIsNone(gw.proc.poll())
        finally:
            subprocess.run([os.environ["RADOSGW_SH"], "start-gateway", PEER["RADOSGW_DIR"]], check=True)
        deadline = time.time() + 30
        while time.time() < deadline:
            if gw.get("/data-selections/nebraska_images/files/").status_code == 200:
                break
            time.sleep(0.5)
        self.assertEqual(gw.get("/data-selections/nebraska_images/files/").status_code, 200)


if __name__ == "__main__":
    unittest.main()
