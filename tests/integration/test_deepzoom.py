"""Deep zoom (DZI and IIIF Image 3.0 level 1) over real HTTP, on TIFFs made by vips and GDAL
without any georeferencing.

Correctness: DZI tiles against `vips dzsave` of the same pixels, level by level (tolerance
below); IIIF regions and sizes against numpy crops and 2x2 means of the source array.
Authorization, grants and bad input as the tiler's."""
import glob
import os
import subprocess
import sys
import unittest
import uuid
import xml.etree.ElementTree as ET

import numpy as np
from osgeo import gdal

from harness import COLLECTIONS, SOURCE, Gateway

sys.path.insert(0, os.path.join(SOURCE, "tests/tools"))
from make_raster_fixtures import pattern  # noqa: E402

gdal.UseExceptions()

SLIDES = COLLECTIONS + """
  slides:
    description: Microscopy images
    bucket: edrn-bucket
    prefix: slides/
    workflows:
      nebraska: {authorized_users: [thomas]}
"""
WIDTH, HEIGHT = 1500, 1100
# DZI tolerance against vips dzsave (8-bit values), measured on this deliberately
# high-frequency pattern. The full-resolution level is the same pixels (lossless): exact.
# Levels the TIFF's pyramid holds at exactly half, quarter, eighth size (8..10 here) come
# out of vips's own overviews: 99.9% of values within 1. Coarser levels are averaged from
# the smallest overview (187 = floor(1500 / 8) wide where DZI's level is 188: a scale off
# by 0.3%, up to half a pixel at the far edge) while vips halves its own level each time:
# the mean |diff| per level stays <= 3 (measured: 0.6 to 2.5) and the means of whole-image
# pixels differ by rounding only (max 2).
DZI_MEAN_TOLERANCE = 3.0
DZI_EXACT_SCALE_P999 = 1
DZI_EXACT_SCALE_LEVELS = range(8, 11)


def decode(body):
    """(bands, height, width) uint8 of a PNG or JPEG, read by GDAL."""
    name = f"/vsimem/{uuid.uuid4().hex}"
    gdal.FileFromMemBuffer(name, body)
    try:
        ds = gdal.Open(name)
        arr = ds.ReadAsArray()
        ds = None
    finally:
        gdal.Unlink(name)
    return arr[np.newaxis] if arr.ndim == 2 else arr


def write_png(arr, path):
    bands, height, width = arr.shape
    mem = gdal.GetDriverByName("MEM").Create("", width, height, bands, gdal.GDT_Byte)
    for b in range(bands):
        mem.GetRasterBand(b + 1).WriteArray(arr[b])
    gdal.GetDriverByName("PNG").CreateCopy(path, mem)


