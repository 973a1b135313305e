#!/usr/bin/env python3
"""Step 1 of `nebraska`: cut every input PNG into tile_size x tile_size gray tiles."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pngtool  # noqa: E402

conf = json.load(sys.stdin)
size = int(conf.get("tile_size", 64))
src, out = os.environ["SCIGATE_INPUT_DIR"], os.environ["SCIGATE_OUTPUT_DIR"]
tiles_dir = os.path.join(out, "tiles")
os.makedirs(tiles_dir, exist_ok=True)
count = 0
for name in sorted(os.listdir(src)):
    if not name.lower().endswith(".png"):
        continue
    w, h, ch, rows = pngtool.read(os.path.join(src, name))
    gray = pngtool.to_gray(w, h, ch, rows)
    stem = os.path.splitext(name)[0]
    for ty in range(0, h, size):
        for tx in range(0, w, size):
            tile = [r[tx:tx + size] for r in gray[ty:ty + size]]
            pngtool.write(os.path.join(tiles_dir, f"{stem}_{ty // size:02d}_{tx // size:02d}.png"),
                          len(tile[0]), len(tile), 1, tile)
            count += 1
print(f"tile: wrote {count} tiles of {size}px from {src}")
if count == 0:
    sys.exit("tile: no PNG input files")
