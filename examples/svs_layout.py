#!/usr/bin/python3
"""Joins the first IFD of several classic little-endian TIFFs into one multi-IFD TIFF, the
way Aperio SVS files are laid out, with strips and tiles (and JPEGTables) copied byte for
byte, never decoded.

Usage (as a module): join_ifds(out_path, [(tiff_path, {tag: value}), ...]) where the dict
overrides or adds tags of that IFD: 254 (NewSubfileType, an int) and 270
(ImageDescription, a str) are what SVS files use.

Used by make_slide.py (the demo slide) and the deep zoom tests; the pieces come from GDAL
or vips, and this only rewrites offsets."""
import struct

TYPE_SIZE = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 16: 8}
OFFSETS_OF = {273: 279, 324: 325}  # StripOffsets -> StripByteCounts, TileOffsets -> TileByteCounts


def read_first_ifd(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"II*\x00":
        raise ValueError(f"{path}: not a classic little-endian TIFF")
    (ifd,) = struct.unpack_from("<I", data, 4)
    (count,) = struct.unpack_from("<H", data, ifd)
    tags = {}
    for i in range(count):
        tag, typ, n, value = struct.unpack_from("<HHII", data, ifd + 2 + 12 * i)
        size = TYPE_SIZE[typ] * n
        raw = data[ifd + 2 + 12 * i + 8: ifd + 2 + 12 * i + 8 + size] if size <= 4 else data[value: value + size]
        tags[tag] = (typ, n, raw)
    return data, tags


def values(typ, n, raw):
    fmt = {3: "H", 4: "I", 16: "Q"}[typ]
    return list(struct.unpack_from(f"<{n}{fmt}", raw))


def join_ifds(out_path, pieces):
    out = bytearray(b"II*\x00\x00\x00\x00\x00")
    ifds = []
    for path, overrides in pieces:
        data, tags = read_first_ifd(path)
        # The pixel data first, each strip or tile where the new offsets will say.
        for off_tag, count_tag in OFFSETS_OF.items():
            if off_tag not in tags:
                continue
            offsets = values(*tags[off_tag])
            counts = values(*tags[count_tag])
            new = []
            for o, c in zip(offsets, counts):
                new.append(len(out))
                out += data[o: o + c]
            tags[off_tag] = (4, len(new), struct.pack(f"<{len(new)}I", *new))
        for tag, value in overrides.items():
            if isinstance(value, str):
                raw = value.encode() + b"\x00"
                tags[tag] = (2, len(raw), raw)
            else:
                tags[tag] = (4, 1, struct.pack("<I", value))
        ifds.append(tags)
    # Then the IFDs, each followed by its out-of-line tag data, chained in order.
    previous_link = 4
    for tags in ifds:
        if len(out) % 2:
            out += b"\x00"
        start = len(out)
        struct.pack_into("<I", out, previous_link, start)
        out += struct.pack("<H", len(tags))
        entries_at = len(out)
        out += b"\x00" * (12 * len(tags) + 4)
        for i, tag in enumerate(sorted(tags)):
            typ, n, raw = tags[tag]
            if len(raw) <= 4:
                field = raw.ljust(4, b"\x00")
            else:
                if len(out) % 2:
                    out += b"\x00"
                field = struct.pack("<I", len(out))
                out += raw
            struct.pack_into("<HHI4s", out, entries_at + 12 * i, tag, typ, n, field)
        previous_link = entries_at + 12 * len(tags)
    with open(out_path, "wb") as f:
        f.write(out)
