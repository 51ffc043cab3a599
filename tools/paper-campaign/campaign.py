#!/usr/bin/env python3
"""Print-and-scan campaign for the paper wallets (`pdf` pages and the `png` page).

Writes paper wallets with the codec (the `paper_wallet` example), rasterises each page with a real
PDF renderer (Ghostscript; a `png` page is put on a PDF page first, as printed at 300 dpi),
degrades the pictures as office scans and phone photos do, and reads them with two independent
decoders, zxing-cpp and zbar, and by importing them into a running `cloudcoin-server` (which must
store exactly the coins of the page). Prints the share of pages read per layout, level and
decoder. Then a 500-coin `pdf` export: the PDF itself, degraded pictures of all its pages in
shuffled order, and an office scanner's PDF of those pages (page pictures, no attachment) must
each import exactly the 500 coins.

    python3 tools/paper-campaign/campaign.py            # the long campaign
    python3 tools/paper-campaign/campaign.py --short    # two pictures a cell (.ci/run)

Needs: ghostscript, poppler-utils (pdfinfo), zbar-tools (zbarimg), python3 with numpy, opencv-python-headless, zxing-cpp.
Exits non-zero when a cell is below 95 % or the 500-coin paper wallet does not import exactly.
"""

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import zlib

import cv2
import numpy as np
import zxingcpp

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

LEVELS = [("scan 150 dpi", 150), ("scan 200 dpi", 200), ("scan 300 dpi", 300),
          ("phone photo with shadow", 300)]
DECODERS = ["zxing-cpp", "zbar", "server"]
# The most coins a paper wallet holds (MAX_PAPER_COINS in the codec).
MOST = 500
# The height of a phone photo in pixels (a 12-megapixel camera; `sweep.py` lowers it to see which
# layout keeps a margin).
PHONE_PIXELS = 3000
# Whether the test coins have ANs of mostly zero bytes (`--plain-coins`; the campaign's coins until
# December 2026) instead of random-looking ones as real coins have.
PLAIN_COINS = False


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def write(exe, count, out, size="a4"):
    """A paper wallet of `count` test coins at `out` (`.png`: the png page; else a pdf on `size`),
    their ANs random-looking as real ones are, or mostly zero bytes with `--plain-coins`."""
    run([exe, "write", str(count), out, size] + (["plain"] if PLAIN_COINS else []))


def build(bin_dir):
    """The `paper_wallet` example and the server: from `bin_dir` when given, else built."""
    if bin_dir:
        return os.path.join(bin_dir, "paper_wallet"), os.path.join(bin_dir, "cloudcoin-server")
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    run(["cargo", "build", "-q", "-p", "cloudcoin-codec", "--example", "paper_wallet"], cwd=ROOT)
    run(["cargo", "build", "-q", "-p", "cloudcoin-server"], cwd=ROOT)
    return (os.path.join(target, "debug", "examples", "paper_wallet"),
            os.path.join(target, "debug", "cloudcoin-server"))


def render(pdf, dpi, out_prefix, first=None, last=None):
    """The pages of `pdf` (all, or `first` to `last`) as grey PNGs at `dpi`, by Ghostscript."""
    pages = [f"-dFirstPage={first}", f"-dLastPage={last}"] if first else []
    run(["gs", "-q", "-dNOPAUSE", "-dBATCH", "-dSAFER", "-sDEVICE=pnggray", f"-r{dpi}", *pages,
         "-dTextAlphaBits=4", "-dGraphicsAlphaBits=1", f"-sOutputFile={out_prefix}-%03d.png", pdf])
    d = os.path.dirname(out_prefix)
    base = os.path.basename(out_prefix)
    return sorted(os.path.join(d, f) for f in os.listdir(d) if f.startswith(base + "-"))


