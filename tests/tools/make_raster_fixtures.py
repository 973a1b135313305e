#!/usr/bin/python3
"""Writes the COG reader's test rasters with GDAL, and what GDAL reads from them.

Usage: make_raster_fixtures.py OUTDIR

For each NAME.tif in OUTDIR:
  NAME.info.json          gdal.Info(format="json") of the file
  NAME.L{level}.b{band}.f64   GDAL's pixel values of that level (0 = full resolution,
                              then the overviews) as little-endian float64, row-major
  NAME.L{level}.mask.u8       GDAL's mask of band 1 at that level (0/255), row-major
and NAME.expect.json with what the C++ test should check beyond that (e.g. the CRS code).

Deterministic: fixed seeds, so the files are the same on every run.
Run by tests/unit/raster/cog_reader_test.cc with Debian's /usr/bin/python3.
"""
import json
import os
import sys

import numpy as np
from osgeo import gdal, osr

gdal.UseExceptions()


def pattern(width, height, bands, dtype, seed):
    """Smooth gradients plus noise: compressible, but not trivially."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    out = []
    for b in range(bands):
        base = (x * (b + 1) * 7 + y * (3 - b) * 5) % 251
        noise = rng.integers(0, 5, size=(height, width))
        out.append((base + noise).astype(np.float64))
    arr = np.stack(out)
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        arr = np.clip(arr * (1 if info.max < 1000 else 97), info.min, info.max)
    else:
        arr = arr * 0.37 - 20.0
    return arr.astype(dtype)


GDAL_TYPES = {
    np.uint8: gdal.GDT_Byte, np.uint16: gdal.GDT_UInt16, np.int16: gdal.GDT_Int16,
    np.uint32: gdal.GDT_UInt32, np.int32: gdal.GDT_Int32, np.float32: gdal.GDT_Float32,
    np.float64: gdal.GDT_Float64,
}


def mem_dataset(arr, epsg=4326, geotransform=(10.0, 0.001, 0, 50.0, 0, -0.001), nodata=None, srs=None):
    bands, height, width = arr.shape
    ds = gdal.GetDriverByName("MEM").Create("", width, height, bands, GDAL_TYPES[arr.dtype.type])
    ds.SetGeoTransform(geotransform)
    ref = osr.SpatialReference()
    if srs:
        ref.ImportFromProj4(srs)
    else:
        ref.ImportFromEPSG(epsg)
    ds.SetProjection(ref.ExportToWkt())
    for b in range(bands):
        band = ds.GetRasterBand(b + 1)
        band.WriteArray(arr[b])
        if nodata is not None:
            band.SetNoDataValue(nodata)
    return ds


def cog(out, src, **options):
    opts = [f"{k}={v}" for k, v in options.items()]
    gdal.Translate(out, src, format="COG", creationOptions=opts)


def gtiff(out, src, overviews=(), **options):
    opts = [f"{k}={v}" for k, v in options.items()]
    ds = gdal.Translate(out, src, format="GTiff", creationOptions=opts)
    if overviews:
        ds.BuildOverviews("NEAREST", list(overviews))
    ds = None


def dump(folder, name, expect):
    path = os.path.join(folder, name + ".tif")
    ds = gdal.Open(path)
    with open(os.path.join(folder, name + ".info.json"), "w") as f:
        json.dump(gdal.Info(ds, format="json"), f)
    levels = [[ds.GetRasterBand(b + 1) for b in range(ds.RasterCount)]]
    for o in range(ds.GetRasterBand(1).GetOverviewCount()):
        levels.append([ds.GetRasterBand(b + 1).GetOverview(o) for b in range(ds.RasterCount)])
    for level, bands in enumerate(levels):
        for b, band in enumerate(bands):
            band.ReadAsArray().astype("<f8").tofile(os.path.join(folder, f"{name}.L{level}.b{b + 1}.f64"))
        bands[0].GetMaskBand().ReadAsArray().astype(np.uint8).tofile(
            os.path.join(folder, f"{name}.L{level}.mask.u8"))
    with open(os.path.join(folder, name + ".expect.json"), "w") as f:
        json.dump(expect, f)


def main(folder):
    os.makedirs(folder, exist_ok=True)
    p = lambda name: os.path.join(folder, name + ".tif")  # noqa: E731
    made = {}

    rgb = pattern(600, 500, 3, np.uint8, 1)
    cog(p("rgb_jpeg"), mem_dataset(rgb), COMPRESS="JPEG", BLOCKSIZE=256, QUALITY=85)
    made["rgb_jpeg"] = {"epsg": 4326, "compression": "jpeg"}
    cog(p("rgb_deflate"), mem_dataset(rgb), COMPRESS="DEFLATE", BLOCKSIZE=256)
    made["rgb_deflate"] = {"epsg": 4326, "compression": "deflate"}
    cog(p("rgb_webp"), mem_dataset(rgb), COMPRESS="WEBP", BLOCKSIZE=256, QUALITY=100)
    made["rgb_webp"] = {"epsg": 4326, "compression": "webp"}

    # uint16 in UTM 33N with nodata 0, scale/offset and a band description.
    dem = pattern(700, 650, 1, np.uint16, 2)
    dem[0, 100:200, 50:300] = 0
    ds = mem_dataset(dem, epsg=32633, geotransform=(500000.0, 30.0, 0, 5600000.0, 0, -30.0), nodata=0)
    ds.GetRasterBand(1).SetScale(0.01)
    ds.GetRasterBand(1).SetOffset(-5.0)
    ds.GetRasterBand(1).SetDescription("elevation")
    cog(p("utm_u16_nodata"), ds, COMPRESS="DEFLATE", BLOCKSIZE=128, PREDICTOR="YES")
    made["utm_u16_nodata"] = {"epsg": 32633, "compression": "deflate"}

    # float32 with NaN (no nodata), predictor 3.
    f32 = pattern(300, 280, 1, np.float32, 3)
    f32[0, 10:40, 20:90] = np.nan
    cog(p("f32_nan"), mem_dataset(f32), COMPRESS="DEFLATE", BLOCKSIZE=128, PREDICTOR="YES")
    made["f32_nan"] = {"epsg": 4326, "compression": "deflate"}

    # RGB with an internal (per-dataset) mask from a fourth band.
    rgba = pattern(520, 400, 4, np.uint8, 4)
    rgba[3] = 255
    rgba[3, 50:150, 100:400] = 0
    rgba[3, 300:, :60] = 0
    tmp = mem_dataset(rgba)
    gdal.Translate(p("rgb_mask"), tmp, format="COG", bandList=[1, 2, 3], maskBand=4,
                   creationOptions=["COMPRESS=DEFLATE", "BLOCKSIZE=128"])
    made["rgb_mask"] = {"epsg": 4326, "compression": "deflate"}

    # Several overview levels, uneven sizes, LZW.
    big = pattern(1100, 900, 1, np.int16, 5)
    cog(p("overviews_lzw"), mem_dataset(big, epsg=3857, geotransform=(1e6, 10.0, 0, 6e6, 0, -10.0)),
        COMPRESS="LZW", BLOCKSIZE=128, PREDICTOR="YES", OVERVIEW_RESAMPLING="AVERAGE")
    made["overviews_lzw"] = {"epsg": 3857, "compression": "lzw"}

    # Incompressible and uncompressed: block rows lie 448 KiB apart in the file.
    noise = np.random.default_rng(17).integers(0, 256, size=(1, 512, 2048)).astype(np.uint8)
    cog(p("noise_none"), mem_dataset(noise), COMPRESS="NONE", BLOCKSIZE=256, OVERVIEWS="NONE")
    made["noise_none"] = {"epsg": 4326, "compression": "none"}

    # GTiff layouts (not COGs).
    i16 = pattern(333, 222, 2, np.int16, 6)
    gtiff(p("lzw_pred2"), mem_dataset(i16), TILED="YES", BLOCKXSIZE=64, BLOCKYSIZE=64, COMPRESS="LZW", PREDICTOR=2)
    made["lzw_pred2"] = {"epsg": 4326, "compression": "lzw"}
    f64 = pattern(150, 170, 1, np.float64, 7)
    gtiff(p("f64_pred3"), mem_dataset(f64), TILED="YES", BLOCKXSIZE=32, BLOCKYSIZE=32, COMPRESS="DEFLATE",
          PREDICTOR=3)
    made["f64_pred3"] = {"epsg": 4326, "compression": "deflate"}
    strips = pattern(301, 203, 3, np.uint8, 8)
    gtiff(p("stripped"), mem_dataset(strips), TILED="NO", BLOCKYSIZE=7, COMPRESS="NONE")
    made["stripped"] = {"epsg": 4326, "compression": "none"}
    gtiff(p("stripped_lzw_pred2"), mem_dataset(strips), TILED="NO", BLOCKYSIZE=16, COMPRESS="LZW", PREDICTOR=2)
    made["stripped_lzw_pred2"] = {"epsg": 4326, "compression": "lzw"}
    # One uncompressed strip: libtiff (and GDAL) read it as strips of a few rows.
    gtiff(p("single_strip"), mem_dataset(pattern(97, 300, 3, np.uint8, 18)), TILED="NO", BLOCKYSIZE=300)
    made["single_strip"] = {"epsg": 4326, "compression": "none"}
    i32 = pattern(260, 190, 1, np.int32, 9)
    gtiff(p("bigtiff"), mem_dataset(i32), overviews=(2, 4), BIGTIFF="YES", TILED="YES", COMPRESS="ZSTD")
    made["bigtiff"] = {"epsg": 4326, "compression": "zstd"}
    sep = pattern(290, 310, 3, np.uint16, 10)
    gtiff(p("separate"), mem_dataset(sep), overviews=(2,), TILED="YES", BLOCKXSIZE=128, BLOCKYSIZE=128,
          INTERLEAVE="BAND", COMPRESS="DEFLATE")
    made["separate"] = {"epsg": 4326, "compression": "deflate"}
    be = pattern(200, 150, 2, np.uint16, 11)
    gtiff(p("big_endian"), mem_dataset(be), TILED="YES", COMPRESS="DEFLATE", PREDICTOR=2, ENDIANNESS="BIG")
    made["big_endian"] = {"epsg": 4326, "compression": "deflate"}
    u32 = pattern(100, 90, 1, np.uint32, 12)
    gtiff(p("u32_none"), mem_dataset(u32), TILED="YES", BLOCKXSIZE=32, BLOCKYSIZE=32)
    made["u32_none"] = {"epsg": 4326, "compression": "none"}

    # RGBA whose fourth band is alpha (ExtraSamples): alpha 0 is invalid.
    gtiff(p("rgba_alpha"), mem_dataset(rgba), TILED="YES", ALPHA="YES", COMPRESS="DEFLATE", PHOTOMETRIC="RGB")
    made["rgba_alpha"] = {"epsg": 4326, "compression": "deflate", "alpha_band": 4}

    # A GTiff (not COG) internal mask with mask overviews.
    gdal.SetConfigOption("GDAL_TIFF_INTERNAL_MASK", "YES")
    tmp_ds = gdal.Translate(p("gtiff_mask"), mem_dataset(rgba), format="GTiff", bandList=[1, 2, 3], maskBand=4,
                            creationOptions=["TILED=YES", "COMPRESS=DEFLATE", "BLOCKXSIZE=64", "BLOCKYSIZE=64"])
    tmp_ds.BuildOverviews("NEAREST", [2])
    tmp_ds = None
    made["gtiff_mask"] = {"epsg": 4326, "compression": "deflate"}

    # Sparse: empty tiles are not written; with nodata they read as nodata.
    sparse = pattern(256, 256, 1, np.uint8, 13)
    sparse[0, :128, :] = 9
    sds = mem_dataset(sparse, nodata=9)
    gtiff(p("sparse"), sds, TILED="YES", BLOCKXSIZE=64, BLOCKYSIZE=64, SPARSE_OK="TRUE", COMPRESS="DEFLATE")
    made["sparse"] = {"epsg": 4326, "compression": "deflate"}

    # PixelIsPoint: GDAL moves the origin by half a pixel.
    pt = mem_dataset(pattern(64, 64, 1, np.uint8, 14), epsg=32633,
                     geotransform=(400000.0, 10.0, 0, 5000000.0, 0, -10.0))
    pt.SetMetadataItem("AREA_OR_POINT", "Point")
    gtiff(p("pixel_is_point"), pt, TILED="YES")
    made["pixel_is_point"] = {"epsg": 32633, "compression": "none"}

    # A CRS without an EPSG code: the reader gives a PROJ definition instead.
    custom = mem_dataset(pattern(64, 64, 1, np.uint8, 15), srs="+proj=laea +lat_0=45 +lon_0=-100 +x_0=0 +y_0=0 "
                         "+a=6370997 +b=6370997 +units=m +no_defs", geotransform=(-1e5, 100.0, 0, 1e5, 0, -100.0))
    gtiff(p("custom_crs"), custom, TILED="YES")
    made["custom_crs"] = {"epsg": 0, "proj_contains": "+proj=laea", "compression": "none"}

    # 1-bit data (NBITS=1) in strips.
    bits = (pattern(77, 41, 1, np.uint8, 16) % 2).astype(np.uint8)
    gtiff(p("one_bit"), mem_dataset(bits), NBITS=1, COMPRESS="PACKBITS")
    made["one_bit"] = {"epsg": 4326, "compression": "packbits"}

    for name, expect in made.items():
        dump(folder, name, expect)
    with open(os.path.join(folder, "index.json"), "w") as f:
        json.dump(sorted(made), f)


if __name__ == "__main__":
    main(sys.argv[1])