def block_mean(arr, f):
    """Mean over f x f blocks (the source is cropped to a multiple of f)."""
    b, h, w = arr.shape
    a = arr[:, : h - h % f, : w - w % f].astype(np.float64)
    return a.reshape(b, h // f, f, w // f, f).mean(axis=(2, 4))


class DeepZoom(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.gw = Gateway(collections=SLIDES)
        folder = os.path.join(cls.gw.dir, "buckets/edrn-bucket/slides")
        os.makedirs(folder)
        cls.work = os.path.join(cls.gw.dir, "work")
        os.makedirs(cls.work)
        cls.src = pattern(WIDTH, HEIGHT, 3, np.uint8, seed=11)
        png = os.path.join(cls.work, "slide.png")
        write_png(cls.src, png)
        # A pyramidal tiled TIFF as vips writes it (lossless, 256 tiles, BigTIFF)...
        subprocess.run(["vips", "tiffsave", png, os.path.join(folder, "slide.tif"), "--tile", "--pyramid",
                        "--compression", "deflate", "--tile-width", "256", "--tile-height", "256", "--bigtiff"],
                       check=True)
        # ... vips's own DZI of the same pixels (PNG tiles, 254/1) ...
        subprocess.run(["vips", "dzsave", png, os.path.join(cls.work, "ref"), "--suffix", ".png",
                        "--tile-size", "254", "--overlap", "1"], check=True)
        # ... and GDAL's: JPEG tiles in a BigTIFF, and LZW tiles, neither with overviews.
        subprocess.run(["gdal_translate", "-q", "-of", "GTiff", "-co", "TILED=YES", "-co", "COMPRESS=JPEG",
                        "-co", "BIGTIFF=YES", png, os.path.join(folder, "jpeg.tif")], check=True)
        subprocess.run(["gdal_translate", "-q", "-of", "GTiff", "-co", "TILED=YES", "-co", "COMPRESS=LZW", png,
                        os.path.join(folder, "lzw.tif")], check=True)
        with open(os.path.join(folder, "notes.txt"), "w") as f:
            f.write("not an image\n")
        cls.gw.start()
        r = cls.gw.get("/deepzoom?data_selection=slides&path=slide.tif")
        assert r.status_code == 200, r.text
        cls.links = r.json()
        cls.id = cls.links["id"]

    @classmethod
    def tearDownClass(cls):
        cls.gw.cleanup()

    def anon(self, path):
        return self.gw.get(path, user=None)

    # ---- DZI -------------------------------------------------------------------------

    def test_descriptor(self):
        self.assertTrue(self.links["dzi"].endswith(f"/dzi/{self.id}.dzi"), self.links)
        self.assertTrue(self.links["iiif"].endswith(f"/iiif/{self.id}/info.json"), self.links)
        r = self.anon(f"/dzi/{self.id}.dzi")
        self.assertEqual(r.status_code, 200, r.text)
        self.assertTrue(r.headers["Content-Type"].startswith("application/xml"))
        root = ET.fromstring(r.content)
        self.assertEqual(root.tag, "{http://schemas.microsoft.com/deepzoom/2008}Image")
        self.assertEqual(root.get("TileSize"), "254")
        self.assertEqual(root.get("Overlap"), "1")
        self.assertEqual(root.get("Format"), "jpeg")
        size = root.find("{http://schemas.microsoft.com/deepzoom/2008}Size")
        self.assertEqual((size.get("Width"), size.get("Height")), (str(WIDTH), str(HEIGHT)))

    def test_dzi_tiles_match_vips_dzsave_level_by_level(self):
        levels = sorted(int(os.path.basename(p)) for p in glob.glob(os.path.join(self.work, "ref_files/*"))
                        if os.path.basename(p).isdigit())
        self.assertEqual(levels[-1], 11)  # ceil(log2(1500))
        stats = []
        for level in levels:
            diffs = []
            for ref_path in sorted(glob.glob(os.path.join(self.work, f"ref_files/{level}/*.png"))):
                tile = os.path.basename(ref_path)[: -len(".png")]
                r = self.anon(f"/dzi/{self.id}_files/{level}/{tile}.png")
                self.assertEqual(r.status_code, 200, f"{level}/{tile}: {r.text}")
                ours = decode(r.content)[:3].astype(np.int32)
                with open(ref_path, "rb") as f:
                    ref = decode(f.read())[:3].astype(np.int32)
                self.assertEqual(ours.shape, ref.shape, f"{level}/{tile}")
                diffs.append(np.abs(ours - ref).ravel())
            d = np.concatenate(diffs)
            stats.append((level, d.mean(), np.percentile(d, 99.9), d.max()))
        report = "\n".join(f"L{lv}: mean {m:.3f} p99.9 {p:.0f} max {x}" for lv, m, p, x in stats)
        print(report, file=sys.stderr)
        for level, mean, p999, most in stats:
            if level == levels[-1]:
                self.assertEqual(most, 0, report)
            self.assertLessEqual(mean, DZI_MEAN_TOLERANCE, report)
            if level in DZI_EXACT_SCALE_LEVELS:
                self.assertLessEqual(p999, DZI_EXACT_SCALE_P999, report)

    def test_jpeg_tiles_and_query_form(self):
        r = self.anon(f"/dzi/{self.id}_files/11/1_1.jpeg")
        self.assertEqual(r.status_code, 200)
        self.assertEqual(r.headers["Content-Type"], "image/jpeg")
        self.assertEqual(decode(r.content).shape, (3, 256, 256))
        # The tiler's way of naming the file works too (with a token, or a grant).
        r = self.gw.get("/dzi/slide.dzi?data_selection=slides&path=slide.tif")
        self.assertEqual(r.status_code, 200, r.text)
        r = self.gw.get("/dzi/slide_files/10/0_0.jpg?data_selection=slides&path=slide.tif")
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(decode(r.content).shape, (3, 255, 255))

    def test_dzi_out_of_range_is_404(self):
        for tile in ("12/0_0.jpeg", "11/6_0.jpeg", "11/0_5.jpeg", "0/1_0.png"):
            r = self.anon(f"/dzi/{self.id}_files/{tile}")
            self.assertEqual(r.status_code, 404, tile)
        for tile in ("x/0_0.jpeg", "11/0-0.jpeg", "11/0_0.gif", "11/a_0.png"):
            self.assertEqual(self.anon(f"/dzi/{self.id}_files/{tile}").status_code, 400, tile)

    # ---- IIIF ------------------------------------------------------------------------

    def test_info_json(self):
        r = self.anon(f"/iiif/{self.id}/info.json")
        self.assertEqual(r.status_code, 200, r.text)
        info = r.json()
        self.assertEqual(info["@context"], "http://iiif.io/api/image/3/context.json")
        self.assertEqual(info["type"], "ImageService3")
        self.assertEqual(info["profile"], "level1")
        self.assertEqual(info["protocol"], "http://iiif.io/api/image")
        self.assertEqual((info["width"], info["height"]), (WIDTH, HEIGHT))
        self.assertTrue(info["id"].endswith(f"/iiif/{self.id}"), info["id"])
        self.assertEqual(info["tiles"][0]["width"], 256)
        self.assertEqual(info["tiles"][0]["scaleFactors"], [1, 2, 4, 8])
        self.assertIn({"width": WIDTH, "height": HEIGHT}, info["sizes"])
        # The base URI redirects to info.json.
        r = self.anon(f"/iiif/{self.id}")
        self.assertEqual(r.status_code, 303)
        self.assertTrue(r.headers["Location"].endswith(f"/iiif/{self.id}/info.json"))

    def iiif(self, region, size, quality="default", fmt="png"):
        r = self.anon(f"/iiif/{self.id}/{region}/{size}/0/{quality}.{fmt}")
        self.assertEqual(r.status_code, 200, f"{region}/{size}: {r.text}")
        return decode(r.content)

    def test_regions_at_full_size_are_exact_crops(self):
        for region, (x, y, w, h) in {"0,0,300,200": (0, 0, 300, 200), "1400,1000,500,500": (1400, 1000, 100, 100),
                                     "pct:10,20,30,40": (150, 220, 450, 440),
                                     "square": (200, 0, 1100, 1100)}.items():
            size = "max" if region != "square" else "1100,"
            got = self.iiif(region, size)
            np.testing.assert_array_equal(got[:3], self.src[:, y: y + h, x: x + w], err_msg=region)

    def test_sizes_against_numpy(self):
        # Halving reads the TIFF's first overview (vips's 2x2 means): within 1 of numpy's.
        got = self.iiif("0,0,600,400", "300,").astype(np.float64)
        self.assertEqual(got.shape, (3, 200, 300))
        ref = block_mean(self.src[:, :400, :600], 2)
        self.assertLessEqual(np.abs(got - ref).max(), 1.0)
        for size, shape in {"pct:25": (150, 100), ",100": (150, 100), "!150,150": (150, 100),
                            "150,100": (150, 100)}.items():
            got = self.iiif("0,0,600,400", size).astype(np.float64)
            self.assertEqual(got.shape[1:], (shape[1], shape[0]), size)
            ref = block_mean(self.src[:, :400, :600], 4)
            self.assertLessEqual(np.abs(got - ref).mean(), 1.0, size)
        full = self.iiif("full", "max", fmt="jpg")
        self.assertEqual(full.shape, (3, HEIGHT, WIDTH))

    def test_gray_quality(self):
        got = self.iiif("100,100,64,64", "max", quality="gray")
        self.assertEqual(got.shape[0], 1)
        crop = self.src[:, 100:164, 100:164].astype(np.float64)
        luma = 0.299 * crop[0] + 0.587 * crop[1] + 0.114 * crop[2]
        self.assertLessEqual(np.abs(got[0] - luma).max(), 0.5 + 1e-9)

    def test_gdal_jpeg_bigtiff_and_lzw(self):
        for path in ("jpeg.tif", "lzw.tif"):
            r = self.gw.get(f"/deepzoom?data_selection=slides&path={path}")
            self.assertEqual(r.status_code, 200, r.text)
            ident = r.json()["id"]
            r = self.anon(f"/iiif/{ident}/100,200,300,150/max/0/default.png")
            self.assertEqual(r.status_code, 200, r.text)
            ref = gdal.Open(os.path.join(self.gw.dir, "buckets/edrn-bucket/slides", path)).ReadAsArray(100, 200, 300, 150)
            diff = np.abs(decode(r.content)[:3].astype(np.int32) - ref.astype(np.int32))
            self.assertLessEqual(diff.max(), 0 if path == "lzw.tif" else 2, path)
            self.assertEqual(self.anon(f"/dzi/{ident}_files/3/0_0.jpeg").status_code, 200)

    # ---- Authorization ---------------------------------------------------------------

    def test_authorization(self):
        # An outsider (token, not allowed on the collection) sees nothing: 404 as unknown.
        self.assertEqual(self.gw.get("/deepzoom?data_selection=slides&path=slide.tif", user="dliu").status_code, 404)
        self.assertEqual(self.gw.get("/deepzoom?data_selection=slides&path=nope.tif").status_code, 404)
        bare = self.id.split(".", 1)[0]  # the id without its grant
        self.assertEqual(self.gw.get(f"/iiif/{bare}/info.json", user="dliu").status_code, 404)
        self.assertEqual(self.anon(f"/iiif/{bare}/info.json").status_code, 401)
        # The owner's token works on the bare id, and info.json hands out an id with a grant.
        r = self.gw.get(f"/iiif/{bare}/info.json")
        self.assertEqual(r.status_code, 200)
        self.assertIn(".", r.json()["id"].rsplit("/", 1)[1])
        # A tampered grant: 403, on every route.
        exp, sig = self.id.split(".", 1)[1].split(".")
        for tampered in (f"{bare}.{int(exp) + 1}.{sig}", f"{bare}.{exp}.{sig[:-1]}{'A' if sig[-1] != 'A' else 'B'}"):
            self.assertEqual(self.anon(f"/iiif/{tampered}/info.json").status_code, 403)
            self.assertEqual(self.anon(f"/dzi/{tampered}.dzi").status_code, 403)
            self.assertEqual(self.anon(f"/iiif/{tampered}/full/max/0/default.jpg").status_code, 403)
        # A grant for one file does not open another.
        other = self.gw.get("/deepzoom?data_selection=slides&path=lzw.tif").json()["id"]
        swapped = other.split(".", 1)[0] + "." + self.id.split(".", 1)[1]
        self.assertEqual(self.anon(f"/iiif/{swapped}/info.json").status_code, 403)
        # Ids that decode to nothing, and url= (bucket names) refused for ids.
        self.assertEqual(self.anon("/iiif/!!!/info.json").status_code, 404)
        self.assertEqual(self.gw.get("/deepzoom?url=s3://edrn-bucket/slides/slide.tif").status_code, 400)

    # ---- Bad input ---------------------------------------------------------------------

    def test_bad_input(self):
        base = f"/iiif/{self.id}"
        for path, status in {
            "/full/max/0/default.xyz": 400, "/full/max/0/best.jpg": 400, "/full/max/abc/default.jpg": 400,
            "/full/max/90/default.jpg": 501, "/full/max/0/bitonal.jpg": 501, "/bogus/max/0/default.jpg": 400,
            "/0,0,0,10/max/0/default.jpg": 400, "/5000,0,10,10/max/0/default.jpg": 400,
            "/full/^max/0/default.jpg": 400, "/full/2000,/0/default.jpg": 400, "/full/pct:200/0/default.jpg": 400,
            "/full/0,/0/default.jpg": 400, "/full/nonsense/0/default.jpg": 400,
        }.items():
            self.assertEqual(self.anon(base + path).status_code, status, path)
        # A file that is not a TIFF: 4xx, and the server stays up.
        r = self.gw.get("/deepzoom?data_selection=slides&path=notes.txt")
        self.assertEqual(r.status_code, 400, r.text)
        r = self.gw.get("/dzi/x.dzi?data_selection=slides&path=notes.txt")
        self.assertEqual(r.status_code, 400, r.text)
        self.assertEqual(self.gw.get("/healthz", user=None).status_code, 200)


if __name__ == "__main__":
    unittest.main()
