#!/usr/bin/env python3
"""How the paper wallet's QR setup was chosen: a sweep over module size, QR version and error
correction level, measured with the campaign's own rendering and degradations.

For each candidate it lays out a page of codes the way the `pdf` writer does (each code with its
own quiet zone, the writer's margins, header and footer room), filled to capacity with text of
the framing's alphabet, writes it as a vector PDF, rasterises it with Ghostscript, degrades the
pictures as office scans and phone photos (`campaign.py`) and counts the pages whose every code
zxing-cpp and zbar read. It prints, per candidate, the codes and coins a page carries and the
share of pages read per level and decoder.

    python3 tools/paper-campaign/sweep.py --per-cell 10 \
        --candidates 0.6:10:M 0.7:10:M 0.8:10:M --levels 150 phone

A candidate is `MODULE_MM:VERSION:EC`; a level is a scan's dpi or `phone`.
"""

import argparse
import os
import random
import sys
import tempfile
import zlib

import cv2
import numpy as np
import zxingcpp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import campaign  # noqa: E402

PT_PER_MM = 72.0 / 25.4
# The writer's page (crates/cloudcoin-codec/src/sheet.rs), in millimetres.
PAPER = {"a4": (210.0, 297.0), "letter": (215.9, 279.4)}
MARGIN_MM, HEADER_MM, FOOTER_MM, GAP_MM, LABEL_MM, QUIET = 12.0, 74.0, 30.0, 2.0, 3.5, 4
# Format 9: a 32-byte header and 407-byte records; the bound framing's text around a chunk.
HEADER, RECORD, FRAMING = 32, 407, len("CC9P:") + 12 + 1 + len("1/10:") + 1
BASE45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"


def capacity(version, ec):
    """The most alphanumeric characters one symbol of `version` and `ec` holds."""
    low, high = 1, 8000
    while low + 1 < high:
        mid = (low + high) // 2
        try:
            b = zxingcpp.create_barcode("A" * mid, zxingcpp.BarcodeFormat.QRCode, ec_level=ec,
                                        version=version)
            ok = b.symbol.width == 17 + 4 * version if hasattr(b, "symbol") else True
        except Exception:
            ok = False
        if ok:
            low = mid
        else:
            high = mid
    return low


def symbol(text, version, ec):
    b = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level=ec, version=version)
    img = np.array(zxingcpp.write_barcode_to_image(b, scale=1, add_quiet_zones=False))
    assert img.shape[0] == 17 + 4 * version, (img.shape, version)
    return img < 128


def grid(module_mm, version, paper):
    w, h = PAPER[paper]
    cell = (17 + 4 * version + 2 * QUIET) * module_mm
    columns = int((w - 2 * (MARGIN_MM + 4) + GAP_MM) / (cell + GAP_MM))
    rows = int((h - 2 * MARGIN_MM - HEADER_MM - FOOTER_MM + GAP_MM) / (cell + LABEL_MM + GAP_MM))
    return columns, rows, cell


def page_pdf(path, symbols, module_mm, version, paper):
    """A one-page vector PDF with `symbols` laid out as the writer lays out a full page."""
    w, h = PAPER[paper]
    columns, rows, cell = grid(module_mm, version, paper)
    m = module_mm * PT_PER_MM
    ops = ["0 g"]
    top = (h - MARGIN_MM - HEADER_MM) * PT_PER_MM
    row_w = columns * (cell + GAP_MM) - GAP_MM
    for i, dark in enumerate(symbols):
        r, c = divmod(i, columns)
        x = (w / 2 - row_w / 2 + c * (cell + GAP_MM) + QUIET * module_mm) * PT_PER_MM
        y = top - (r * (cell + LABEL_MM + GAP_MM) + QUIET * module_mm) * PT_PER_MM
        for row in range(dark.shape[0]):
            col = 0
            while col < dark.shape[1]:
                if dark[row, col]:
                    start = col
                    while col < dark.shape[1] and dark[row, col]:
                        col += 1
                    ops.append(f"{x + start * m:.3f} {y - (row + 1) * m:.3f} {(col - start) * m:.3f} {m:.3f} re")
                else:
                    col += 1
    ops.append("f")
    content = zlib.compress("\n".join(ops).encode())
    W, H = w * PT_PER_MM, h * PT_PER_MM
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {W:.2f} {H:.2f}] /Contents 4 0 R >>".encode(),
            f"<< /Length {len(content)} /Filter /FlateDecode >>\nstream\n".encode() + content + b"\nendstream"]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for k, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += f"{k} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    with open(path, "wb") as f:
        f.write(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--per-cell", type=int, default=10)
    ap.add_argument("--candidates", nargs="+", default=["0.6:10:M", "0.7:10:M", "0.8:10:M"])
    ap.add_argument("--levels", nargs="+", default=["150", "200", "300", "phone"])
    ap.add_argument("--paper", default="a4")
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        for cand in args.candidates:
            mm, version, ec = cand.split(":")
            mm, version = float(mm), int(version)
            columns, rows, _ = grid(mm, version, args.paper)
            n = columns * rows
            cap = capacity(version, ec)
            chunk = (cap - FRAMING) * 2 // 3 // 2 * 2
            coins = (n * chunk - HEADER) // RECORD
            texts = [f"CC9P:0123456789AB:{i + 1}/{n}:" + "".join(rng.choice(BASE45) for _ in range(cap - FRAMING))
                     for i in range(n)]
            symbols = [symbol(t, version, ec) for t in texts]
            pdf = os.path.join(tmp, "p.pdf")
            page_pdf(pdf, symbols, mm, version, args.paper)
            print(f"{cand}: {columns}x{rows} = {n} codes, {chunk} bytes a code, {coins} coins a page",
                  flush=True)
            truth = set(texts)
            for level in args.levels:
                dpi = 300 if level == "phone" else int(level)
                page = cv2.imread(campaign.render(pdf, dpi, os.path.join(tmp, f"r{dpi}"))[0],
                                  cv2.IMREAD_GRAYSCALE)
                ok = {"zxing-cpp": 0, "zbar": 0}
                codes = {"zxing-cpp": 0, "zbar": 0}
                for k in range(args.per_cell):
                    R = campaign.degrader(rng)
                    img, data = campaign.phone(page, R) if level == "phone" else campaign.scan(page, R)
                    path = os.path.join(tmp, f"d{k}.jpg")
                    with open(path, "wb") as f:
                        f.write(data)
                    for name, got in (("zxing-cpp", campaign.zxing_texts(img)),
                                      ("zbar", campaign.zbar_texts(path))):
                        ok[name] += got >= truth
                        codes[name] += len(got & truth)
                for name in ok:
                    print(f"  {level:>5} {name:<10} pages {ok[name]:>3}/{args.per_cell}  "
                          f"codes {codes[name]:>4}/{n * args.per_cell}", flush=True)
                for f in os.listdir(tmp):
                    if f.startswith("r"):
                        os.remove(os.path.join(tmp, f))


if __name__ == "__main__":
    main()
