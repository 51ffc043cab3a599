#!/usr/bin/env python3
"""Print-and-scan campaign for the pdf paper wallet.

Writes paper wallets with the codec (the `paper_wallet` example), rasterises each page with a real
PDF renderer (Ghostscript), degrades the pictures as office scans and phone photos do, and reads
them with two independent decoders, zxing-cpp and zbar, and with the codec's own reader (grouped
by page, checked against the coins written). Prints the share of pages read per layout, level and
decoder.

    python3 tools/paper-campaign/campaign.py            # the long campaign
    python3 tools/paper-campaign/campaign.py --short    # a few pictures per cell (CI)

Needs: ghostscript, zbar-tools (zbarimg), python3 with numpy, opencv-python-headless, zxing-cpp.
"""

import argparse
import os
import random
import subprocess
import sys
import tempfile

import cv2
import numpy as np
import zxingcpp

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# The layouts the writer makes: a page of 1 coin (3 codes), a full page of A4 and of Letter.
LAYOUTS = [("1 coin A4", 1, "a4"), ("full page A4", 9, "a4"), ("full page Letter", 9, "letter")]
LEVELS = ["scan 150 dpi", "scan 200 dpi", "scan 300 dpi", "phone photo with shadow"]


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def tool():
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    run(["cargo", "build", "-q", "-p", "cloudcoin-codec", "--example", "paper_wallet"], cwd=ROOT)
    return os.path.join(target, "debug", "examples", "paper_wallet")


def render(pdf, dpi, out_prefix):
    """Each page of `pdf` as a grey PNG at `dpi`, by Ghostscript."""
    run(["gs", "-q", "-dNOPAUSE", "-dBATCH", "-dSAFER", "-sDEVICE=pnggray", f"-r{dpi}",
         "-dTextAlphaBits=4", "-dGraphicsAlphaBits=1", f"-sOutputFile={out_prefix}-%03d.png", pdf])
    d = os.path.dirname(out_prefix)
    base = os.path.basename(out_prefix)
    return sorted(os.path.join(d, f) for f in os.listdir(d) if f.startswith(base + "-"))


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
    yy, xx = np.mgrid[0:H, 0:W]
    ang = rng.uniform(0, np.pi)
    side = (xx - cx) * np.cos(ang) + (yy - cy) * np.sin(ang)
    depth = rng.uniform(0.35, 0.60)
    shade -= depth * np.clip(side / (0.05 * W) + 0.5, 0, 1)
    img = img.astype(np.float32) * shade
    img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.6, 1.4))
    img = np.clip(img + rng.normal(0, 5, img.shape), 0, 255).astype(np.uint8)
    # A 12-megapixel phone: the page fills about 3,000 pixels of its height.
    scale = 3000 / img.shape[0]
    img = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return jpeg(img, rng.randint(60, 85))


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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--short", action="store_true", help="two pictures per cell")
    ap.add_argument("--per-cell", type=int, default=12)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    per_cell = 2 if args.short else args.per_cell
    rng = random.Random(args.seed)
    np.random.seed(args.seed)
    exe = tool()
    results = {}
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        for name, count, size in LAYOUTS:
            pdf = os.path.join(tmp, f"w{count}{size}.pdf")
            run([exe, "write", str(count), pdf, size])
            expected = set(f"{a}:{b}" for a, b in (l.split() for l in run([exe, "expect", str(count)]).stdout.splitlines()))
            for level in LEVELS:
                dpi = {"scan 150 dpi": 150, "scan 200 dpi": 200}.get(level, 300)
                pages = render(pdf, dpi, os.path.join(tmp, f"r{count}{size}{dpi}"))
                page = cv2.imread(pages[0], cv2.IMREAD_GRAYSCALE)
                truth = zxing_texts(page)
                n = len(truth)
                cell = {"zxing-cpp": 0, "zbar": 0, "codec": 0}
                for k in range(per_cell):
                    rs = np.random.RandomState(rng.randint(0, 2**31))
                    class R:  # random.Random-like over numpy, for the degradation
                        uniform = staticmethod(lambda a, b: rs.uniform(a, b))
                        randint = staticmethod(lambda a, b: int(rs.randint(a, b + 1)))
                        random = staticmethod(lambda: rs.random_sample())
                        normal = staticmethod(lambda m, s, shape: rs.normal(m, s, shape))
                    img, data = phone(page, R) if level.startswith("phone") else scan(page, R)
                    path = os.path.join(tmp, f"d{count}{size}{dpi}{k}.jpg")
                    with open(path, "wb") as f:
                        f.write(data)
                    cell["zxing-cpp"] += zxing_texts(img) >= truth
                    cell["zbar"] += zbar_texts(path) >= truth
                    out = subprocess.run([exe, "read", path], capture_output=True, text=True).stdout
                    got = set()
                    for line in out.splitlines():
                        parts = line.split(" ", 3)
                        if len(parts) == 4 and parts[2] == "ok":
                            got |= set(parts[3].split(","))
                    cell["codec"] += got == expected if count <= 9 else got <= expected and len(got) > 0
                for decoder, ok in cell.items():
                    share = 100.0 * ok / per_cell
                    results[(name, level, decoder)] = share
                    print(f"{name:<18} {n:>2} codes  {level:<24} {decoder:<10} {ok:>3}/{per_cell}  {share:5.1f} %", flush=True)
                    failed |= share < 95.0
    print("all cells >= 95 %" if not failed else "some cells below 95 %")
    return 1 if failed and not args.short else 0


if __name__ == "__main__":
    sys.exit(main())
