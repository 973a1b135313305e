#!/usr/bin/env python3
"""Step 2 of `nebraska`: find bright blobs ("nuclei") in each tile by thresholding and
4-connected component labelling; write detections.csv and summary.json."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pngtool  # noqa: E402

conf = json.load(sys.stdin)
threshold = int(conf.get("threshold", 128))
min_area = int(conf.get("min_area", 4))
out = os.environ["SCIGATE_OUTPUT_DIR"]
tiles_dir = os.path.join(out, "tiles")
lines, total = ["tile,nucleus,x,y,area"], 0
for name in sorted(os.listdir(tiles_dir)):
    w, h, _, rows = pngtool.read(os.path.join(tiles_dir, name))
    seen = [[False] * w for _ in range(h)]
    found = 0
    for y in range(h):
        for x in range(w):
            if seen[y][x] or rows[y][x] < threshold:
                continue
            stack, pixels = [(x, y)], []
            seen[y][x] = True
            while stack:
                px, py = stack.pop()
                pixels.append((px, py))
                for nx, ny in ((px + 1, py), (px - 1, py), (px, py + 1), (px, py - 1)):
                    if 0 <= nx < w and 0 <= ny < h and not seen[ny][nx] and rows[ny][nx] >= threshold:
                        seen[ny][nx] = True
                        stack.append((nx, ny))
            if len(pixels) >= min_area:
                found += 1
                cx = sum(p[0] for p in pixels) / len(pixels)
                cy = sum(p[1] for p in pixels) / len(pixels)
                lines.append(f"{name},{found},{cx:.1f},{cy:.1f},{len(pixels)}")
    total += found
with open(os.path.join(out, "detections.csv"), "w") as f:
    f.write("\n".join(lines) + "\n")
with open(os.path.join(out, "summary.json"), "w") as f:
    json.dump({"nuclei": total, "threshold": threshold, "min_area": min_area,
               "run_id": os.environ["SCIGATE_RUN_ID"]}, f, indent=2)
print(f"detect: {total} nuclei (threshold {threshold}, min area {min_area})")
