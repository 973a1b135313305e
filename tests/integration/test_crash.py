"""kill -9 in the middle of work: run creation under load and metadata writes. After a
restart nothing acknowledged is lost and nothing is half-written: every run answered 201
is in the ledger and ends, the SQLite file passes integrity_check, and every .cfg sidecar
holds one complete version of what was PUT."""
import configparser
import os
import signal
import sqlite3
import threading
import time
import unittest

import requests

from harness import Gateway, auth


class KillDuringWork(unittest.TestCase):
    def setUp(self):
        self.gw = Gateway(max_parallel_runs=2).start()

    def tearDown(self):
        self.gw.cleanup()

    def test_kill_during_run_creation_loses_no_acknowledged_run(self):
        gw = self.gw
        created, stop = [], threading.Event()
        lock = threading.Lock()

        def creator():
            session = requests.Session()
            while not stop.is_set():
                try:
                    r = session.post(gw.base + "/workflows/broken/runs", json={"in_data_selection": "nebraska_images"},
                                     headers=auth("thomas"), timeout=5)
                except requests.RequestException:
                    return  # the server died under us: that request may or may not have landed
                if r.status_code == 201:
                    with lock:
                        created.append(r.json()["run_id"])

        threads = [threading.Thread(target=creator) for _ in range(8)]
        for t in threads:
            t.start()
        time.sleep(1.5)
        gw.stop(sig=signal.SIGKILL)
        stop.set()
        for t in threads:
            t.join()
        self.assertGreater(len(created), 10)
        with sqlite3.connect(os.path.join(gw.dir, "scigate.db")) as db:
            self.assertEqual(db.execute("PRAGMA integrity_check").fetchone()[0], "ok")
        gw.start()
        for run_id in created:
            done = gw.wait_run(run_id, timeout=120)
            self.assertIn(done["status"], ("failed", "success"), done)
            if done["status"] == "failed":
                self.assertTrue(done.get("reason"), done)

    def test_kill_during_metadata_writes_leaves_whole_sidecars(self):
        gw = self.gw
        folder = os.path.join(gw.dir, "buckets/staging/thomas/r1")
        os.makedirs(folder)
        names = [f"img{i}.png" for i in range(20)]
        for n in names:
            with open(os.path.join(folder, n), "wb") as f:
                f.write(b"PNG")
        stop = threading.Event()
        versions = []

        def writer():
            session = requests.Session()
            v = 0
            while not stop.is_set():
                v += 1
                props = {f"k{j}": f"v{v}-" + "x" * 500 for j in range(80)}  # 20 files: 0.8 MB a PUT
                try:
                    r = session.put(gw.base + "/output-data/thomas/r1/",
                                    json={"files": {n: {"properties": props} for n in names}},
                                    headers=auth("thomas"), timeout=5)
                except requests.RequestException:
                    return
                if r.status_code == 200:
                    versions.append(v)

        t = threading.Thread(target=writer)
        t.start()
        time.sleep(1.5)
        gw.stop(sig=signal.SIGKILL)
        stop.set()
        t.join()
        self.assertGreater(len(versions), 2)
        for n in names:
            path = os.path.join(folder, n + ".cfg")
            self.assertTrue(os.path.exists(path), n)
            cfg = configparser.ConfigParser(interpolation=None)
            cfg.read(path)
            values = dict(cfg[n])
            self.assertEqual(len(values), 80, n)
            tags = {v.split("-", 1)[0] for v in values.values()}
            self.assertEqual(len(tags), 1, f"{n} mixes versions {tags}")
            # A sidecar is never older than the last acknowledged PUT.
            self.assertGreaterEqual(int(tags.pop()[1:]), versions[-1])
        gw.start()
        listing = gw.get("/output-data/thomas/r1/").json()
        self.assertEqual(sorted(f["name"] for f in listing["files"]), sorted(names))
        for f in listing["files"]:
            self.assertEqual(len(f["properties"]), 80)


if __name__ == "__main__":
    unittest.main()
