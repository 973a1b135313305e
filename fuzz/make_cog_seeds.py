#!/usr/bin/python3
"""Writes the seed corpus of the cog fuzz target (fuzz/corpus/cog/): small GDAL-made COGs and
GTiffs, one per layout the reader handles (codecs, predictors, masks, overviews, BigTIFF,
byte orders, strips, 1-bit, alpha, sparse, custom CRS). Run from the repository root with
Debian's /usr/bin/python3 (python3-gdal); deterministic."""
import os
import sys

import numpy as np
from osgeo import gdal

sys.path.insert(0, "tests/tools")
import make_raster_fixtures as f
gdal.UseExceptions()
out = "fuzz/corpus/cog"
def p(n): return os.path.join(out, n + ".tif")
rgb = f.pattern(80, 70, 3, np.uint8, 1)
f.cog(p("cog-rgb-jpeg-ycbcr"), f.mem_dataset(rgb), COMPRESS="JPEG", BLOCKSIZE=64, QUALITY=50, OVERVIEWS="NONE")
f.cog(p("cog-rgb-webp"), f.mem_dataset(rgb), COMPRESS="WEBP", BLOCKSIZE=64, QUALITY=30, OVERVIEWS="NONE")
dem = f.pattern(90, 70, 1, np.uint16, 2); dem[0, 10:20, 5:30] = 0
f.cog(p("cog-utm-u16-nodata-deflate-pred2-overview"), f.mem_dataset(dem, epsg=32633, geotransform=(500000.0, 30.0, 0, 5600000.0, 0, -30.0), nodata=0),
      COMPRESS="DEFLATE", BLOCKSIZE=64, PREDICTOR="YES", OVERVIEW_COUNT=1)
f32 = f.pattern(40, 30, 1, np.float32, 3); f32[0, 5:10, 2:9] = np.nan
f.cog(p("cog-f32-nan-pred3"), f.mem_dataset(f32), COMPRESS="DEFLATE", BLOCKSIZE=32, PREDICTOR="YES", OVERVIEWS="NONE")
rgba = f.pattern(70, 60, 4, np.uint8, 4); rgba[3] = 255; rgba[3, 5:15, 10:40] = 0
gdal.Translate(p("cog-rgb-internal-mask"), f.mem_dataset(rgba), format="COG", bandList=[1, 2, 3], maskBand=4,
               creationOptions=["COMPRESS=LZW", "BLOCKSIZE=32"])
f.gtiff(p("gtiff-bigtiff-zstd-overviews"), f.mem_dataset(f.pattern(40, 36, 1, np.int32, 9)), overviews=(2,), BIGTIFF="YES", TILED="YES",
        BLOCKXSIZE=16, BLOCKYSIZE=16, COMPRESS="ZSTD")
f.gtiff(p("gtiff-separate-u16"), f.mem_dataset(f.pattern(30, 20, 3, np.uint16, 10)), TILED="YES", BLOCKXSIZE=16, BLOCKYSIZE=16,
        INTERLEAVE="BAND", COMPRESS="PACKBITS")
f.gtiff(p("gtiff-big-endian-lzw-pred2"), f.mem_dataset(f.pattern(20, 20, 2, np.int16, 11)), TILED="YES", BLOCKXSIZE=16,
        BLOCKYSIZE=16, COMPRESS="LZW", PREDICTOR=2, ENDIANNESS="BIG")