def pdf_of_pictures(path, pictures, dpi):
    """A PDF with one picture a page, each `dpi` dots per inch: (kind, width, height, bytes)
    pictures, kind `jpeg` (kept as it is, as scanners write) or `grey` (8-bit, deflated)."""
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", None]
    kids = []
    for kind, w, h, data in pictures:
        n = len(objs) + 1
        kids.append(n)
        pw, ph = w * 72.0 / dpi, h * 72.0 / dpi
        filt = "/DCTDecode" if kind == "jpeg" else "/FlateDecode"
        body = data if kind == "jpeg" else zlib.compress(data)
        content = f"q {pw:.2f} 0 0 {ph:.2f} 0 0 cm /Im0 Do Q".encode()
        objs.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {pw:.2f} {ph:.2f}] "
                    f"/Resources << /XObject << /Im0 {n + 1} 0 R >> >> /Contents {n + 2} 0 R >>".encode())
        objs.append(f"<< /Type /XObject /Subtype /Image /Width {w} /Height {h} /ColorSpace /DeviceGray "
                    f"/BitsPerComponent 8 /Filter {filt} /Length {len(body)} >>\nstream\n".encode()
                    + body + b"\nendstream")
        objs.append(f"<< /Length {len(content)} >>\nstream\n".encode() + content + b"\nendstream")
    objs[1] = f"<< /Type /Pages /Kids [{' '.join(f'{k} 0 R' for k in kids)}] /Count {len(kids)} >>".encode()
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


def scan(img, rng):
    """An office scan: slight rotation and skew, blur, uneven light, noise, JPEG 40-80."""
    h, w = img.shape
    angle = rng.uniform(-7, 7)
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    img = cv2.warpAffine(img, m, (w, h), borderValue=255)
    d = 0.02 * min(w, h)
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = np.float32([[rng.uniform(0, d), rng.uniform(0, d)], [w - rng.uniform(0, d), rng.uniform(0, d)],
                      [w - rng.uniform(0, d), h - rng.uniform(0, d)], [rng.uniform(0, d), h - rng.uniform(0, d)]])
    img = cv2.warpPerspective(img, cv2.getPerspectiveTransform(src, dst), (w, h), borderValue=255)
    img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.4, 1.1))
    light = np.linspace(rng.uniform(0.75, 1.0), rng.uniform(0.9, 1.1), w, dtype=np.float32)[None, :]
    img = np.clip(img.astype(np.float32) * light + rng.normal(0, 6, img.shape), 0, 255).astype(np.uint8)
    return jpeg(img, rng.randint(40, 80))


def phone(img, rng):
    """A phone photo: the page seen 15-30 degrees off straight, a 35-60 % shadow over part of it,
    blur, noise, JPEG."""
    h, w = img.shape
    pad = int(0.08 * max(w, h))
    canvas = np.full((h + 2 * pad, w + 2 * pad), 90, np.uint8)
    canvas[pad:pad + h, pad:pad + w] = img
    H, W = canvas.shape
    tilt = np.radians(rng.uniform(15, 30))
    shrink = (1 - np.cos(tilt)) * 0.5 + 0.06
    src = np.float32([[pad, pad], [pad + w, pad], [pad + w, pad + h], [pad, pad + h]])
    if rng.random() < 0.5:  # the top further away
        dx = shrink * w / 2
        dst = np.float32([[pad + dx, pad + shrink * h * 0.3], [pad + w - dx, pad + shrink * h * 0.3],
                          [pad + w, pad + h], [pad, pad + h]])
    else:  # the right side further away
        dy = shrink * h / 2
        dst = np.float32([[pad, pad], [pad + w - shrink * w * 0.3, pad + dy],
                          [pad + w - shrink * w * 0.3, pad + h - dy], [pad, pad + h]])
    img = cv2.warpPerspective(canvas, cv2.getPerspectiveTransform(src, dst), (W, H), borderValue=90)
    # The shadow of a hand or phone: a soft-edged region darkened by 35-60 %.
    shade = np.ones((H, W), np.float32)
    cx, cy = rng.uniform(0, W), rng.uniform(0, H)
    ang = rng.uniform(0, np.pi)
    # The signed distance from the shadow's edge (a row and a column vector broadcast: a full
    # grid of coordinates would cost seconds a picture).
    xs = (np.arange(W, dtype=np.float32) - cx) * np.float32(np.cos(ang))
    ys = (np.arange(H, dtype=np.float32) - cy) * np.float32(np.sin(ang))
    side = xs[None, :] + ys[:, None]
    depth = rng.uniform(0.35, 0.60)
    shade -= depth * np.clip(side / (0.05 * W) + 0.5, 0, 1)
    img = img.astype(np.float32) * shade
    img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.6, 1.4))
    img = np.clip(img + rng.normal(0, 5, img.shape), 0, 255).astype(np.uint8)
    # A 12-megapixel phone: the page fills about 3,000 pixels of its height.
    scale = PHONE_PIXELS / img.shape[0]
    img = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return jpeg(img, rng.randint(60, 85))


