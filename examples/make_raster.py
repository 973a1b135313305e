#!/usr/bin/python3
"""Writes a synthetic 4-band "satellite" scene around Lincoln, Nebraska as a Cloud-Optimized
GeoTIFF: EPSG:32614 (UTM 14N), 10 m pixels, uint16 surface reflectance x 10000 in the bands
blue, green, red, near-infrared (Sentinel-2 B02, B03, B04, B08 order), nodata 0 outside the
imaged swath, DEFLATE, 512-px blocks, overviews.

Usage: make_raster.py OUT.tif [--size PIXELS]

What is drawn is what a late-summer scene of the place shows: one-mile section roads, quarter
sections of corn, soybeans, pasture and bare soil (many under center-pivot circles), the city
in the middle with its street grid and trees, a creek with riparian woods, two lakes. NDVI
therefore separates water, city, soil and crops the way a real scene does. Deterministic:
the same file on every run.
"""
import argparse
import math
import os
import sys

import numpy as np
from osgeo import gdal, osr

gdal.UseExceptions()

CENTER_LON, CENTER_LAT = -96.7026, 40.8136  # Lincoln, Nebraska
UTM_EPSG = 32614
PIXEL = 10.0  # metres
MILE = 1609.344
BANDS = ("blue", "green", "red", "nir")

# Reflectance x 10000 per band (blue, green, red, nir).
WATER = (620, 560, 330, 160)
CORN = (280, 620, 290, 4600)
SOY = (340, 720, 420, 3900)
SOIL = (880, 1180, 1480, 2050)
PASTURE = (560, 860, 930, 2600)
URBAN = (1050, 1150, 1250, 1550)
ROAD = (1250, 1350, 1450, 1650)
TREES = (240, 440, 250, 3400)


def smooth_noise(rng, shape, cell):
    """Value noise: random values on a coarse grid, bilinearly upsampled (numpy only)."""
    h, w = shape
    gh, gw = h // cell + 2, w // cell + 2
    grid = rng.standard_normal((gh, gw))
    y = np.arange(h) / cell
    x = np.arange(w) / cell
    y0, x0 = y.astype(int), x.astype(int)
    fy, fx = (y - y0)[:, None], (x - x0)[None, :]
    a = grid[y0][:, x0]
    b = grid[y0][:, x0 + 1]
    c = grid[y0 + 1][:, x0]
    d = grid[y0 + 1][:, x0 + 1]
    return (a * (1 - fx) + b * fx) * (1 - fy) + (c * (1 - fx) + d * fx) * fy


def paint(img, mask, material, scale=1.0):
    for b, v in enumerate(material):
        img[b][mask] = v * (scale[mask] if isinstance(scale, np.ndarray) else scale)


