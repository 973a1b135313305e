"""Deep zoom over every kind of source (issue 11, item 3), each compared with `vips dzsave`
of the same file level by level, plus IIIF info.json and bad files.

Sources, all made here from one synthetic tissue-like image of odd size (1501 x 1099):
  pyramids: an SVS-like JPEG pyramid (`vips tiffsave --tile --pyramid --compression jpeg`,
  YCbCr with shared JPEGTables), a BigTIFF LZW pyramid (`--bigtiff`), an OME-like Deflate
  pyramid in SubIFDs (`--subifd`), and two files laid out as Aperio SVS (full image,
  strip thumbnail, unmarked tiled levels, a label marked as a reduced image, a macro),
  one with RGB JPEG tiles as Aperio writes them and one YCbCr;
  flat images (decoded once, levels made in memory): a stripped TIFF, a tiled TIFF
  without overviews, a PNG and a JPEG.

Tolerances (8-bit values, |ours - vips|), stated per kind:
  * flat images: vips dzsave halves each level with 2x2 means rounded half up and copies
    the edge of odd sizes; so does scigate: every level of every tile within
    FLAT_MAX_DIFF (measured: identical).
  * pyramids: the full-resolution level decodes the same bytes: identical. Coarser DZI
    levels come from the file's own levels (vips's own pyramid halves with floor sizes,
    Aperio's here are GDAL averages at 1/4 and 1/16, all JPEG-compressed again for the
    JPEG files) while vips dzsave halves the full image each time: mean |diff| per level
    within PYRAMID_MEAN_TOLERANCE for levels of at least SMALL_LEVEL pixels (measured: 0 to
    1.4). Below that the whole image is a few pixels, and vips's edge copy, repeated at each
    odd size (1501, 751, 47, 3), weighs the last row and column more each time: vips's
    1 x 1 level differs from the image's true mean by up to 10 here. Those levels are
    checked against the true area means of the full image instead (numpy), within
    PYRAMID_MEAN_TOLERANCE, and against vips within SMALL_LEVEL_VIPS_TOLERANCE.
"""
import glob
import os
import struct
import subprocess
import sys
import unittest
import uuid
import zlib

import numpy as np
from osgeo import gdal

from harness import COLLECTIONS, SOURCE, Gateway

sys.path.insert(0, os.path.join(SOURCE, "examples"))
from svs_layout import join_ifds  # noqa: E402

gdal.UseExceptions()

SLIDES = COLLECTIONS + """
  slides:
    description: Microscopy images
    bucket: edrn-bucket
    prefix: slides/
    workflows:
      nebraska: {authorized_users: [thomas]}
"""
WIDTH, HEIGHT = 1501, 1099
MAX_FLAT_PIXELS = 2_000_000  # 1501 x 1099 = 1.65 M fits; the "big" files below do not
FLAT_MAX_DIFF = 1
PYRAMID_MEAN_TOLERANCE = 1.5
SMALL_LEVEL = 32  # DZI levels up to 5 (47 x 35 pixels) are at least this wide
SMALL_LEVEL_VIPS_TOLERANCE = 12.0
APERIO = "Aperio Image Library v12.0.15\n1501x1099 [0,0 1501x1099] (240x240) JPEG/RGB Q=90|AppMag = 20|MPP = 0.5"

PYRAMIDS = ("pyramid_jpeg.tif", "bigtiff_lzw.tif", "ome_subifd.tif", "aperio_rgb.svs", "aperio_ycbcr.svs")
FLAT = ("strip.tif", "tiled_flat.tif", "image.png", "image.jpg")


