"""The /cog tiler through HTTP (issue 10), against the real binary (harness.py).

1. Correctness against an independent renderer: for GDAL-made COGs (RGB uint8 EPSG:4326,
   uint16 UTM with nodata, float32 with NaN, internal mask, overviews, one crossing the
   antimeridian) a few tiles per file as .npy, compared with gdalwarp (python3-gdal's
   gdal.Warp: -t_srs EPSG:3857 -te <tile bounds> -ts 256 256 -r near|bilinear);
   /cog/statistics against GDAL's exact statistics, /cog/point against gdallocationinfo.
   The library-level comparison (unit_raster_render) is finer; this proves the wiring.
2. Authorization: a collection's user vs an outsider (the same 404 as a missing key), own
   run outputs vs another user's, data_selection= and run= addressing, provider=.
3. Grants: tilejson.json URLs carry a grant that works without a token; tampered, expired
   or another file's grant is 403.
4. Formats and defaults, sizes, 404 outside the matrix or the data, 400 for bad options,
   4xx for a non-TIFF and a truncated key, and the server still alive afterwards.
5. /tileMatrixSets documents; HEAD on a tile.
"""
import io
import math
import os
import re
import struct
import subprocess
import sys
import time
import unittest
import urllib.parse

import numpy as np
import requests
from osgeo import gdal, osr

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools"))
import make_raster_fixtures as fx  # noqa: E402
from harness import Gateway, auth  # noqa: E402

gdal.UseExceptions()

MERCATOR_HALF = 20037508.342789244
# Stated tolerances (tiles of 256 x 256 = 65,536 pixels).
NEAREST_MAX_DIFFERENT = 0.01  # fraction of pixels valid in both whose values differ (edge rounding)
MASK_MAX_DIFFERENT = 0.01     # fraction of pixels valid in one and not the other (footprint edges)
BILINEAR_MAX_MEAN_DIFF = 0.5  # mean absolute difference over pixels valid in both, in data units


def tile_bounds(z, x, y):
    size = 2 * MERCATOR_HALF / 2 ** z
    return (-MERCATOR_HALF + x * size, MERCATOR_HALF - (y + 1) * size,
            -MERCATOR_HALF + (x + 1) * size, MERCATOR_HALF - y * size)


def tile_at(lon, lat, z):
    n = 2 ** z
    x = int((lon + 180.0) / 360.0 * n)
    lat_r = math.radians(lat)
    y = int((1.0 - math.asinh(math.tan(lat_r)) / math.pi) / 2.0 * n)
    return min(max(x, 0), n - 1), min(max(y, 0), n - 1)


