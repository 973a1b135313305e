#!/usr/bin/python3
"""Builds the independent references for the warp tests (run by render_warp_gdal_test).

For a few small synthetic GeoTIFFs (made here with GDAL from numpy arrays) it writes, into
OUTDIR:
  - each raster's levels (full resolution and the file's overviews) as raw float64 planes
    plus a uint8 validity mask (GDAL's mask band), for the C++ MemoryRaster;
  - for each Web Mercator tile of a chosen list, `gdalwarp -t_srs EPSG:3857 -te ... -ts
    256 256 -r near|bilinear -dstalpha` of the same extent, as raw float64 planes + alpha;
  - gdalinfo -stats figures and gdallocationinfo values;
  - rasterio's calculate_default_transform resolution in EPSG:3857;
and a manifest.json describing all of it. Tile bounds are computed here from the Web
Mercator formulas, independently of scigate's tile matrix sets.

Usage: /usr/bin/python3 gdal_reference.py OUTDIR
"""

import json
import math
import os
import subprocess
import sys

import numpy
from osgeo import gdal, osr

gdal.UseExceptions()

HALF = 20037508.342789244
OUT = sys.argv[1]


def tile_bounds(z, x, y):
    size = 2 * HALF / (2**z)
    return [-HALF + x * size, HALF - (y + 1) * size, -HALF + (x + 1) * size, HALF - y * size]


def tile_of(lon, lat, z):
    n = 2**z
    x = int((lon + 180) / 360 * n)
    lat_r = math.radians(lat)
    y = int((1 - math.log(math.tan(lat_r) + 1 / math.cos(lat_r)) / math.pi) / 2 * n)
    return x, y


def write_tif(path, arrays, gt, epsg, dtype, nodata=None, mask=None, overviews=None):
    rows, cols = arrays[0].shape
    opts = ["TILED=YES", "BLOCKXSIZE=256", "BLOCKYSIZE=256"]
    ds = gdal.GetDriverByName("GTiff").Create(path, cols, rows, len(arrays), dtype, opts)
    ds.SetGeoTransform(gt)
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(epsg)
    ds.SetProjection(srs.ExportToWkt())
    for i, a in enumerate(arrays):
        band = ds.GetRasterBand(i + 1)
        if nodata is not None:
            band.SetNoDataValue(nodata)
        band.WriteArray(a)
    if mask is not None:
        ds.CreateMaskBand(gdal.GMF_PER_DATASET)
        ds.GetRasterBand(1).GetMaskBand().WriteArray(mask)
    if overviews:
        ds.BuildOverviews("NEAREST", overviews)
    ds = None


def dump_levels(name, path):
    ds = gdal.Open(path)
    b1 = ds.GetRasterBand(1)
    levels = []
    for k in range(-1, b1.GetOverviewCount()):
        bands = [ds.GetRasterBand(i + 1) if k < 0 else ds.GetRasterBand(i + 1).GetOverview(k)
                 for i in range(ds.RasterCount)]
        data = numpy.stack([b.ReadAsArray().astype("float64") for b in bands])
        mask = bands[0].GetMaskBand().ReadAsArray().astype("uint8")
        # GDAL's mask of a nodata band is 0 at nodata; the MemoryRaster derives that
        # itself, so the mask file only carries real (internal) masks.
        base = f"{name}_L{k + 1}"
        data.tofile(os.path.join(OUT, base + ".f64"))
        mask.tofile(os.path.join(OUT, base + ".mask"))
        levels.append({"width": bands[0].XSize, "height": bands[0].YSize, "data": base + ".f64",
                       "mask": base + ".mask"})
    return ds, levels


def warp_reference(name, src, z, x, y, method, et):
    b = tile_bounds(z, x, y)
    out = os.path.join(OUT, f"ref_{name}_{z}_{x}_{y}_{method}_{et}.tif")
    subprocess.run(["gdalwarp", "-q", "-overwrite", "-t_srs", "EPSG:3857", "-te", *map(repr, b), "-ts", "256",
                    "256", "-r", method, "-et", repr(et), "-dstalpha", "-of", "GTiff", src, out], check=True)
    ds = gdal.Open(out)
    n = ds.RasterCount
    data = numpy.stack([ds.GetRasterBand(i + 1).ReadAsArray().astype("float64") for i in range(n - 1)])
    alpha = ds.GetRasterBand(n).ReadAsArray().astype("uint8")
    base = f"ref_{name}_{z}_{x}_{y}_{method}_{et}"
    data.tofile(os.path.join(OUT, base + ".f64"))
    alpha.tofile(os.path.join(OUT, base + ".alpha"))
    return {"z": z, "x": x, "y": y, "bounds": b, "method": method, "max_error": et, "data": base + ".f64",
            "alpha": base + ".alpha"}


