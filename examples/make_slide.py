#!/usr/bin/python3
"""Writes a synthetic whole-slide image (stained tissue: pink stroma, purple nuclei, white
glass) laid out as an Aperio SVS file: the full image as 240-px JPEG tiles, a strip
thumbnail, tiled levels at 1/4 and 1/16 (then 1/64 for large slides), a label and a macro
image. Deterministic. GDAL and numpy, row strips at a time (a 20k x 20k slide needs a few
hundred MB, not gigabytes).

Usage: make_slide.py OUT.svs [WIDTH HEIGHT]   (default 3072 x 2304)
       --ycbcr: YCbCr JPEG tiles (Aperio writes RGB ones by default, and YCbCr ones too)."""
import os
import sys
import tempfile

import numpy as np
from osgeo import gdal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from svs_layout import join_ifds  # noqa: E402

gdal.UseExceptions()
CELL = 24  # one nucleus per cell at most


def field(x, y, seed):
    """Smooth 0..1 pattern from a few sinusoids (the tissue's outline and density)."""
    rng = np.random.default_rng(seed)
    v = np.zeros(np.broadcast(x, y).shape, np.float32)
    for _ in range(5):
        fx, fy, ph = rng.uniform(0.0002, 0.002), rng.uniform(0.0002, 0.002), rng.uniform(0, 6.3)
        v += np.sin(x * fx + y * fy + ph)
    return (v / 5 + 1) / 2


def strip(width, y0, rows, cells):
    """Rows y0 .. y0 + rows of the slide, as (3, rows, width) uint8."""
    y, x = np.mgrid[y0:y0 + rows, 0:width].astype(np.float32)
    tissue = np.clip((field(x, y, 1) - 0.35) * 6, 0, 1)
    stroma = np.array([236, 150, 190], np.float32)[:, None, None]
    glass = np.array([245, 243, 246], np.float32)[:, None, None]
    img = glass * (1 - tissue) + stroma * tissue
    # Nuclei: each cell's own, at its jittered centre, where the tissue is dense enough.
    cx_cells, cy_cells = (x // CELL).astype(np.int64), (y // CELL).astype(np.int64)
    ox, oy, radius, keep = (a[cy_cells % a.shape[0], cx_cells % a.shape[1]] for a in cells)
    d2 = (x - (cx_cells * CELL + ox)) ** 2 + (y - (cy_cells * CELL + oy)) ** 2
    nucleus = np.clip(1.5 - np.sqrt(d2) / radius, 0, 1) * (keep < tissue * field(x, y, 2))
    dark = np.array([95, 45, 130], np.float32)[:, None, None]
    img = img * (1 - nucleus) + dark * nucleus
    noise = np.random.default_rng(y0).normal(0, 4, img.shape).astype(np.float32)
    return np.clip(img + noise, 0, 255).astype(np.uint8)


def write_full(path, width, height, photometric):
    drv = gdal.GetDriverByName("GTiff")
    ds = drv.Create(path, width, height, 3, gdal.GDT_Byte,
                    ["TILED=YES", "BLOCKXSIZE=240", "BLOCKYSIZE=240", "COMPRESS=JPEG", "JPEG_QUALITY=85",
                     f"PHOTOMETRIC={photometric}", "BIGTIFF=NO"])
    rng = np.random.default_rng(7)
    shape = (64, 64)
    cells = (rng.uniform(5, CELL - 5, shape), rng.uniform(5, CELL - 5, shape), rng.uniform(3.5, 7, shape),
             rng.uniform(0, 1, shape))
    rows = 240  # whole tile rows: GDAL never re-reads a JPEG tile it wrote
    for y0 in range(0, height, rows):
        n = min(rows, height - y0)
        ds.WriteArray(strip(width, y0, n, cells), 0, y0)
    ds = None


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    photometric = "YCBCR" if "--ycbcr" in sys.argv else "RGB"
    out = args[0]
    width, height = (int(args[1]), int(args[2])) if len(args) >= 3 else (3072, 2304)
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with tempfile.TemporaryDirectory(dir=os.path.dirname(os.path.abspath(out))) as tmp:
        full = os.path.join(tmp, "l0.tif")
        write_full(full, width, height, photometric)
        pieces = [(full, {270: f"Aperio Image Library (synthetic)\n{width}x{height} [0,0 {width}x{height}] "
                                f"(240x240) JPEG/{photometric} Q=85|AppMag = 20|MPP = 0.5"})]
        tiled = ["TILED=YES", "BLOCKXSIZE=240", "BLOCKYSIZE=240", "COMPRESS=JPEG", "JPEG_QUALITY=85",
                 f"PHOTOMETRIC={photometric}"]

        def reduced(name, w, h, options, source=full):
            path = os.path.join(tmp, name + ".tif")
            gdal.Translate(path, source, width=w, height=h, resampleAlg="average", creationOptions=options)
            return path

        thumb_w = 768
        pieces.append((reduced("thumb", thumb_w, max(1, height * thumb_w // width), ["COMPRESS=JPEG"]), {}))
        previous, factor = full, 4
        while max(width, height) // factor >= 512:
            level = reduced(f"l{factor}", max(1, width // factor), max(1, height // factor), tiled, previous)
            pieces.append((level, {}))
            previous, factor = level, factor * 4
        pieces.append((reduced("label", 400, 420, ["COMPRESS=LZW"], previous), {254: 1}))
        pieces.append((reduced("macro", 1200, 400, ["COMPRESS=JPEG"], previous), {254: 9}))
        join_ifds(out + ".part", pieces)
        os.replace(out + ".part", out)


if __name__ == "__main__":
    main()