def write_fixtures(folder):
    """The COGs of issue 10 item 5, each small; returns {name: path}."""
    os.makedirs(folder, exist_ok=True)
    p = lambda name: os.path.join(folder, name + ".tif")  # noqa: E731
    rgb = fx.pattern(600, 500, 3, np.uint8, 1)
    fx.cog(p("rgb"), fx.mem_dataset(rgb, geotransform=(10.0, 0.001, 0, 50.0, 0, -0.001)), COMPRESS="DEFLATE",
           BLOCKSIZE=256)
    dem = fx.pattern(700, 650, 1, np.uint16, 2)
    dem[0, 100:200, 50:300] = 0
    fx.cog(p("utm_u16"), fx.mem_dataset(dem, epsg=32633, geotransform=(500000.0, 30.0, 0, 5600000.0, 0, -30.0),
                                         nodata=0), COMPRESS="DEFLATE", BLOCKSIZE=256, PREDICTOR="YES")
    f32 = fx.pattern(300, 280, 1, np.float32, 3)
    f32[0, 10:40, 20:90] = np.nan
    fx.cog(p("f32_nan"), fx.mem_dataset(f32, geotransform=(10.0, 0.001, 0, 50.0, 0, -0.001)), COMPRESS="DEFLATE",
           BLOCKSIZE=128, PREDICTOR="YES")
    rgba = fx.pattern(520, 400, 4, np.uint8, 4)
    rgba[3] = 255
    rgba[3, 50:150, 100:400] = 0
    gdal.Translate(p("rgb_mask"), fx.mem_dataset(rgba, geotransform=(10.0, 0.001, 0, 50.0, 0, -0.001)),
                   format="COG", bandList=[1, 2, 3], maskBand=4, creationOptions=["COMPRESS=DEFLATE", "BLOCKSIZE=128"])
    big = fx.pattern(2200, 1800, 1, np.int16, 5)
    fx.cog(p("overviews"), fx.mem_dataset(big, epsg=3857, geotransform=(1e6, 10.0, 0, 6e6, 0, -10.0)),
           COMPRESS="LZW", BLOCKSIZE=256, PREDICTOR="YES", OVERVIEW_RESAMPLING="NEAREST")
    am = fx.pattern(400, 200, 1, np.uint8, 19)
    fx.cog(p("antimeridian"), fx.mem_dataset(am, geotransform=(170.0, 0.05, 0, 10.0, 0, -0.05)), COMPRESS="DEFLATE",
           BLOCKSIZE=256)
    # A paletted image (GDAL writes the color table as the TIFF ColorMap, 16-bit values).
    pal = fx.mem_dataset(fx.pattern(300, 280, 1, np.uint8, 7) % 16, geotransform=(10.0, 0.001, 0, 50.0, 0, -0.001))
    table = gdal.ColorTable()
    for i in range(16):
        table.SetColorEntry(i, (i * 16, 255 - i * 16, (i * 97) % 256, 255))
    pal.GetRasterBand(1).SetRasterColorTable(table)
    pal.GetRasterBand(1).SetRasterColorInterpretation(gdal.GCI_PaletteIndex)
    fx.cog(p("palette"), pal, COMPRESS="DEFLATE", BLOCKSIZE=256)
    with open(p("not_a_tiff"), "w") as f:
        f.write("this is a text file named .tif\n")
    with open(p("rgb"), "rb") as f:
        head = f.read(3000)
    with open(p("truncated"), "wb") as f:
        f.write(head)  # the IFDs, none of the blocks
    with open(p("truncated_header"), "wb") as f:
        f.write(head[:300])  # inside the first IFD
    return {n: p(n) for n in ("rgb", "utm_u16", "f32_nan", "rgb_mask", "overviews", "antimeridian", "palette")}


def gdal_tile(path, z, x, y, resampling, shift_lon=0.0, size=256):
    """gdalwarp's rendering of the tile: bands then the alpha of the destination."""
    src = gdal.Open(path)
    if shift_lon:
        gt = list(src.GetGeoTransform())
        gt[0] += shift_lon
        src = gdal.Translate("", src, format="MEM")
        src.SetGeoTransform(gt)
    # SRC_FILL_RATIO_HEURISTICS=NO: by default gdalwarp cuts a tile whose source window is
    # less than half on the raster into chunks and warps each with its own scale, so one
    # tile mixes downsampling kernels of different widths (bilinear at a raster's edge
    # differed by 3.2 on uint8, 531 on uint16). Told not to, it warps the tile in one piece
    # with the kernel its scale implies, which is what scigate does. Nearest is the same
    # either way.
    ds = gdal.Warp("", src, format="MEM", dstSRS="EPSG:3857", outputBounds=tile_bounds(z, x, y), width=size,
                   height=size, resampleAlg=resampling, dstAlpha=True, multithread=False,
                   warpOptions=["SRC_FILL_RATIO_HEURISTICS=NO"])
    arr = ds.ReadAsArray().astype(np.float64)
    if arr.ndim == 2:
        arr = arr[np.newaxis]
    # GDAL warps NaN as a value (its alpha says valid); scigate, as rio-tiler, masks it.
    return arr[:-1], (arr[-1] > 0) & ~np.isnan(arr[:-1]).any(axis=0)


def write_odd_units(path):
    """A GeoTIFF in a user-defined geographic CRS whose angular unit is a code EPSG does not
    have (GDAL writes degree, 9102; the GeoKey is patched to 9190 in place)."""
    srs = osr.SpatialReference()
    srs.ImportFromProj4("+proj=longlat +a=6000000 +b=6000000 +no_defs")
    ds = gdal.GetDriverByName("GTiff").Create(path, 64, 64, 1, gdal.GDT_Byte)
    ds.SetGeoTransform([10, 0.01, 0, 50, 0, -0.01])
    ds.SetProjection(srs.ExportToWkt())
    ds.GetRasterBand(1).WriteArray(np.arange(64 * 64, dtype=np.uint8).reshape(64, 64))
    ds = None
    with open(path, "rb") as f:
        data = bytearray(f.read())
    key = struct.pack("<4H", 2054, 0, 1, 9102)  # GeogAngularUnitsGeoKey, in the directory, 1 value
    at = data.find(key)
    assert at > 0, "GDAL wrote no angular unit key"
    data[at:at + 8] = struct.pack("<4H", 2054, 0, 1, 9190)
    with open(path, "wb") as f:
        f.write(data)