def degrader(rng):
    """A source of randomness for `scan` and `phone`, seeded from `rng`."""
    rs = np.random.RandomState(rng.randint(0, 2**31))

    class R:
        uniform = staticmethod(lambda a, b: rs.uniform(a, b))
        randint = staticmethod(lambda a, b: int(rs.randint(a, b + 1)))
        random = staticmethod(lambda: rs.random_sample())
        normal = staticmethod(lambda m, s, shape: rs.normal(m, s, shape))
    return R


def jpeg(img, quality):
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE), buf.tobytes()


def zxing_texts(img):
    return {r.text for r in zxingcpp.read_barcodes(img, formats=zxingcpp.BarcodeFormat.QRCode,
                                                     try_rotate=True, try_downscale=True)}


def zbar_texts(path):
    p = subprocess.run(["zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", path],
                       capture_output=True, text=True)
    return set(p.stdout.splitlines())


class Server:
    """A `cloudcoin-server` on a loopback port of its own, offline (no RAIDA), without a token,
    in a data directory of its own named `name`."""

    def __init__(self, exe, tmp, name):
        data = os.path.join(tmp, f"{name}-data")
        address = os.path.join(tmp, f"{name}-address")
        self.proc = subprocess.Popen(
            [exe, "--listen", "127.0.0.1:0", "--no-auth", "--data-dir", data, "--address-file", address],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(600):
            if os.path.exists(address):
                break
            if self.proc.poll() is not None:
                raise RuntimeError("the server stopped at start-up")
            time.sleep(0.1)
        with open(address) as f:
            self.base = f"http://{f.readline().strip()}/api/v1"

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=600) as r:
            return json.loads(r.read())["payload"]

    def import_(self, paths):
        """Imports `paths` into the Default wallet: (coins stored or held already, value,
        reasons refused)."""
        task = self.call("POST", "/import", {"name": "Default",
                                             "items": [{"type": "file", "data": p} for p in paths]})
        while task.get("status") == "running":
            time.sleep(0.05)
            task = self.call("GET", f"/tasks/{task['id']}")
        data = task.get("data") or {}
        reasons = [r.get("reason", "") for r in data.get("rejected", [])]
        if task["status"] != "completed":
            reasons.append(task.get("message", ""))
        return data.get("imported", 0) + data.get("already_present", 0), data.get("amount"), reasons

    def stop(self):
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def page_coins(exe, picture):
    """The coins the codec reads from `picture` (a clean rendering of one page)."""
    out = run([exe, "read", picture]).stdout
    coins = set()
    for line in out.splitlines():
        parts = line.split(" ", 3)
        if len(parts) == 4 and parts[2] == "ok":
            coins |= set(parts[3].split(","))
    return coins


def png_on_pdf(png, pdf):
    """The `png` page (300 dpi) on a PDF page of its size, as it is printed."""
    img = cv2.imread(png, cv2.IMREAD_GRAYSCALE)
    h, w = img.shape
    pdf_of_pictures(pdf, [("grey", w, h, img.tobytes())], 300)


def most_on_png(exe, tmp):
    """The most coins whose `png` page shows QR codes (more are said to need a `pdf`)."""
    most = 0
    for n in range(1, 64):
        path = os.path.join(tmp, "probe.png")
        write(exe, n, path)
        if not zxing_texts(cv2.imread(path, cv2.IMREAD_GRAYSCALE)):
            break
        most = n
    return most