def tissue(width, height, seed=5):
    """Pale background, soft coloured blobs, a little noise: JPEG-friendly as stained tissue is."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    img = np.empty((3, height, width), np.float32)
    img[0], img[1], img[2] = 235, 225, 235
    for _ in range(60):
        cx, cy, r = rng.uniform(0, width), rng.uniform(0, height), rng.uniform(20, 120)
        d = 0.7 * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * r * r))
        colour = rng.uniform([120, 40, 120], [200, 120, 200])
        for b in range(3):
            img[b] = img[b] * (1 - d) + colour[b] * d
    img += rng.normal(0, 3, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def write(arr, path, driver, options=()):
    bands, height, width = arr.shape
    mem = gdal.GetDriverByName("MEM").Create("", width, height, bands, gdal.GDT_Byte)
    for b in range(bands):
        mem.GetRasterBand(b + 1).WriteArray(arr[b])
    gdal.GetDriverByName(driver).CreateCopy(path, mem, options=list(options))


def decode(body):
    name = f"/vsimem/{uuid.uuid4().hex}"
    gdal.FileFromMemBuffer(name, body)
    try:
        arr = gdal.Open(name).ReadAsArray()
    finally:
        gdal.Unlink(name)
    return arr[np.newaxis] if arr.ndim == 2 else arr


def area_means(arr, f):
    """Each f x f block's mean (edge blocks over the pixels they hold): a DZI level's true values."""
    sums = np.add.reduceat(np.add.reduceat(arr, np.arange(0, arr.shape[1], f), axis=1),
                           np.arange(0, arr.shape[2], f), axis=2)
    rows = np.diff(np.append(np.arange(0, arr.shape[1], f), arr.shape[1]))
    cols = np.diff(np.append(np.arange(0, arr.shape[2], f), arr.shape[2]))
    return sums / rows[None, :, None] / cols[None, None, :]


def png_claiming(width, height):
    """A PNG whose header claims width x height (and holds one empty IDAT)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


def run(*cmd):
    subprocess.run(cmd, check=True)


