#!/usr/bin/python3
"""Writes the seed corpus of the image fuzz target (fuzz/corpus/image/): tiny PNGs and JPEGs,
one per layout the decoders handle (gray, gray + alpha, RGB, RGBA, palette with tRNS,
16-bit, 1-bit, interlaced; JPEG gray, RGB 4:2:0 and 4:4:4, progressive). Run from the
repository root with Debian's /usr/bin/python3 (python3-gdal) and vips; deterministic."""
import os
import subprocess
import sys

import numpy as np
from osgeo import gdal

sys.path.insert(0, "tests/tools")
from make_raster_fixtures import pattern  # noqa: E402

gdal.UseExceptions()
out = "fuzz/corpus/image"
os.makedirs(out, exist_ok=True)


def mem(arr, dtype=gdal.GDT_Byte):
    bands, height, width = arr.shape
    ds = gdal.GetDriverByName("MEM").Create("", width, height, bands, dtype)
    for b in range(bands):
        ds.GetRasterBand(b + 1).WriteArray(arr[b])
    return ds


def png(name, arr, dtype=gdal.GDT_Byte, **options):
    gdal.GetDriverByName("PNG").CreateCopy(os.path.join(out, name + ".png"), mem(arr, dtype),
                                           options=[f"{k}={v}" for k, v in options.items()])


def jpeg(name, arr, **options):
    gdal.GetDriverByName("JPEG").CreateCopy(os.path.join(out, name + ".jpg"), mem(arr),
                                            options=[f"{k}={v}" for k, v in options.items()])


rgb = pattern(23, 17, 3, np.uint8, 1)
png("gray", rgb[:1])
png("gray-alpha", np.stack([rgb[0], (rgb[1] > 100) * 255]))
png("rgb", rgb)
png("rgba", np.concatenate([rgb, (rgb[:1] > 80) * 255]))
png("rgb16", pattern(19, 13, 3, np.uint16, 2), gdal.GDT_UInt16)
png("gray1", (rgb[:1] > 120).astype(np.uint8), NBITS=1)
jpeg("gray", rgb[:1], QUALITY=50)
jpeg("rgb", rgb, QUALITY=50)
jpeg("progressive", rgb, QUALITY=40, PROGRESSIVE="ON")
src = os.path.join(out, "rgb.png")
subprocess.run(["vips", "pngsave", src, os.path.join(out, "interlaced.png"), "--interlace"], check=True)
subprocess.run(["vips", "pngsave", src, os.path.join(out, "palette.png"), "--palette", "--bitdepth", "4"], check=True)
subprocess.run(["vips", "jpegsave", src, os.path.join(out, "rgb444.jpg"), "--Q", "60", "--subsample-mode", "off"],
               check=True)
for name in os.listdir(out):
    path = os.path.join(out, name)
    if name.endswith(".aux.xml"):
        os.remove(path)