def stats_reference(path):
    info = json.loads(subprocess.run(["gdalinfo", "-stats", "-json", path], check=True, capture_output=True,
                                     text=True).stdout)
    out = []
    for band in info["bands"]:
        md = band["metadata"][""]
        out.append({k: float(md["STATISTICS_" + k.upper()]) for k in ("minimum", "maximum", "mean", "stddev")})
    for f in os.listdir(os.path.dirname(path)):  # gdalinfo -stats leaves a .aux.xml
        if f.endswith(".aux.xml"):
            os.remove(os.path.join(os.path.dirname(path), f))
    return out


def point_reference(path, lon, lat):
    res = subprocess.run(["gdallocationinfo", "-valonly", "-wgs84", path, repr(lon), repr(lat)], check=True,
                         capture_output=True, text=True).stdout.split()
    return {"lon": lon, "lat": lat, "values": [None if v.lower() == "nan" else float(v) for v in res]}


def natural_resolution(path):
    import rasterio
    from rasterio.warp import calculate_default_transform
    with rasterio.open(path) as src:
        t, _, _ = calculate_default_transform(src.crs, "EPSG:3857", src.width, src.height, *src.bounds)
        return t.a


def case(name, arrays, gt, epsg, dtype, tiles, nodata=None, mask=None, overviews=None, points=(), stats=False,
         exact_too=False):
    path = os.path.join(OUT, name + ".tif")
    write_tif(path, arrays, gt, epsg, dtype, nodata, mask, overviews)
    ds, levels = dump_levels(name, path)
    entry = {"name": name, "geotransform": list(gt), "epsg": epsg, "dtype": dtype_name(dtype), "nodata": nodata,
             "has_mask": mask is not None, "bands": len(arrays), "levels": levels, "tiles": [],
             "natural_resolution_3857": natural_resolution(path)}
    if nodata is not None and math.isnan(nodata):
        entry["nodata"] = "nan"
    # gdalwarp's default error threshold (0.125 px), and optionally exact transforms.
    for et in (0.125, 0.0) if exact_too else (0.125,):
        for (z, x, y, src) in tiles:
            for method in ("near", "bilinear"):
                entry["tiles"].append(warp_reference(name, src or path, z, x, y, method, et))
    if stats:
        entry["stats"] = stats_reference(path)
    entry["points"] = [point_reference(path, lon, lat) for lon, lat in points]
    return entry


def dtype_name(dtype):
    return {gdal.GDT_Byte: "uint8", gdal.GDT_UInt16: "uint16", gdal.GDT_Float32: "float32"}[dtype]