class DeepZoomSources(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.gw = Gateway(collections=SLIDES,
                         extra_server=f"raster: {{deepzoom: {{max_flat_pixels: {MAX_FLAT_PIXELS}}}}}")
        cls.folder = folder = os.path.join(cls.gw.dir, "buckets/edrn-bucket/slides")
        os.makedirs(folder)
        cls.work = work = os.path.join(cls.gw.dir, "work")
        os.makedirs(work)
        src = os.path.join(work, "src.png")
        write(tissue(WIDTH, HEIGHT), src, "PNG")
        tiles = ["--tile", "--tile-width", "256", "--tile-height", "256"]
        run("vips", "tiffsave", src, f"{folder}/pyramid_jpeg.tif", *tiles, "--pyramid", "--compression", "jpeg",
            "--Q", "90")
        run("vips", "tiffsave", src, f"{folder}/bigtiff_lzw.tif", *tiles, "--pyramid", "--compression", "lzw",
            "--bigtiff")
        run("vips", "tiffsave", src, f"{folder}/ome_subifd.tif", *tiles, "--pyramid", "--subifd", "--compression",
            "deflate")
        run("vips", "tiffsave", src, f"{folder}/strip.tif", "--compression", "deflate")
        run("gdal_translate", "-q", "-co", "TILED=YES", "-co", "COMPRESS=LZW", src, f"{folder}/tiled_flat.tif")
        run("cp", src, f"{folder}/image.png")
        run("gdal_translate", "-q", "-of", "JPEG", "-co", "QUALITY=90", src, f"{folder}/image.jpg")
        for name, photometric in (("aperio_rgb.svs", "RGB"), ("aperio_ycbcr.svs", "YCBCR")):
            cls.make_aperio(src, os.path.join(folder, name), photometric)
        # Files a flat image may not be: beyond max_flat_pixels (a PNG, and a TIFF without
        # overviews), a PNG claiming 10^5 x 10^5 pixels, broken PNG and JPEG files.
        big = tissue(1600, 1300, seed=6)
        write(big, f"{folder}/big.png", "PNG")
        write(big, f"{folder}/big_flat.tif", "GTiff", ["TILED=YES"])
        with open(f"{folder}/huge.png", "wb") as f:
            f.write(png_claiming(100_000, 100_000))
        with open(src, "rb") as f:
            png = f.read()
        with open(f"{folder}/truncated.png", "wb") as f:
            f.write(png[: len(png) // 2])
        with open(f"{folder}/image.jpg", "rb") as f:
            jpg = f.read()
        with open(f"{folder}/broken.jpg", "wb") as f:
            f.write(jpg[:200] + bytes(range(256)) * 4)
        with open(f"{folder}/tiny.jpg", "wb") as f:
            f.write(b"\xff\xd8\xff")
        cls.gw.start()
        cls.ids = {}

    @classmethod
    def make_aperio(cls, src, out, photometric):
        """An SVS layout: full image, strip thumbnail, tiled levels at 1/4 and 1/16 (none
        marked reduced), a label marked reduced (LZW) and a macro (SubfileType 9)."""
        parts = {}
        tiled = ["TILED=YES", "COMPRESS=JPEG", "JPEG_QUALITY=90", f"PHOTOMETRIC={photometric}", "BLOCKXSIZE=240",
                 "BLOCKYSIZE=240"]
        for part, size, options in (("l0", None, tiled), ("thumb", (300, 219), ["COMPRESS=JPEG"]),
                                    ("l1", (375, 274), tiled), ("l2", (93, 68), tiled),
                                    ("label", (200, 210), ["COMPRESS=LZW"]), ("macro", (600, 200), ["COMPRESS=JPEG"])):
            parts[part] = os.path.join(cls.work, f"{os.path.basename(out)}.{part}.tif")
            cmd = ["gdal_translate", "-q"] + sum([["-co", o] for o in options], [])
            if size:
                cmd += ["-outsize", str(size[0]), str(size[1]), "-r", "average"]
            run(*cmd, src, parts[part])
        join_ifds(out, [(parts["l0"], {270: APERIO}), (parts["thumb"], {}), (parts["l1"], {}), (parts["l2"], {}),
                        (parts["label"], {254: 1}), (parts["macro"], {254: 9})])

    @classmethod
    def tearDownClass(cls):
        cls.gw.cleanup()

    def ident(self, name):
        if name not in self.ids:
            r = self.gw.get(f"/deepzoom?data_selection=slides&path={name}")
            self.assertEqual(r.status_code, 200, f"{name}: {r.text}")
            self.assertEqual((r.json()["width"], r.json()["height"]), (WIDTH, HEIGHT), name)
            self.ids[name] = r.json()["id"]
        return self.ids[name]

    def reference(self, name):
        """vips dzsave of the file's first image, read by vips's own TIFF/PNG/JPEG loaders
        (vips would open an Aperio file through OpenSlide, adding alpha)."""
        out = os.path.join(self.work, f"ref_{name.replace('.', '_')}")
        if not os.path.isdir(out + "_files"):
            loaded = os.path.join(self.work, f"{name}.v")
            loader = "tiffload" if name.endswith((".svs", ".tif")) else ("pngload" if name.endswith(".png") else
                                                                         "jpegload")
            run("vips", loader, os.path.join(self.folder, name), loaded)
            run("vips", "dzsave", loaded, out, "--suffix", ".png", "--tile-size", "254", "--overlap", "1")
        return out + "_files"

    def level_stats(self, name):
        """Per DZI level: (level, mean |diff|, max |diff|) of every tile against vips."""
        ident, ref = self.ident(name), self.reference(name)
        levels = sorted(int(os.path.basename(p)) for p in glob.glob(f"{ref}/*") if os.path.basename(p).isdigit())
        self.assertEqual(levels, list(range(12)), name)  # ceil(log2(1501)) = 11
        stats = []
        for level in levels:
            diffs = []
            for ref_path in sorted(glob.glob(f"{ref}/{level}/*.png")):
                tile = os.path.basename(ref_path)[: -len(".png")]
                r = self.gw.get(f"/dzi/{ident}_files/{level}/{tile}.png", user=None)
                self.assertEqual(r.status_code, 200, f"{name} {level}/{tile}: {r.text}")
                ours = decode(r.content)[:3].astype(np.int32)
                with open(ref_path, "rb") as f:
                    theirs = decode(f.read())[:3].astype(np.int32)
                self.assertEqual(ours.shape, theirs.shape, f"{name} {level}/{tile}")
                diffs.append(np.abs(ours - theirs).ravel())
            d = np.concatenate(diffs)
            stats.append((level, d.mean(), d.max()))
        print(f"{name}: " + ", ".join(f"L{lv} {m:.3f}/{x}" for lv, m, x in stats), file=sys.stderr)
        return stats

    def test_flat_images_match_vips_dzsave_at_every_level(self):
        for name in FLAT:
            with self.subTest(name):
                for level, mean, most in self.level_stats(name):
                    self.assertLessEqual(most, FLAT_MAX_DIFF, f"{name} level {level}")

    def test_pyramids_match_vips_dzsave_level_by_level(self):
        for name in PYRAMIDS:
            with self.subTest(name):
                stats = self.level_stats(name)
                self.assertEqual(stats[-1][2], 0, f"{name}: full resolution")
                full = None
                for level, mean, most in stats:
                    side = -(-WIDTH // 2 ** (11 - level))
                    if side >= SMALL_LEVEL:
                        self.assertLessEqual(mean, PYRAMID_MEAN_TOLERANCE, f"{name} level {level}")
                        continue
                    self.assertLessEqual(mean, SMALL_LEVEL_VIPS_TOLERANCE, f"{name} level {level}")
                    if full is None:
                        full = gdal.Open(os.path.join(self.folder, name)).ReadAsArray().astype(np.float64)
                    r = self.gw.get(f"/dzi/{self.ident(name)}_files/{level}/0_0.png", user=None)
                    ours = decode(r.content)[:3].astype(np.float64)
                    truth = area_means(full, 2 ** (11 - level))
                    self.assertEqual(ours.shape, truth.shape)
                    self.assertLessEqual(np.abs(ours - truth).mean(), PYRAMID_MEAN_TOLERANCE, f"{name} level {level}")

    def test_iiif_info_for_every_source(self):
        for name in PYRAMIDS + FLAT:
            with self.subTest(name):
                r = self.gw.get(f"/iiif/{self.ident(name)}/info.json", user=None)
                self.assertEqual(r.status_code, 200, r.text)
                info = r.json()
                self.assertEqual((info["width"], info["height"]), (WIDTH, HEIGHT))
                self.assertEqual(info["tiles"], [{"width": 256, "scaleFactors": [1, 2, 4, 8]}])
                self.assertEqual(info["sizes"], [{"width": -(-WIDTH // f), "height": -(-HEIGHT // f)}
                                                 for f in (8, 4, 2, 1)])
                # A scaled tile as OpenSeadragon asks for it: the region at 1/4, 256 wide.
                r = self.gw.get(f"/iiif/{self.ident(name)}/1024,0,477,1024/120,/0/default.jpg", user=None)
                self.assertEqual(r.status_code, 200, r.text)
                self.assertEqual(decode(r.content).shape, (3, 258, 120))

    def test_pyramid_levels_are_found(self):
        # SubIFD levels (OME-TIFF, vips --subifd) and Aperio's unmarked tiled levels count;
        # the thumbnail, label and macro do not. (The tiler's /cog/info lists them too.)
        for name, overviews in (("pyramid_jpeg.tif", [2, 4, 8]), ("bigtiff_lzw.tif", [2, 4, 8]),
                                ("ome_subifd.tif", [2, 4, 8]), ("aperio_rgb.svs", [4, 16]),
                                ("aperio_ycbcr.svs", [4, 16]), ("tiled_flat.tif", [])):
            r = self.gw.get(f"/cog/info?data_selection=slides&path={name}")
            self.assertEqual(r.status_code, 200, r.text)
            self.assertEqual(r.json()["overviews"], overviews, name)

    def test_aperio_label_and_macro_are_not_levels(self):
        # The 200 x 210 label would be chosen for the 1/8 size if it counted as a level.
        for name in ("aperio_rgb.svs", "aperio_ycbcr.svs"):
            r = self.gw.get(f"/iiif/{self.ident(name)}/full/188,/0/default.png", user=None)
            self.assertEqual(r.status_code, 200, r.text)
            ours = decode(r.content).astype(np.float64)
            ref = decode(self.gw.get(f"/iiif/{self.ident('image.png')}/full/188,/0/default.png", user=None).content)
            self.assertEqual(ours.shape, ref.shape)
            self.assertLessEqual(np.abs(ours - ref).mean(), 3.0, name)

    def test_demo_tissue_png_opens(self):
        r = self.gw.get("/deepzoom?data_selection=nebraska_images&path=tissue_01.png")
        self.assertEqual(r.status_code, 200, r.text)
        ident = r.json()["id"]
        self.assertEqual(self.gw.get(f"/dzi/{ident}_files/8/0_0.jpeg", user=None).status_code, 200)
        self.assertEqual(self.gw.get(f"/iiif/{ident}/full/96,/0/gray.png", user=None).status_code, 200)

    def test_bad_and_too_large_files(self):
        for name, status in (("big.png", 413), ("big_flat.tif", 413), ("huge.png", 413), ("truncated.png", 400),
                             ("broken.jpg", 400), ("tiny.jpg", 400)):
            with self.subTest(name):
                r = self.gw.get(f"/deepzoom?data_selection=slides&path={name}")
                self.assertEqual(r.status_code, status, f"{name}: {r.text}")
                if status == 413:
                    self.assertIn("max_flat_pixels", r.json()["error"]["message"])
                # The same answer again (kept as a verdict), and through the query form.
                r = self.gw.get(f"/dzi/x.dzi?data_selection=slides&path={name}")
                self.assertEqual(r.status_code, status, f"{name}: {r.text}")
        # The map tiler still refuses what is not a TIFF, as before.
        r = self.gw.get("/cog/info?data_selection=slides&path=image.png")
        self.assertEqual(r.status_code, 400)
        self.assertEqual(self.gw.get("/healthz", user=None).status_code, 200)


if __name__ == "__main__":
    unittest.main()
