#!/usr/bin/env python3
"""Step 1 of `image_stats`: convert every input PNG to an 8-bit gray PNG."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pngtool  # noqa: E402

json.load(sys.stdin)
src, out = os.environ["SCIGATE_INPUT_DIR"], os.environ["SCIGATE_OUTPUT_DIR"]
os.makedirs(os.path.join(out, "gray"), exist_ok=True)
n = 0
for name in sorted(os.listdir(src)):
    if name.lower().endswith(".png"):
        w, h, ch, rows = pngtool.read(os.path.join(src, name))
        pngtool.write(os.path.join(out, "gray", name), w, h, 1, pngtool.to_gray(w, h, ch, rows))
        n += 1
print(f"grayscale: converted {n} images")
if n == 0:
    sys.exit("grayscale: no PNG input files")