def layouts(exe, tmp, short):
    """(name, pdf, page number) of every page layout the writer makes: a `pdf` page of one coin,
    the full first page (the certificate's header) and a full continuation page (slim header,
    more codes) of the largest wallet on A4 and on Letter (the long run adds its last, partly
    filled page), and the `png` page of one coin and of the most coins it carries."""
    out = []
    one = os.path.join(tmp, "w1a4.pdf")
    write(exe, 1, one)
    out.append(("pdf a4, 1 coin", one, 1))
    for size in ("a4", "letter"):
        pdf = os.path.join(tmp, f"w{MOST}{size}.pdf")
        write(exe, MOST, pdf, size)
        out.append((f"pdf {size}, first page", pdf, 1))
        out.append((f"pdf {size}, next page", pdf, 2))
        if not short:
            info = run(["pdfinfo", pdf]).stdout
            pages = int(next(l.split()[1] for l in info.splitlines() if l.startswith("Pages:")))
            out.append((f"pdf {size}, last page", pdf, pages))
    for name, count in (("png, 1 coin", 1), ("png, full page", most_on_png(exe, tmp))):
        png = os.path.join(tmp, f"p{count}.png")
        write(exe, count, png)
        pdf = png[:-4] + ".pdf"
        png_on_pdf(png, pdf)
        out.append((f"{name} ({count} coins)", pdf, 1))
    return out


def campaign(exe, server, tmp, per_cell, rng, report, only_layouts=(), only_levels=(), keep=None):
    failed = False
    for name, pdf, number in layouts(exe, tmp, per_cell <= 2):
        if only_layouts and not any(o in name for o in only_layouts):
            continue
        clean = render(pdf, 300, os.path.join(tmp, "clean"), number, number)[0]
        truth = zxing_texts(cv2.imread(clean, cv2.IMREAD_GRAYSCALE))
        coins = page_coins(exe, clean)
        os.remove(clean)
        if not truth or not coins:
            print(f"{name}: the clean page itself does not read", flush=True)
            failed = True
            continue
        for level, dpi in LEVELS:
            if only_levels and not any(o in level for o in only_levels):
                continue
            page_path = render(pdf, dpi, os.path.join(tmp, "page"), number, number)[0]
            page = cv2.imread(page_path, cv2.IMREAD_GRAYSCALE)
            os.remove(page_path)
            cell = dict.fromkeys(DECODERS, 0)
            for k in range(per_cell):
                R = degrader(rng)
                img, data = phone(page, R) if level.startswith("phone") else scan(page, R)
                path = os.path.join(tmp, f"d{k}.jpg")
                with open(path, "wb") as f:
                    f.write(data)
                read = {"zxing-cpp": zxing_texts(img) >= truth, "zbar": zbar_texts(path) >= truth}
                # The same coins again in one wallet: held already, counted with those stored.
                stored, _, reasons = server.import_([path])
                read["server"] = stored == len(coins) and not reasons
                for decoder, ok in read.items():
                    cell[decoder] += ok
                    if keep and not ok:
                        os.makedirs(keep, exist_ok=True)
                        shutil.copy(path, os.path.join(keep, f"{name}-{level}-{k}-{decoder}.jpg"
                                                        .replace(" ", "_").replace(",", "")))
            for decoder, ok in cell.items():
                share = 100.0 * ok / per_cell
                report.append((name, len(truth), len(coins), level, decoder, ok, per_cell))
                print(f"{name:<24} {len(truth):>2} codes {len(coins):>2} coins  {level:<24} "
                      f"{decoder:<10} {ok:>3}/{per_cell}  {share:5.1f} %", flush=True)
                failed |= share < 95.0
    return failed