f.gtiff(p("gtiff-strips-none"), f.mem_dataset(f.pattern(25, 19, 3, np.uint8, 8)), TILED="NO", BLOCKYSIZE=7)
f.gtiff(p("gtiff-one-bit-packbits"), f.mem_dataset((f.pattern(37, 21, 1, np.uint8, 16) % 2).astype(np.uint8)), NBITS=1, COMPRESS="PACKBITS")
f.gtiff(p("gtiff-rgba-alpha"), f.mem_dataset(f.pattern(20, 20, 4, np.uint8, 5)), TILED="YES", BLOCKXSIZE=16, BLOCKYSIZE=16, ALPHA="YES", PHOTOMETRIC="RGB")
f.gtiff(p("gtiff-f64-pred3-custom-crs"), f.mem_dataset(f.pattern(20, 20, 1, np.float64, 7), srs="+proj=laea +lat_0=45 +lon_0=-100 +x_0=0 +y_0=0 +a=6370997 +b=6370997 +units=m +no_defs",
        geotransform=(-1e5, 100.0, 0, 1e5, 0, -100.0)), TILED="YES", BLOCKXSIZE=16, BLOCKYSIZE=16, COMPRESS="DEFLATE", PREDICTOR=3)
pt = f.mem_dataset(f.pattern(16, 16, 1, np.uint8, 14), epsg=32633, geotransform=(400000.0, 10.0, 0, 5000000.0, 0, -10.0))
pt.SetMetadataItem("AREA_OR_POINT", "Point")
f.gtiff(p("gtiff-pixel-is-point"), pt, TILED="YES", BLOCKXSIZE=16, BLOCKYSIZE=16)
sp = f.pattern(32, 32, 1, np.uint8, 13); sp[0, :16, :] = 9
f.gtiff(p("gtiff-sparse-nodata"), f.mem_dataset(sp, nodata=9), TILED="YES", BLOCKXSIZE=16, BLOCKYSIZE=16, SPARSE_OK="TRUE", COMPRESS="DEFLATE")
am = f.mem_dataset(f.pattern(40, 20, 1, np.uint8, 19), geotransform=(170.0, 0.5, 0, 10.0, 0, -0.5))
f.gtiff(p("gtiff-antimeridian"), am, TILED="YES", BLOCKXSIZE=16, BLOCKYSIZE=16)
# Deep zoom's pyramid layouts (issue 11): vips's JPEG pyramid (YCbCr, JPEGTables), levels in
# SubIFDs (OME-TIFF style), and an Aperio SVS chain (unmarked tiled levels, strip
# thumbnail, a label marked reduced, a macro).
import subprocess, tempfile
sys.path.insert(0, "examples")
from svs_layout import join_ifds
with tempfile.TemporaryDirectory() as tmp:
    src = os.path.join(tmp, "src.tif")
    f.gtiff(src, f.mem_dataset(f.pattern(70, 50, 3, np.uint8, 21)))
    tiles = ["--tile", "--tile-width", "16", "--tile-height", "16", "--pyramid"]
    subprocess.run(["vips", "tiffsave", src, p("vips-pyramid-jpeg"), *tiles, "--compression", "jpeg", "--Q", "40"], check=True)
    subprocess.run(["vips", "tiffsave", src, p("vips-subifd-deflate"), *tiles, "--subifd", "--compression", "deflate"], check=True)
    parts = []
    for name, size, opts in (("l0", None, ["TILED=YES", "BLOCKXSIZE=16", "BLOCKYSIZE=16", "COMPRESS=JPEG", "QUALITY=40"]),
                             ("thumb", (35, 25), ["COMPRESS=JPEG"]), ("l1", (17, 12), ["TILED=YES", "BLOCKXSIZE=16", "BLOCKYSIZE=16", "COMPRESS=JPEG"]),
                             ("label", (12, 13), ["COMPRESS=LZW"]), ("macro", (30, 10), ["COMPRESS=JPEG"])):
        part = os.path.join(tmp, name + ".tif")
        gdal.Translate(part, src, creationOptions=opts, **({"width": size[0], "height": size[1], "resampleAlg": "average"} if size else {}))
        parts.append(part)
    join_ifds(p("aperio-svs-layout"), [(parts[0], {270: "Aperio Image Library v12.0.15\n70x50 JPEG/RGB Q=40"}), (parts[1], {}),
                                       (parts[2], {}), (parts[3], {254: 1}), (parts[4], {254: 9})])
