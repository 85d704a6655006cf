"""Peak memory of cleaning one uploaded photo (not a test): bench/upload_memory.py.

For each case a fresh child process sets up Django (the product's settings), reads the file, and
runs `photo_clean` on it once, as a web worker does for an upload. It reports the process's peak
resident memory before the call (Python, Django, Pillow and the file's bytes: VmRSS), its peak
during the call (VmHWM, reset just before), the difference, and tracemalloc's peak for the call
(Python allocations only: Pillow's pixel buffers are C memory that tracemalloc does not see).

Cases: a JPEG at settings.UPLOAD_MAX_PIXELS (decoded at 1/2 scale), the largest JPEG decoded at
full size (the worst JPEG), a 12-megapixel phone JPEG, the largest accepted PNG and WebP (RGBA,
square: the widest pixel and the largest stored copy), and refused files (a PNG whose header
claims 30000 x 30000, a 120-megapixel PNG of a few hundred KB, a 20-megapixel PNG) to show that a
refusal costs nothing. Goal: under 150 MB for the worst accepted photo.

    .venv/bin/python bench/upload_memory.py [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import struct
import subprocess
import sys
import tempfile
import time
import tracemalloc
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL_MB = 150


def _django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mesoclinic.settings")
    os.environ.pop("DATABASE_URL", None)  # no database is touched
    import django

    django.setup()


def _status_mb(field: str) -> float:
    """VmRSS (now) or VmHWM (peak) of this process, from /proc (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024  # kB
    raise RuntimeError(f"no {field} in /proc/self/status")


def _reset_peak() -> None:
    # "5" resets the peak resident size (VmHWM) to the current one. ru_maxrss cannot be used: Linux
    # carries it over from the parent through fork and exec.
    Path("/proc/self/clear_refs").write_text("5")


def child(path: str) -> None:
    _django()
    from treatments.clinical.errors import ClinicalError
    from treatments.clinical.services.images import photo_clean

    raw = Path(path).read_bytes()
    _reset_peak()
    before = _status_mb("VmRSS")
    tracemalloc.start()
    started = time.perf_counter()
    try:
        clean = photo_clean(raw)
        outcome = f"stored {clean.width}x{clean.height} JPEG, {len(clean.content)} bytes"
    except ClinicalError as err:
        outcome = f"refused: {err.message}"
    seconds = time.perf_counter() - started
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    after = _status_mb("VmHWM")
    print(
        json.dumps(
            {
                "file_bytes": len(raw),
                "rss_before_mb": round(before, 1),
                "rss_peak_mb": round(after, 1),
                "rss_added_mb": round(after - before, 1),
                "tracemalloc_peak_mb": round(traced_peak / 2**20, 1),
                "seconds": round(seconds, 2),
                "outcome": outcome,
            }
        )
    )


def _size_at(pixels: int) -> tuple[int, int]:
    """The 3:2 frame with the most pixels not over `pixels`."""
    height = int(math.sqrt(pixels * 2 / 3))
    return pixels // height, height


def _photo_like(size: tuple[int, int], mode: str):
    """Gradients with a little noise: compresses like a photo, decodes like any image."""
    from PIL import Image

    width, height = size
    small = Image.effect_noise((max(1, width // 8), max(1, height // 8)), 40).convert("L")
    base = Image.merge(
        "RGB",
        (
            Image.linear_gradient("L").resize(small.size),
            small,
            Image.radial_gradient("L").resize(small.size),
        ),
    ).resize(size, Image.Resampling.BILINEAR)
    return base.convert(mode)


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose IHDR claims width x height, with one tiny IDAT: a few dozen bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def _square_at(pixels: int) -> tuple[int, int]:
    side = int(math.sqrt(pixels))
    return side, side


def make_cases(folder: Path, limit: int) -> list[tuple[str, Path]]:
    from PIL import Image

    from treatments.clinical.services.images import DECODE_MAX_PIXELS

    cases = []

    def add(label: str, name: str, image, fmt: str, **options) -> None:
        path = folder / name
        image.save(path, format=fmt, **options)
        cases.append((f"{label} {image.width}x{image.height}", path))

    # The largest accepted of each kind. Square is the worst shape: the stored copy is 3000x3000.
    add("JPEG at UPLOAD_MAX_PIXELS", "limit.jpg", _photo_like(_size_at(limit), "RGB"), "JPEG")
    jpeg_full = _square_at(DECODE_MAX_PIXELS["JPEG"])
    add("JPEG decoded whole, largest", "full.jpg", _photo_like(jpeg_full, "RGB"), "JPEG")
    add("JPEG phone photo (12 MP)", "phone.jpg", _photo_like((4032, 3024), "RGB"), "JPEG")
    png = _square_at(DECODE_MAX_PIXELS["PNG"])
    smooth = Image.linear_gradient("L").resize(png).convert("RGBA")
    add("PNG RGBA, largest", "limit.png", smooth, "PNG", compress_level=9)
    webp = _square_at(DECODE_MAX_PIXELS["WEBP"])
    add("WebP RGBA, largest", "limit.webp", _photo_like(webp, "RGBA"), "WEBP", quality=80)
    # Refused: only the header is read.
    bomb = folder / "header.png"
    bomb.write_bytes(_png_header_only(30000, 30000))
    cases.append(("PNG header only 30000x30000", bomb))
    add("PNG", "wide.png", Image.new("RGB", (12000, 10000), (200, 180, 170)), "PNG")
    add("PNG over its decode limit", "big.png", Image.new("RGB", (5000, 4000)), "PNG")
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    _django()
    from django.conf import settings

    limit = settings.UPLOAD_MAX_PIXELS
    print(
        f"UPLOAD_MAX_PIXELS = {limit:,}; UPLOAD_MAX_BYTES = {settings.UPLOAD_MAX_BYTES:,}; "
        f"Python {sys.version.split()[0]}"
    )
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, path in make_cases(Path(tmp), limit):
            out = subprocess.run(
                [sys.executable, __file__, "--child", str(path)],
                check=True,
                capture_output=True,
                text=True,
                cwd=ROOT,
            )
            figures = json.loads(out.stdout.strip().splitlines()[-1])
            results.append({"case": label, **figures})
    header = f"{'case':44} {'file':>9} {'before':>7} {'peak':>7} {'added':>7} {'py':>6} {'s':>5}"
    print(header)
    for r in results:
        print(
            f"{r['case']:44} {r['file_bytes'] / 2**20:8.1f}M {r['rss_before_mb']:6.0f}M "
            f"{r['rss_peak_mb']:6.0f}M {r['rss_added_mb']:6.0f}M "
            f"{r['tracemalloc_peak_mb']:5.1f}M {r['seconds']:5.2f}  {r['outcome']}"
        )
    accepted = [r for r in results if r["outcome"].startswith("stored")]
    worst = max(accepted, key=lambda r: r["rss_added_mb"])
    verdict = "met" if worst["rss_added_mb"] < GOAL_MB else "NOT MET"
    print(
        f"worst accepted: {worst['case']}: the photo costs {worst['rss_added_mb']:.0f} MB "
        f"(goal under {GOAL_MB} MB: {verdict}); the process peaks at {worst['rss_peak_mb']:.0f} MB "
        f"with the {worst['rss_before_mb']:.0f} MB Django process it runs in"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
