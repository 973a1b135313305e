#!/usr/bin/python3
"""The one step of `ndvi`: for every input GeoTIFF, NDVI = (nir - red) / (nir + red) per pixel,
written as Cloud-Optimized GeoTIFFs the map viewer opens through run=RUN_ID&path=REL:

  <stem>_ndvi.tif     float32, NaN where the input has nodata (or nir + red is 0)
  <stem>_classes.tif  uint8 land cover from NDVI: 1 water (< 0), 2 built-up or bare soil
                      (< 0.2), 3 sparse vegetation (< 0.5), 4 dense vegetation; 0 = nodata
  summary.json        per input: valid pixels, NDVI mean/min/max, share of each class

Params (stdin conf): red_band, nir_band (1-based band indices).
"""
import json
import os
import sys

import numpy as np
from osgeo import gdal

gdal.UseExceptions()

CLASSES = {1: "water", 2: "built-up or bare", 3: "sparse vegetation", 4: "dense vegetation"}
COG_OPTIONS = ["COMPRESS=DEFLATE", "PREDICTOR=YES", "BLOCKSIZE=512", "OVERVIEWS=AUTO"]


def read_band(ds, index):
    band = ds.GetRasterBand(index)
    data = band.ReadAsArray().astype(np.float64)
    nodata = band.GetNoDataValue()
    valid = np.isfinite(data) if nodata is None else (data != nodata) & np.isfinite(data)
    return data, valid


def write_cog(path, like, array, gdal_type, nodata, description, resampling):
    mem = gdal.GetDriverByName("MEM").Create("", like.RasterXSize, like.RasterYSize, 1, gdal_type)
    mem.SetGeoTransform(like.GetGeoTransform())
    mem.SetProjection(like.GetProjection())
    band = mem.GetRasterBand(1)
    band.WriteArray(array)
    band.SetNoDataValue(nodata)
    band.SetDescription(description)
    gdal.Translate(path, mem, format="COG", creationOptions=COG_OPTIONS + [f"RESAMPLING={resampling}"])


def process(src, out_stem, red_band, nir_band):
    ds = gdal.Open(src)
    if ds.RasterCount < max(red_band, nir_band):
        raise SystemExit(f"ndvi: {os.path.basename(src)} has {ds.RasterCount} bands, "
                         f"red_band={red_band} nir_band={nir_band} asked")
    red, red_ok = read_band(ds, red_band)
    nir, nir_ok = read_band(ds, nir_band)
    total = nir + red
    valid = red_ok & nir_ok & (total != 0)
    ndvi = np.full(red.shape, np.nan, dtype=np.float32)
    ndvi[valid] = ((nir - red)[valid] / total[valid]).astype(np.float32)

    classes = np.zeros(red.shape, dtype=np.uint8)
    classes[valid] = 1 + np.digitize(ndvi[valid], [0.0, 0.2, 0.5]).astype(np.uint8)

    write_cog(out_stem + "_ndvi.tif", ds, ndvi, gdal.GDT_Float32, float("nan"), "ndvi", "AVERAGE")
    write_cog(out_stem + "_classes.tif", ds, classes, gdal.GDT_Byte, 0, "land cover", "MODE")
    n = int(valid.sum())
    values = ndvi[valid]
    return {
        "valid_pixels": n,
        "ndvi": {"mean": float(values.mean()), "min": float(values.min()), "max": float(values.max())} if n else None,
        "classes": {name: round(float((classes == k).sum()) / n, 4) if n else 0.0 for k, name in CLASSES.items()},
    }


def main():
    conf = json.load(sys.stdin)
    red_band, nir_band = int(conf.get("red_band", 3)), int(conf.get("nir_band", 4))
    src_dir, out_dir = os.environ["SCIGATE_INPUT_DIR"], os.environ["SCIGATE_OUTPUT_DIR"]
    os.makedirs(out_dir, exist_ok=True)
    inputs = sorted(os.path.join(d, f) for d, _, files in os.walk(src_dir) for f in files
                    if f.lower().endswith((".tif", ".tiff")))
    if not inputs:
        sys.exit("ndvi: no GeoTIFF input files")
    summary = {}
    for src in inputs:
        rel = os.path.relpath(src, src_dir)
        # Outputs mirror the input's folder, so equal names in two folders do not collide.
        out_stem = os.path.join(out_dir, os.path.splitext(rel)[0])
        os.makedirs(os.path.dirname(out_stem), exist_ok=True)
        summary[rel] = process(src, out_stem, red_band, nir_band)
        print(f"ndvi: {rel} -> {os.path.relpath(out_stem, out_dir)}_ndvi.tif, _classes.tif")
    with open(os.path.join(out_dir, "summary.json"), "w") as f:
        json.dump({"red_band": red_band, "nir_band": nir_band, "files": summary}, f, indent=2)


if __name__ == "__main__":
    main()
