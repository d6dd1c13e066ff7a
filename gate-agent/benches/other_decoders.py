#!/usr/bin/env python3
"""Reference decoders on ../shared/qr-photos for BENCHMARKS.md: zbarimg (zbar-tools) read rate,
and zxing-cpp (PyPI `zxing-cpp`) read rate and decode time. Exact comparison with the expected
text files (bytes). Usage: taskset -c 1 python3 gate-agent/benches/other_decoders.py"""
import os, subprocess, sys, time, statistics

here = os.path.dirname(os.path.abspath(__file__))
photos = os.path.normpath(os.path.join(here, "../../../shared/qr-photos"))
rows = [l.rstrip("\n").split("\t") for l in open(os.path.join(photos, "index.tsv"))][1:]

zbar_ok = 0
for img, txt in ((r[0], r[1]) for r in rows):
    exp = open(os.path.join(photos, txt), "rb").read()
    out = subprocess.run(["zbarimg", "--raw", "-q", os.path.join(photos, img)], capture_output=True).stdout
    # zbarimg ends each symbol with a newline.
    if out == exp + b"\n" or out.startswith(exp + b"\n"):
        zbar_ok += 1
print(f"zbarimg: {zbar_ok}/{len(rows)} ({100*zbar_ok/len(rows):.1f}%)")

try:
    import zxingcpp
    from PIL import Image
except ImportError as e:
    print(f"zxing-cpp: not available ({e})")
    sys.exit(0)
ok, times = 0, []
for img, txt in ((r[0], r[1]) for r in rows):
    exp = open(os.path.join(photos, txt), "rb").read()
    im = Image.open(os.path.join(photos, img)).convert("L")
    t = time.perf_counter()
    res = zxingcpp.read_barcodes(im)
    times.append((time.perf_counter() - t) * 1e3)
    if any(r.bytes == exp or r.text.encode() == exp for r in res):
        ok += 1
times.sort()
print(f"zxing-cpp {zxingcpp.__version__ if hasattr(zxingcpp, '__version__') else ''}: {ok}/{len(rows)} ({100*ok/len(rows):.1f}%), "
      f"median {statistics.median(times):.2f} ms, max {times[-1]:.2f} ms")