def scene(size, seed=7):
    rng = np.random.default_rng(seed)
    half = size * PIXEL / 2
    # Pixel centres in metres from the scene centre (x east, y north).
    coords = (np.arange(size) + 0.5) * PIXEL - half
    x, y = np.meshgrid(coords, -coords)
    # The survey grid follows true north, which in UTM 14N is turned by the grid convergence.
    gamma = math.atan(math.tan(math.radians(CENTER_LON + 99.0)) * math.sin(math.radians(CENTER_LAT)))
    u = x * math.cos(gamma) + y * math.sin(gamma)  # east along the section lines
    v = -x * math.sin(gamma) + y * math.cos(gamma)  # north along the section lines

    img = np.zeros((4, size, size), dtype=np.float64)
    vigour = 1.0 + 0.08 * smooth_noise(rng, (size, size), 40)

    # Quarter sections: a crop per quarter, most of them irrigated by a center pivot.
    quarter = MILE / 2
    qi, qj = np.floor(u / quarter).astype(int), np.floor(v / quarter).astype(int)
    qid = (qi + 1000) * 4096 + (qj + 1000)
    ids, inverse = np.unique(qid, return_inverse=True)
    inverse = inverse.reshape(qid.shape)
    crops = rng.choice(4, size=len(ids), p=[0.42, 0.33, 0.15, 0.10])  # corn, soy, pasture, soil
    pivots = rng.random(len(ids)) < 0.6
    crop = crops[inverse]
    cu = (qi + 0.5) * quarter
    cv = (qj + 0.5) * quarter
    in_pivot = pivots[inverse] & (np.hypot(u - cu, v - cv) < quarter * 0.48)
    for k, material in enumerate((CORN, SOY, PASTURE, SOIL)):
        paint(img, crop == k, material, vigour)
    # Pivot corners and dryland quarters: the crop stands thinner outside the circle.
    dry = pivots[inverse] & ~in_pivot & (crop < 2)
    paint(img, dry, PASTURE, vigour)
    # Wheel tracks of the pivots.
    ring = in_pivot & (np.abs(np.hypot(u - cu, v - cv) % 55 - 27) < 1.5)
    paint(img, ring & (crop < 2), SOIL, 0.9)

    # The city: streets every ~200 m, roofs and yards, trees along streets.
    r_city = np.hypot(x + 600, y - 300)
    city = r_city < 5200 + 600 * smooth_noise(rng, (size, size), 60)
    block = 190.0
    texture = smooth_noise(rng, (size, size), 3)
    trees = city & (texture > 0.7)
    paint(img, city, URBAN, 1.0 + 0.15 * texture)
    paint(img, trees, TREES, vigour)
    streets = city & ((np.abs((u % block) - block / 2) > block / 2 - 9) | (np.abs((v % block) - block / 2) > block / 2 - 9))
    paint(img, streets, ROAD)

    # Section-line roads, one mile apart.
    section_roads = (np.abs(((u + MILE / 2) % MILE) - MILE / 2) < 8) | (np.abs(((v + MILE / 2) % MILE) - MILE / 2) < 8)
    paint(img, section_roads, ROAD)

    # Salt Creek: a meandering line from the south-west to the north-east, with woods along it.
    t = (x + y) / math.sqrt(2)
    n = (y - x) / math.sqrt(2)
    meander = 700 * np.sin(t / 1800) + 250 * np.sin(t / 530 + 1.3)
    dist = np.abs(n - meander)
    paint(img, dist < 140, TREES, vigour)
    paint(img, dist < 18, WATER)

    # Two lakes east and north-west of town.
    for (lx, ly, rx, ry) in ((3800, -2600, 700, 420), (-6500, 5200, 1100, 600)):
        lake = ((x - lx) / rx) ** 2 + ((y - ly) / ry) ** 2 < 1 + 0.15 * smooth_noise(rng, (size, size), 20)
        paint(img, lake, WATER)

    # Sensor noise, then the edge of the swath (nodata) across the south-east corner.
    img += rng.normal(0, 4, img.shape)
    out = np.clip(np.rint(img), 1, 10000).astype(np.uint16)
    outside = (x - y) > half * 1.45
    out[:, outside] = 0
    return out


def write_cog(path, data):
    bands, h, w = data.shape
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(4326)
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    utm = osr.SpatialReference()
    utm.ImportFromEPSG(UTM_EPSG)
    utm.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    cx, cy, _ = osr.CoordinateTransformation(srs, utm).TransformPoint(CENTER_LON, CENTER_LAT)
    cx, cy = round(cx / PIXEL) * PIXEL, round(cy / PIXEL) * PIXEL
    mem = gdal.GetDriverByName("MEM").Create("", w, h, bands, gdal.GDT_UInt16)
    mem.SetGeoTransform((cx - w * PIXEL / 2, PIXEL, 0, cy + h * PIXEL / 2, 0, -PIXEL))
    mem.SetProjection(utm.ExportToWkt())
    mem.SetMetadata({"TITLE": "Synthetic late-summer scene, Lincoln NE", "SCALE": "reflectance x 10000"})
    for i, name in enumerate(BANDS):
        band = mem.GetRasterBand(i + 1)
        band.WriteArray(data[i])
        band.SetNoDataValue(0)
        band.SetDescription(name)
    tmp = path + ".part"
    gdal.Translate(tmp, mem, format="COG",
                   creationOptions=["COMPRESS=DEFLATE", "PREDICTOR=2", "BLOCKSIZE=512", "OVERVIEWS=AUTO",
                                    "RESAMPLING=AVERAGE"])
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out")
    ap.add_argument("--size", type=int, default=2048, help="width and height in pixels (10 m each)")
    args = ap.parse_args()
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    write_cog(args.out, scene(args.size))
    print(f"make_raster: wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
