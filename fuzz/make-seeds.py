#!/usr/bin/env python3
"""Writes the seed corpus (corpus/<target>/seed-*) from the golden format-9 files.

Run from anywhere: python3 fuzz/make-seeds.py. Uses only the standard library.
"""
import io
import json
import pathlib
import struct
import zipfile
import zlib

HERE = pathlib.Path(__file__).resolve().parent
VECTORS = HERE.parent / "crates/cloudcoin-codec/tests/data/vectors"


def vector(name):
    return (VECTORS / f"{name}.bin").read_bytes()


def stack_of(name, drop_dn=False, ans=25, upper=False, numbers=False):
    doc = json.loads((VECTORS / f"{name}.json").read_text())
    coins = []
    for c in doc["coins"]:
        an = c["ans"][:ans]
        coin = {
            "nn": 6 if numbers else "6",
            "sn": c["serial_number"] if numbers else str(c["serial_number"]),
            "dn": c["denomination"] if numbers else str(c["denomination"]),
            "an": [a.upper() for a in an] if upper else an,
            "pown": c["pown"],
        }
        if drop_dn:
            del coin["dn"]
        coins.append(coin)
    return json.dumps({"cloudcoin": coins}).encode()


def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def png_with(payload, bad_crc=False, coin_chunk=True):
    """A 2x2 RGB picture with the payload in a cLDc chunk right after IHDR."""
    ihdr = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\x00" + b"\xff\xd7\x00" * 2 for _ in range(2)))
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
    if coin_chunk:
        c = bytearray(chunk(b"cLDc", payload))
        if bad_crc:
            c[-1] ^= 0xFF
        out += bytes(c)
    return out + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def zip_of(entries, method=zipfile.ZIP_STORED):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as z:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = method
            z.writestr(info, data)
    return buf.getvalue()


def main():
    one = vector("single-10")
    several = vector("multi-10.5")
    encrypted = bytearray(one)
    encrypted[5] = 1
    pans = bytearray(one)
    pans[15] = 1
    pans += bytes(400)
    bins = {
        "one-coin.bin": one,
        "smallest.bin": vector("single-smallest"),
        "several.bin": several,
        "truncated.bin": one[:300],
        "encrypted.bin": bytes(encrypted),
        "with-pans.bin": bytes(pans),
    }
    stacks = {
        "several.stack": stack_of("multi-10.5"),
        "numbers-upper.stack": stack_of("single-largest", upper=True, numbers=True),
        "legacy.stack": stack_of("single-10", drop_dn=True),
        "24-ans.stack": stack_of("single-10", ans=24),
    }
    pngs = {
        "one-coin.png": png_with(one),
        "several.png": png_with(several),
        "stack-payload.png": png_with(stacks["several.stack"]),
        "bad-crc.png": png_with(one, bad_crc=True),
        "no-coin-chunk.png": png_with(b"", coin_chunk=False),
    }
    zips = {
        "stored.zip": zip_of([("10 CloudCoin #12345 ''.bin", one), ("1 CloudCoin #1 ''.bin", vector("single-smallest"))]),
        "mixed-deflated.zip": zip_of(
            [("dir/", b""), ("a.stack", stacks["several.stack"]), ("b.png", pngs["one-coin.png"])],
            zipfile.ZIP_DEFLATED,
        ),
        "nested.zip": zip_of([("inner.zip", zip_of([("x.bin", vector("single-largest"))]))]),
        "text-entry.zip": zip_of([("notes.txt", b"not a coin")]),
        "empty.zip": zip_of([]),
    }
    corpora = {
        "bin": bins,
        "stack": stacks,
        "png": pngs,
        "zip": zips,
        "sniff": {**{k: bins[k] for k in ("one-coin.bin", "several.bin")},
                  "several.stack": stacks["several.stack"],
                  "legacy.stack": stacks["legacy.stack"],
                  "one-coin.png": pngs["one-coin.png"],
                  "stored.zip": zips["stored.zip"],
                  "nested.zip": zips["nested.zip"],
                  "text.txt": b"Dear Alice, here are the coins\n"},
    }
    for target, files in corpora.items():
        folder = HERE / "corpus" / target
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            (folder / f"seed-{name}").write_bytes(data)
        total = sum(len(d) for d in files.values())
        print(f"{target}: {len(files)} seeds, {total} bytes")


if __name__ == "__main__":
    main()