def around(lon, lat, z, radius=1):
    x, y = tile_of(lon, lat, z)
    return [(z, x + dx, y + dy, None) for dx in range(-radius, radius + 1) for dy in range(-radius, radius + 1)]


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = numpy.random.default_rng(42)
    cases = []

    # RGB uint8 in EPSG:4326: a sawtooth, a smooth wave and a checkerboard (sharp edges).
    yy, xx = numpy.mgrid[0:400, 0:600].astype("float64")
    rgb = [((xx * 7 + yy * 3) % 256), 128 + 100 * numpy.sin(xx / 15) * numpy.cos(yy / 11),
           ((xx // 20 + yy // 20) % 2) * 200 + 20]
    rgb = [numpy.round(a).astype("uint8") for a in rgb]
    gt = (10.0, 0.01, 0, 44.0, 0, -0.01)
    tiles = around(13, 42, 7) + around(13, 42, 8, 0) + around(13, 42, 6, 0)
    cases.append(case("rgb4326", rgb, gt, 4326, gdal.GDT_Byte, tiles, points=[(10.005, 43.995), (13.123, 41.987)],
                      stats=True))

    # uint16 in UTM 33N with nodata 0 (a disc of nodata and a nodata border).
    yy, xx = numpy.mgrid[0:500, 0:500].astype("float64")
    dem = 1000 + 800 * numpy.sin(xx / 40) * numpy.cos(yy / 57) + yy * 2 + rng.integers(0, 20, (500, 500))
    dem[(xx - 250) ** 2 + (yy - 200) ** 2 < 60 ** 2] = 0
    dem[:, :10] = 0
    dem = dem.astype("uint16")
    gt = (400000.0, 30.0, 0, 5000000.0, 0, -30.0)
    tiles = around(13.82, 45.07, 12) + around(13.82, 45.07, 13, 0) + around(13.82, 45.07, 11, 0)
    cases.append(case("utm16", [dem], gt, 32633, gdal.GDT_UInt16, tiles, nodata=0,
                      points=[(13.8, 45.07), (13.85, 45.02), (13.82, 45.115)], stats=True, exact_too=True))

    # float32 with NaN blocks, nodata NaN.
    yy, xx = numpy.mgrid[0:300, 0:300].astype("float64")
    f = (numpy.sin(xx / 9) * numpy.cos(yy / 13) * 50.5).astype("float32")
    f[100:140, 50:200] = numpy.nan
    f[rng.random((300, 300)) < 0.01] = numpy.nan
    gt = (-60.0, 0.02, 0, -4.0, 0, -0.02)
    tiles = around(-57, -7, 7) + around(-57, -7, 6, 0)
    cases.append(case("float_nan", [f], gt, 4326, gdal.GDT_Float32, tiles, nodata=float("nan"),
                      points=[(-59.5, -4.5), (-57.0, -7.0)], stats=True))

    # Crossing the antimeridian: longitudes 170..190. West of 180, gdalwarp renders from
    # the same data re-anchored at -190..10 (GDAL does not wrap), the reference for
    # scigate's wrap.
    yy, xx = numpy.mgrid[0:200, 0:400].astype("float64")
    am = ((xx * 3 + yy * 5) % 200 + 30).astype("uint8")
    gt = (170.0, 0.05, 0, 5.0, 0, -0.05)
    shifted = os.path.join(OUT, "antimeridian_shifted.tif")
    write_tif(shifted, [am], (-190.0, 0.05, 0, 5.0, 0, -0.05), 4326, gdal.GDT_Byte)
    tiles = [(5, 31, 15, None), (5, 31, 16, None), (5, 0, 15, shifted), (5, 0, 16, shifted),
             (6, 63, 31, None), (6, 0, 32, shifted)]
    cases.append(case("antimeridian", [am], gt, 4326, gdal.GDT_Byte, tiles))

    # Overviews: gdalwarp picks the level by resolution (-ovr AUTO); so must scigate.
    yy, xx = numpy.mgrid[0:2048, 0:2048].astype("float64")
    ov = (((xx // 3 + yy // 5) % 2) * 120 + (xx + yy) / 32).astype("uint8")
    gt = (5.0, 0.001, 0, 47.048, 0, -0.001)
    tiles = around(6.0, 46.0, 8, 0) + around(6.0, 46.0, 9, 0) + around(6.0, 46.0, 10, 0)
    cases.append(case("overviews", [ov], gt, 4326, gdal.GDT_Byte, tiles, overviews=[2, 4, 8]))

    # An internal mask.
    yy, xx = numpy.mgrid[0:300, 0:300].astype("float64")
    data = ((xx * 2 + yy) % 250).astype("uint8")
    mask = numpy.where(((xx // 30) + (yy // 30)) % 3 == 0, 0, 255).astype("uint8")
    gt = (20.0, 0.01, 0, 50.0, 0, -0.01)
    tiles = around(21.5, 48.5, 8, 0) + around(21.5, 48.5, 9, 0)
    cases.append(case("masked", [data], gt, 4326, gdal.GDT_Byte, tiles, mask=mask))

    with open(os.path.join(OUT, "manifest.json"), "w") as fp:
        json.dump({"cases": cases}, fp)


if __name__ == "__main__":
    gdal.SetConfigOption("GDAL_TIFF_INTERNAL_MASK", "YES")
    main()