def largest(exe, server_exe, tmp, rng, short):
    """A 500-coin `pdf`: the PDF itself, pictures of all its pages shuffled, and an office
    scanner's PDF of them each import exactly the 500 coins."""
    failed = False
    pdf = os.path.join(tmp, "largest.pdf")
    write(exe, MOST, pdf)
    expected = run([exe, "expect", str(MOST)]).stdout.splitlines()

    def check(what, paths):
        nonlocal failed
        start = time.time()
        # A server of its own for each import: every one must store all the coins anew.
        server = Server(server_exe, tmp, f"largest{len(what)}{start}")
        try:
            stored, amount, reasons = server.import_(paths)
        finally:
            server.stop()
        ok = stored == len(expected) and not reasons
        failed |= not ok
        print(f"{MOST}-coin pdf: {what}: {stored} coins stored{'' if ok else ' (expected 500)'}, "
              f"{len(reasons)} refused, {time.time() - start:.0f} s"
              + "".join(f"\n    {r}" for r in reasons[:5]), flush=True)

    check("the PDF itself", [pdf])
    # Pictures of every page: in the short run office scans at 150 and 200 dpi, in the long run
    # also phone photos; one import, the pages in shuffled order.
    levels = LEVELS[:2] if short else LEVELS
    pages = {dpi: render(pdf, dpi, os.path.join(tmp, f"all{dpi}")) for dpi in {d for _, d in levels}}
    count = len(pages[150])
    pictures, scanner = [], []
    for k in range(count):
        level, dpi = levels[k % len(levels)]
        page = cv2.imread(pages[dpi][k], cv2.IMREAD_GRAYSCALE)
        img, data = phone(page, degrader(rng)) if level.startswith("phone") else scan(page, degrader(rng))
        path = os.path.join(tmp, f"all-{k:03d}.jpg")
        with open(path, "wb") as f:
            f.write(data)
        pictures.append(path)
        # The scanner's PDF: every page scanned at 150 dpi, a JPEG picture a page.
        img, data = scan(cv2.imread(pages[150][k], cv2.IMREAD_GRAYSCALE), degrader(rng))
        scanner.append(("jpeg", img.shape[1], img.shape[0], data))
    rng.shuffle(pictures)
    check(f"{count} pictures of its pages, shuffled", pictures)
    scanned = os.path.join(tmp, "scanner.pdf")
    pdf_of_pictures(scanned, scanner, 150)
    check(f"an office scanner's PDF of its {count} pages", [scanned])
    for files in pages.values():
        for f in files:
            os.remove(f)
    return failed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--short", action="store_true", help="two pictures per cell")
    ap.add_argument("--per-cell", type=int, default=12)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--bin-dir", help="take paper_wallet and cloudcoin-server from here, unbuilt")
    ap.add_argument("--no-largest", action="store_true", help="skip the 500-coin wallet")
    ap.add_argument("--only-largest", action="store_true", help="only the 500-coin wallet")
    ap.add_argument("--layout", action="append", default=[],
                    help="only the layouts whose name contains this (repeatable), e.g. 'next page'")
    ap.add_argument("--level", action="append", default=[],
                    help="only the levels whose name contains this (repeatable), e.g. phone")
    ap.add_argument("--keep", help="copy the pictures a decoder misses into this folder")
    ap.add_argument("--plain-coins", action="store_true",
                    help="test coins whose ANs are mostly zero bytes (as before December 2026): "
                         "their codes are more regular than any real page's")
    args = ap.parse_args()
    global PLAIN_COINS
    PLAIN_COINS = args.plain_coins
    for tool in ("gs", "zbarimg", "pdfinfo"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is not installed (apt-get install ghostscript poppler-utils zbar-tools)")
    per_cell = 2 if args.short else args.per_cell
    rng = random.Random(args.seed)
    exe, server_exe = build(args.bin_dir)
    report = []
    with tempfile.TemporaryDirectory() as tmp:
        failed = False
        if not args.only_largest:
            server = Server(server_exe, tmp, "cells")
            try:
                failed = campaign(exe, server, tmp, per_cell, rng, report, args.layout, args.level,
                                  args.keep)
            finally:
                server.stop()
        if not args.no_largest:
            failed |= largest(exe, server_exe, tmp, rng, args.short)
    print("all cells >= 95 %, the 500-coin wallet imports" if not failed else "FAILED: see above")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
