#!/usr/bin/python3
"""The benchmarks' COG: 4096 x 4096 RGB uint8, DEFLATE, 512-px blocks, overviews
2048/1024/512 (gdal_translate -of COG), EPSG:4326, a smooth pattern plus noise (so blocks
compress like imagery, ~0.75 MB each, not like a flat colour).

Usage: make_cog.py OUT WEST NORTH PIXEL_DEGREES
"""
import os
import sys
import tempfile

import numpy as np
from osgeo import gdal

gdal.UseExceptions()
out, west, north, pixel = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
rng = np.random.default_rng(1)
y, x = np.mgrid[0:4096, 0:4096]
with tempfile.TemporaryDirectory() as tmp:
    src = os.path.join(tmp, "src.tif")
    ds = gdal.GetDriverByName("GTiff").Create(src, 4096, 4096, 3, gdal.GDT_Byte)
    ds.SetGeoTransform((west, pixel, 0, north, 0, -pixel))
    ds.SetProjection("EPSG:4326")
    for b in range(3):
        band = ((x * (b + 1) // 7 + y * (3 - b) // 5 + 40 * np.sin(x / 97.0 + b) * np.cos(y / 61.0)) % 256
                + rng.integers(0, 12, size=x.shape))
        ds.GetRasterBand(b + 1).WriteArray(band.clip(0, 255).astype(np.uint8))
    ds = None
    gdal.Translate(out, src, format="COG", creationOptions=["COMPRESS=DEFLATE", "BLOCKSIZE=512"])
