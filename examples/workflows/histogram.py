#!/usr/bin/env python3
"""Step 2 of `image_stats`: per-image intensity histogram (`bins` buckets), mean and
extremes of the gray images, written to stats.json and histograms.csv."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pngtool  # noqa: E402

conf = json.load(sys.stdin)
bins = int(conf.get("bins", 16))
out = os.environ["SCIGATE_OUTPUT_DIR"]
gray_dir = os.path.join(out, "gray")
stats, csv = {}, ["image,bin,count"]
for name in sorted(os.listdir(gray_dir)):
    w, h, _, rows = pngtool.read(os.path.join(gray_dir, name))
    values = [v for row in rows for v in row]
    hist = [0] * bins
    for v in values:
        hist[v * bins // 256] += 1
    stats[name] = {"width": w, "height": h, "mean": round(sum(values) / len(values), 3),
                   "min": min(values), "max": max(values), "histogram": hist}
    csv += [f"{name},{i},{c}" for i, c in enumerate(hist)]
with open(os.path.join(out, "stats.json"), "w") as f:
    json.dump(stats, f, indent=2)
with open(os.path.join(out, "histograms.csv"), "w") as f:
    f.write("\n".join(csv) + "\n")
print(f"histogram: {len(stats)} images, {bins} bins")
