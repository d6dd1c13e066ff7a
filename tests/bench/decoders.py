#!/usr/bin/env python3
"""Side-by-side reference decoders on the same images as the gate's own benchmark.

Expected texts are UTF-8 files; a decoder's text (after its own ECI / Shift_JIS handling) must
equal them exactly, trailing newlines included. Measures zbar (through pyzbar, the library behind `zbarimg`) and zxing-cpp (PyPI `zxing-cpp`)
on ../shared/qr-photos: images read with exactly the expected text, and the median time of the
decode call alone (image loading excluded), single thread. Prints Markdown table rows.

    python3 tests/bench/decoders.py [PHOTOS_DIR]
"""
import os
import statistics
import sys
import time

from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
PHOTOS = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "..", "shared", "qr-photos")


def load_index():
    rows = []
    with open(os.path.join(PHOTOS, "index.tsv"), encoding="utf-8") as f:
        next(f)
        for line in f:
            path, text_file, *_ = line.rstrip("\n").split("\t")
            with open(os.path.join(PHOTOS, text_file), "rb") as t:
                expected = t.read().decode("utf-8")
            rows.append((path, expected))
    return rows


def decoders():
    out = {}
    try:
        from pyzbar import pyzbar

        def text(b):
            # zbar hands back UTF-8 (it converts Shift_JIS itself); keep a fallback.
            for enc in ("utf-8", "shift_jis"):
                try:
                    return b.decode(enc)
                except UnicodeDecodeError:
                    pass
            return None

        def zbar(img):
            return [text(r.data) for r in pyzbar.decode(img, symbols=[pyzbar.ZBarSymbol.QRCODE])]

        out["zbar 0.23 (pyzbar)"] = zbar
    except Exception as e:  # pragma: no cover - reported, not hidden
        print(f"<!-- zbar unavailable: {e} -->")
    try:
        import zxingcpp

        def zxing(img):
            return [r.text for r in zxingcpp.read_barcodes(img, formats=zxingcpp.BarcodeFormat.QRCode)]

        out["zxing-cpp (PyPI)"] = zxing
    except Exception as e:  # pragma: no cover
        print(f"<!-- zxing-cpp unavailable: {e} -->")
    return out


def main():
    rows = load_index()
    images = [(p, exp, Image.open(os.path.join(PHOTOS, p)).convert("L")) for p, exp in rows]
    print(f"| decoder | read exactly (of {len(images)}) | median decode | p95 decode | max decode |")
    print("|---|---|---|---|---|")
    for name, dec in decoders().items():
        ok, times = 0, []
        for _path, expected, img in images:
            t0 = time.perf_counter()
            try:
                found = dec(img)
            except Exception:
                found = []
            times.append((time.perf_counter() - t0) * 1000)
            if expected in found:
                ok += 1
        times.sort()
        p95 = times[int(len(times) * 0.95) - 1]
        print(
            f"| {name} | {ok} ({100 * ok / len(images):.0f}%) | {statistics.median(times):.2f} ms "
            f"| {p95:.2f} ms | {times[-1]:.2f} ms |"
        )


if __name__ == "__main__":
    main()
