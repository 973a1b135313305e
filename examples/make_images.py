#!/usr/bin/env python3
"""Writes small synthetic microscopy-like PNGs (dark tissue, bright round nuclei) into the
folder given as argv[1]. Deterministic, so demos and tests see the same data."""
import math
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "workflows"))
import pngtool  # noqa: E402


def make(path, seed, size=192, nuclei=12):
    rnd = random.Random(seed)
    px = [[[30 + rnd.randint(0, 20), 20 + rnd.randint(0, 15), 40 + rnd.randint(0, 20)] for _ in range(size)]
          for _ in range(size)]
    for _ in range(nuclei):
        cx, cy, r = rnd.randint(8, size - 8), rnd.randint(8, size - 8), rnd.randint(3, 6)
        for y in range(max(0, cy - r), min(size, cy + r + 1)):
            for x in range(max(0, cx - r), min(size, cx + r + 1)):
                if math.hypot(x - cx, y - cy) <= r:
                    px[y][x] = [200 + rnd.randint(0, 40), 160 + rnd.randint(0, 40), 230]
    pngtool.write(path, size, size, 3, [[c for p in row for c in p] for row in px])


if __name__ == "__main__":
    dest = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    os.makedirs(dest, exist_ok=True)
    for i in range(count):
        make(os.path.join(dest, f"tissue_{i + 1:02d}.png"), seed=i + 1)
