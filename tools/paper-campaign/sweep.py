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
# How far every second row of codes is moved right, as a share of the distance between rows.
BRICK = 0.0


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


def grid(module_mm, version, paper, quiet=QUIET, header_mm=HEADER_MM, footer_mm=FOOTER_MM):
    w, h = PAPER[paper]
    cell = (17 + 4 * version + 2 * quiet) * module_mm
    columns = int((w - 2 * (MARGIN_MM + 4) + GAP_MM) / (cell + GAP_MM))
    rows = int((h - 2 * MARGIN_MM - header_mm - footer_mm + GAP_MM) / (cell + LABEL_MM + GAP_MM))
    return columns, rows, cell


def page_pdf(path, symbols, module_mm, version, paper, quiet=QUIET, header_mm=HEADER_MM,
             footer_mm=FOOTER_MM):
    """A one-page vector PDF with `symbols` laid out as the writer lays out a full page."""
    w, h = PAPER[paper]
    columns, rows, cell = grid(module_mm, version, paper, quiet, header_mm, footer_mm)
    m = module_mm * PT_PER_MM
    ops = ["0 g"]
    top = (h - MARGIN_MM - header_mm) * PT_PER_MM
    # A brick layout moves every second row right, so that no finder pattern lines up with one of
    # the code above or below it.
    shift = BRICK * (cell + LABEL_MM + GAP_MM) if rows > 1 else 0.0
    row_w = columns * (cell + GAP_MM) - GAP_MM + shift
    for i, dark in enumerate(symbols):
        r, c = divmod(i, columns)
        x = (w / 2 - row_w / 2 + c * (cell + GAP_MM) + (r % 2) * shift + quiet * module_mm) * PT_PER_MM
        y = top - (r * (cell + LABEL_MM + GAP_MM) + quiet * module_mm) * PT_PER_MM
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


def jitter(img, rng):
    """A clean 300 dpi picture turned by up to 3 degrees and scaled by 0.9 to 1.1 (PNG): no
    noise or blur, so what a decoder misses here it misses for the geometry alone (zbar's
    misses on pages of several codes move with a one-pixel shift)."""
    h, w = img.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), rng.uniform(-3, 3), rng.uniform(0.9, 1.1))
    img = cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=255)
    ok, buf = cv2.imencode(".png", img)
    assert ok
    return img, buf.tobytes()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--per-cell", type=int, default=10)
    ap.add_argument("--candidates", nargs="+", default=["0.6:10:M", "0.7:10:M", "0.8:10:M"])
    ap.add_argument("--levels", nargs="+", default=["150", "200", "300", "phone"])
    ap.add_argument("--paper", default="a4")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--header-mm", type=float, default=HEADER_MM,
                    help="room above the codes (the writer's first page; continuation pages less)")
    ap.add_argument("--footer-mm", type=float, default=FOOTER_MM)
    ap.add_argument("--phone-pixels", type=int, default=campaign.PHONE_PIXELS,
                    help="height of a phone photo (lower: a harder test, to compare margins)")
    ap.add_argument("--brick", type=float, default=0.0,
                    help="move every second row right by this share of the row pitch")
    ap.add_argument("--fresh", type=int, default=0,
                    help="new codes (fresh random text) every this many pictures: a decoder's "
                         "misses depend on a symbol's content as well as on the picture")
    ap.add_argument("--keep", help="copy the pictures a decoder misses a code of into this folder")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    campaign.PHONE_PIXELS = args.phone_pixels
    global BRICK
    BRICK = args.brick
    with tempfile.TemporaryDirectory() as tmp:
        for cand in args.candidates:
            mm, version, ec, *rest = cand.split(":")
            mm, version = float(mm), int(version)
            quiet = int(rest[0]) if rest else QUIET
            room = (quiet, args.header_mm, args.footer_mm)
            columns, rows, _ = grid(mm, version, args.paper, *room)
            n = columns * rows
            cap = capacity(version, ec)
            chunk = (cap - FRAMING) * 2 // 3 // 2 * 2
            coins = (n * chunk - HEADER) // RECORD
            pdf = os.path.join(tmp, "p.pdf")

            def new_page():
                """Codes of fresh random text, laid out and written as `pdf`: their texts."""
                texts = [f"CC9P:0123456789AB:{i + 1}/{n}:"
                         + "".join(rng.choice(BASE45) for _ in range(cap - FRAMING)) for i in range(n)]
                page_pdf(pdf, [symbol(t, version, ec) for t in texts], mm, version, args.paper, *room)
                return set(texts)

            def rendered(dpi):
                path = campaign.render(pdf, dpi, os.path.join(tmp, f"r{dpi}"))[0]
                page = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
                os.remove(path)
                return page

            truth = new_page()
            print(f"{cand}: {columns}x{rows} = {n} codes, {chunk} bytes a code, {coins} coins a page",
                  flush=True)
            for level in args.levels:
                dpi = 300 if level in ("phone", "jitter") else int(level)
                page = rendered(dpi)
                ok = {"zxing-cpp": 0, "zbar": 0}
                codes = {"zxing-cpp": 0, "zbar": 0}
                for k in range(args.per_cell):
                    if args.fresh and k and k % args.fresh == 0:
                        truth = new_page()
                        page = rendered(dpi)
                    R = campaign.degrader(rng)
                    if level == "jitter":
                        img, data = jitter(page, R)
                    else:
                        img, data = campaign.phone(page, R) if level == "phone" else campaign.scan(page, R)
                    path = os.path.join(tmp, f"d{k}.jpg")
                    with open(path, "wb") as f:
                        f.write(data)
                    for name, got in (("zxing-cpp", campaign.zxing_texts(img)),
                                      ("zbar", campaign.zbar_texts(path))):
                        ok[name] += got >= truth
                        codes[name] += len(got & truth)
                        if args.keep and not got >= truth:
                            os.makedirs(args.keep, exist_ok=True)
                            missed = sorted(int(t.split(":")[2].split("/")[0]) for t in truth - got)
                            keep = f"{cand.replace(':', '_')}-{level}-{k}-{name}-missed-{'_'.join(map(str, missed))}.jpg"
                            with open(os.path.join(args.keep, keep), "wb") as f:
                                f.write(data)
                for name in ok:
                    print(f"  {level:>5} {name:<10} pages {ok[name]:>3}/{args.per_cell}  "
                          f"codes {codes[name]:>4}/{n * args.per_cell}", flush=True)


if __name__ == "__main__":
    main()