def gdal_png(data):
    """The bands of a PNG as one (bands, height, width) array, decoded by GDAL."""
    path = f"/vsimem/{time.monotonic_ns()}.png"
    gdal.FileFromMemBuffer(path, data)
    try:
        return gdal.Open(path).ReadAsArray()
    finally:
        gdal.Unlink(path)


class TilesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.gw = Gateway(
            collections="""
collections:
  nebraska_images:
    bucket: edrn-bucket
    prefix: nebraska_images/
    workflows:
      nebraska: {authorized_users: [thomas, dliu]}
      make_cog: {authorized_users: [thomas, dliu]}
  maps:
    description: GDAL-made COGs
    bucket: edrn-bucket
    prefix: maps/
    provider: local
    workflows:
      nebraska: {authorized_users: [thomas]}
""",
            extra_workflows=None,
            workflows=None)
        gw = cls.gw
        maps = os.path.join(gw.dir, "buckets", "edrn-bucket", "maps")
        cls.files = write_fixtures(maps)
        # A workflow whose step writes a COG output; public_url and a short grant TTL.
        with open(gw.config) as f:
            config = f.read()
        config = config.replace("  read_timeout: 3s\n", f'  read_timeout: 3s\n  public_url: "{gw.base}"\n', 1)
        config += "raster: {grant_ttl: 3s, max_image_pixels: 1000000}\n"
        config = config.replace("\nworkflows:\n", "\nworkflows:\n  make_cog:\n    description: Writes a COG\n"
                                f"    steps:\n      - {{id: write, command: [bash, -c, 'cp {cls.files['rgb']} "
                                "\"$SCIGATE_OUTPUT_DIR/out.tif\"']}\n", 1)
        with open(gw.config, "w") as f:
            f.write(config)
        gw.start()
        cls.runs = {}
        for user in ("thomas", "dliu"):
            run = gw.start_run("make_cog", "nebraska_images", user=user)
            done = gw.wait_run(run["run_id"], user=user)
            assert done["status"] == "success", done
            cls.runs[user] = run["run_id"]

    @classmethod
    def tearDownClass(cls):
        cls.gw.cleanup()

    # helpers
    def url_of(self, name):
        return f"s3://edrn-bucket/maps/{name}.tif"

    def get(self, path, params=None, user="thomas", **kw):
        q = ("?" + urllib.parse.urlencode(params, doseq=True)) if params else ""
        return self.gw.get(path + q, user=user, **kw)

    def tile(self, name, z, x, y, ext=".npy", user="thomas", **params):
        return self.get(f"/cog/tiles/WebMercatorQuad/{z}/{x}/{y}{ext}", {"url": self.url_of(name), **params}, user=user)

    def tilejson(self, name, user="thomas", **params):
        r = self.get("/cog/WebMercatorQuad/tilejson.json", {"url": self.url_of(name), **params}, user=user)
        self.assertEqual(r.status_code, 200, r.text)
        return r.json()

    def npy(self, r):
        self.assertEqual(r.status_code, 200, r.text)
        arr = np.load(io.BytesIO(r.content))
        return arr[:-1].astype(np.float64), arr[-1] > 0

    def assert_error(self, r, status):
        self.assertEqual(r.status_code, status, r.text)
        self.assertIn("error", r.json())

    # 1. correctness
    def compare(self, name, z, x, y, resampling="nearest", shift_lon=0.0, bidx=None):
        params = {"resampling": resampling, "reproject": resampling}
        if bidx:
            params["bidx"] = bidx
        ours, our_mask = self.npy(self.tile(name, z, x, y, **params))
        theirs, their_mask = gdal_tile(self.files[name], z, x, y, "near" if resampling == "nearest" else resampling,
                                       shift_lon)
        if bidx:
            theirs = theirs[[b - 1 for b in bidx]]
        self.assertEqual(ours.shape, theirs.shape)
        label = f"{name} {z}/{x}/{y} {resampling}"
        self.assertGreater(our_mask.sum(), 0, label + ": an empty tile proves nothing")
        self.assertLessEqual((our_mask != their_mask).mean(), MASK_MAX_DIFFERENT, label)
        both = our_mask & their_mask
        if resampling == "nearest":
            diff = (np.abs(ours - theirs) > 1e-6)[:, both]
            self.assertLessEqual(diff.any(axis=0).mean(), NEAREST_MAX_DIFFERENT, label)
        else:
            self.assertLessEqual(np.abs(ours - theirs)[:, both].mean(), BILINEAR_MAX_MEAN_DIFF, label)

    def tiles_of(self, name, zooms_below_max=(0, 2)):
        tj = self.tilejson(name)
        lon, lat = tj["center"][0], tj["center"][1]
        for dz in zooms_below_max:
            z = tj["maxzoom"] - dz
            yield (z, *tile_at(lon, lat, z))

    def test_tiles_match_gdalwarp(self):
        """Nearest at maxzoom and two zooms below (an overview is read), bilinear at maxzoom."""
        for name in ("rgb", "utm_u16", "f32_nan", "rgb_mask", "overviews"):
            for z, x, y in self.tiles_of(name):
                with self.subTest(name=name, z=z, x=x, y=y):
                    self.compare(name, z, x, y, "nearest")
            for z, x, y in self.tiles_of(name, (0,)):
                with self.subTest(name=name, z=z, x=x, y=y):
                    self.compare(name, z, x, y, "bilinear")

    def test_bilinear_below_maxzoom_matches_gdalwarp(self):
        """Two zooms below maxzoom both pick the same overview and downsample it with a
        widened kernel; these tiles sit on the raster's edge (see gdal_tile on gdalwarp's
        chunking there)."""
        for name in ("rgb", "f32_nan"):
            for z, x, y in self.tiles_of(name, (2,)):
                self.compare(name, z, x, y, "bilinear")

    @unittest.expectedFailure
    def test_bilinear_below_maxzoom_with_nodata_matches_gdalwarp(self):
        """Known difference: the same on a uint16 raster with nodata inside the window:
        mean |diff| 4.2 on utm_u16 10/555/345 against gdalwarp in one piece (GDAL's masked
        kernel weighs valid neighbours differently when downsampling)."""
        for z, x, y in self.tiles_of("utm_u16", (2,)):
            self.compare("utm_u16", z, x, y, "bilinear")

    def test_antimeridian_tiles_on_both_sides(self):
        z = 6
        east = tile_at(175.0, 5.0, z)
        self.compare("antimeridian", z, *east)
        # West of 180°: gdalwarp of the same raster moved by -360° (so no wrap is needed).
        west = tile_at(-175.0, 5.0, z)
        self.compare("antimeridian", z, *west, shift_lon=-360.0)

    def test_statistics_match_gdal(self):
        for name in ("rgb", "utm_u16", "f32_nan"):
            r = self.get("/cog/statistics", {"url": self.url_of(name)})
            self.assertEqual(r.status_code, 200, r.text)
            stats = r.json()
            ds = gdal.Open(self.files[name])
            for b in range(1, ds.RasterCount + 1):
                mn, mx, mean, std = ds.GetRasterBand(b).ComputeStatistics(False)
                ours = stats[f"b{b}"]
                with self.subTest(name=name, band=b):
                    self.assertAlmostEqual(ours["min"], mn, places=4)
                    self.assertAlmostEqual(ours["max"], mx, places=4)
                    self.assertAlmostEqual(ours["mean"], mean, delta=abs(mean) * 1e-6 + 1e-6)
                    self.assertAlmostEqual(ours["std"], std, delta=abs(std) * 1e-6 + 1e-6)

    def test_point_matches_gdallocationinfo(self):
        for name, col, row in (("rgb", 123.4, 77.7), ("utm_u16", 400.5, 320.2), ("f32_nan", 150.3, 20.6),
                               ("utm_u16", 60.5, 150.5)):
            ds = gdal.Open(self.files[name])
            gt = ds.GetGeoTransform()
            wgs84 = osr.SpatialReference()
            wgs84.ImportFromEPSG(4326)
            wgs84.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
            to_wgs84 = osr.CoordinateTransformation(ds.GetSpatialRef(), wgs84)
            lon, lat, _ = to_wgs84.TransformPoint(gt[0] + col * gt[1], gt[3] + row * gt[5])
            out = subprocess.run(["gdallocationinfo", "-valonly", "-wgs84", self.files[name], str(lon), str(lat)],
                                 check=True, capture_output=True, text=True).stdout.split()
            r = self.get(f"/cog/point/{lon},{lat}", {"url": self.url_of(name)})
            self.assertEqual(r.status_code, 200, r.text)
            values = r.json()["values"]
            self.assertEqual(len(values), len(out), r.text)
            nodata = ds.GetRasterBand(1).GetNoDataValue()
            for ours, theirs in zip(values, out):
                if nodata is not None and float(theirs) == nodata:
                    self.assertIsNone(ours, f"{name} {r.text}")  # masked, as rio-tiler
                else:
                    self.assertAlmostEqual(float(ours), float(theirs), places=4, msg=f"{name} {r.text}")
        outside = self.get("/cog/point/-120.0,10.0", {"url": self.url_of("rgb")})
        self.assert_error(outside, 404)

    # 2. authorization
    def test_outsider_gets_the_same_404_as_a_missing_key(self):
        z, x, y = next(self.tiles_of("rgb", (0,)))
        self.assertEqual(self.tile("rgb", z, x, y, ext=".png").status_code, 200)
        outsider = self.tile("rgb", z, x, y, ext=".png", user="dliu")
        missing = self.tile("no_such_file", z, x, y, ext=".png")
        self.assert_error(outsider, 404)
        self.assert_error(missing, 404)
        strip = lambda r: re.sub(r'"request_id":\s*"[^"]*"', "", r.text)  # noqa: E731
        self.assertEqual(strip(outsider), strip(missing).replace("no_such_file", "rgb"))
        for path in ("/cog/info", "/cog/statistics", "/cog/WebMercatorQuad/tilejson.json"):
            self.assert_error(self.get(path, {"url": self.url_of("rgb")}, user="dliu"), 404)
        # No token, no grant: 401.
        self.assertEqual(self.get("/cog/info", {"url": self.url_of("rgb")}, user=None).status_code, 401)

    def test_data_selection_and_provider_addressing(self):
        r = self.get("/cog/info", {"data_selection": "maps", "path": "rgb.tif"})
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(r.json()["width"], 600)
        self.assert_error(self.get("/cog/info", {"data_selection": "maps", "path": "rgb.tif"}, user="dliu"), 404)
        escape = self.get("/cog/info", {"data_selection": "maps", "path": "../nebraska_images/image_0.png"})
        self.assertIn(escape.status_code, (400, 404), escape.text)
        self.assertEqual(self.get("/cog/info", {"url": self.url_of("rgb"), "provider": "local"}).status_code, 200)
        # A local provider's file by its path under the provider's root.
        by_path = self.get("/cog/info", {"url": self.files["rgb"]})
        self.assertEqual(by_path.status_code, 200, by_path.text)
        self.assert_error(self.get("/cog/info", {"url": self.files["rgb"]}, user="dliu"), 404)
        disagree = self.get("/cog/info", {"url": self.url_of("rgb"), "provider": "nosuch"})
        self.assertIn(disagree.status_code, (400, 404), disagree.text)

    def test_run_outputs_are_their_owners(self):
        mine, theirs = self.runs["thomas"], self.runs["dliu"]
        r = self.get("/cog/info", {"run": mine, "path": "out.tif"})
        self.assertEqual(r.status_code, 200, r.text)
        self.assert_error(self.get("/cog/info", {"run": theirs, "path": "out.tif"}), 404)
        self.assertEqual(self.get("/cog/info", {"run": theirs, "path": "out.tif"}, user="dliu").status_code, 200)
        self.assert_error(self.get("/cog/info", {"run": mine, "path": "missing.tif"}), 404)
        # The same object by url=: its owner only.
        listing = self.gw.get(f"/runs/{mine}").json()
        self.assertIn("output_url", listing)

    # 3. grants
    def test_tilejson_grant_opens_tiles_without_a_token(self):
        tj = self.tilejson("rgb")
        self.assertEqual(tj["tilejson"], "3.0.0")
        template = tj["tiles"][0]
        self.assertTrue(template.startswith(self.gw.base + "/cog/tiles/WebMercatorQuad/{z}/{x}/{y}"), template)
        self.assertIn("grant=", template)
        self.assertIn("tilesize=512", template)
        z, x, y = next(self.tiles_of("rgb", (0,)))
        url = template.replace("{z}", str(z)).replace("{x}", str(x)).replace("{y}", str(y))
        r = requests.get(url, timeout=10)
        self.assertEqual(r.status_code, 200, r.text)
        grant = urllib.parse.parse_qs(urllib.parse.urlparse(url).query)["grant"][0]
        # Tampered: a character in the middle of the signature, or a later expiry.
        expiry, signature = grant.split(".", 1)
        mid = len(signature) // 2
        flipped = signature[:mid] + ("A" if signature[mid] != "A" else "B") + signature[mid + 1:]
        for bad in (f"{expiry}.{flipped}", f"{int(expiry) + 3600}.{signature}", signature, ""):
            with self.subTest(grant=bad):
                self.assert_error(requests.get(url.replace(grant, bad), timeout=10), 403)
        # Another file with this file's grant.
        self.assert_error(requests.get(url.replace("maps%2Frgb.tif", "maps%2Futm_u16.tif")
                                       .replace("maps/rgb.tif", "maps/utm_u16.tif"), timeout=10), 403)
        # Expired (raster.grant_ttl is 3 s in this config).
        time.sleep(4)
        self.assert_error(requests.get(url, timeout=10), 403)

    # 4. formats and defaults
    def test_formats_and_sizes(self):
        # Two zooms past maxzoom the centre tile lies well inside the raster: nothing masked.
        z, x, y = next(self.tiles_of("rgb", (-2,)))
        r = self.tile("rgb", z, x, y, ext="")
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(r.headers["Content-Type"], "image/jpeg")
        # The tile of the raster's north-west corner holds pixels outside it: masked.
        tj = self.tilejson("utm_u16")
        zm = tj["maxzoom"]
        xm, ym = tile_at(tj["bounds"][0] + 1e-6, tj["bounds"][3] - 1e-6, zm)
        masked = self.tile("utm_u16", zm, xm, ym, ext="", rescale="0,65535")
        self.assertEqual(masked.status_code, 200, masked.text)
        self.assertEqual(masked.headers.get("Content-Type"), "image/png", masked.text)
        for ext, media in ((".png", "image/png"), (".jpg", "image/jpeg"), (".webp", "image/webp"),
                           (".tif", "image/tiff; application=geotiff"), (".npy", "application/x-binary")):
            with self.subTest(ext=ext):
                r = self.tile("rgb", z, x, y, ext=ext)
                self.assertEqual(r.status_code, 200, r.text)
                self.assertEqual(r.headers["Content-Type"], media)
        self.assertEqual(self.npy(self.tile("rgb", z, x, y))[0].shape, (3, 256, 256))
        self.assertEqual(self.npy(self.tile("rgb", z, x, f"{y}@2x"))[0].shape, (3, 512, 512))
        self.assertEqual(self.npy(self.tile("rgb", z, x, y, tilesize=512))[0].shape, (3, 512, 512))

    def test_client_errors(self):
        z, x, y = next(self.tiles_of("rgb", (0,)))
        self.assert_error(self.tile("rgb", 31, 0, 0, ext=".png"), 404)  # outside the matrix set
        self.assert_error(self.tile("rgb", z, x + 2 ** (z - 1), y, ext=".png"), 404)  # outside the data
        self.assert_error(self.tile("rgb", z, x, y, ext=".png", colormap_name="nosuchmap", bidx=1), 400)
        self.assert_error(self.tile("rgb", z, x, y, ext=".png", bidx=9), 400)
        self.assert_error(self.tile("rgb", z, x, y, ext=".png", expression="b1+"), 400)
        self.assert_error(self.tile("rgb", z, x, y, ext=".bmp"), 400)
        big = self.get("/cog/bbox/10.0,49.5,10.6,50.0/2000x2000.png", {"url": self.url_of("rgb")})
        self.assert_error(big, 400)
        for name, path in (("not_a_tiff", "/cog/info"), ("truncated_header", "/cog/info"),
                           ("not_a_tiff", f"/cog/tiles/WebMercatorQuad/{z}/{x}/{y}.png"),
                           ("truncated", f"/cog/tiles/WebMercatorQuad/{z}/{x}/{y}.png")):
            with self.subTest(name=name, path=path):
                r = self.get(path, {"url": self.url_of(name)})
                self.assertTrue(400 <= r.status_code < 500, f"{r.status_code} {r.text}")
        # GeoKeys with a unit code PROJ does not know (a fuzzer's find): nothing printed by
        # PROJ on the server's stderr.
        write_odd_units(os.path.join(self.gw.dir, "buckets", "edrn-bucket", "maps", "odd_units.tif"))
        r = self.get("/cog/info", {"url": self.url_of("odd_units")})
        self.assertTrue(r.status_code == 200 or 400 <= r.status_code < 500, f"{r.status_code} {r.text}")
        with open(self.gw.stderr_path, errors="replace") as f:
            self.assertNotIn("not found", f.read())
        self.assertEqual(self.gw.get("/healthz", user=None).status_code, 200)
        self.assertIsNone(self.gw.proc.poll())

    def test_palette_colors_tiles_as_titiler(self):
        info = self.get("/cog/info", {"url": self.url_of("palette")}).json()
        self.assertEqual(info["colorinterp"], ["palette"])
        palette = [tuple(info["colormap"][str(i)]) for i in range(256)]
        self.assertEqual(palette[5], (80, 175, 229, 255))  # as GDAL's color table says
        z, x, y = next(self.tiles_of("palette", (0,)))
        r = self.tile("palette", z, x, y, ext=".png")
        self.assertEqual(r.status_code, 200, r.text)
        rgba = gdal_png(r.content)
        self.assertEqual(rgba.shape[0], 4)
        # gdalwarp's values of the same tile through the palette (nearest: as close as the
        # other nearest comparisons, edge rounding aside).
        values, their_mask = gdal_tile(self.files["palette"], z, x, y, "near")
        expected = np.array(palette, dtype=np.uint8)[values[0].astype(np.uint8)]  # (h, w, 4)
        both = their_mask & (rgba[3] > 0)
        self.assertGreater(both.sum(), 0)
        differ = np.zeros_like(both)
        for band in range(3):
            differ |= rgba[band] != expected[..., band]
        self.assertLessEqual(differ[both].mean(), NEAREST_MAX_DIFFERENT)
        # A colormap in the request wins over the file's.
        named = self.tile("palette", z, x, y, ext=".png", colormap_name="viridis")
        self.assertEqual(named.status_code, 200, named.text)
        self.assertFalse(np.array_equal(gdal_png(named.content)[:3], rgba[:3]))

    # 5. documents and HEAD
    def test_tile_matrix_sets_and_head(self):
        r = self.gw.get("/tileMatrixSets", user=None)
        self.assertEqual(r.status_code, 200, r.text)
        ids = [t["id"] for t in r.json()["tileMatrixSets"]]
        self.assertIn("WebMercatorQuad", ids)
        self.assertIn("WorldCRS84Quad", ids)
        doc = self.gw.get("/tileMatrixSets/WebMercatorQuad", user=None).json()
        self.assertEqual(doc["id"], "WebMercatorQuad")
        self.assertEqual(len(doc["tileMatrices"]), 25)
        self.assertEqual(self.gw.get("/tileMatrixSets/NoSuch", user=None).status_code, 404)
        z, x, y = next(self.tiles_of("rgb", (0,)))
        path = f"/cog/tiles/WebMercatorQuad/{z}/{x}/{y}.png?url={urllib.parse.quote(self.url_of('rgb'), safe='')}"
        head = requests.head(self.gw.base + path, headers=auth("thomas"), timeout=10)
        get = self.gw.get(path)
        self.assertEqual(head.status_code, 200)
        self.assertEqual(head.content, b"")
        self.assertEqual(head.headers["Content-Type"], get.headers["Content-Type"])


if __name__ == "__main__":
    unittest.main()
