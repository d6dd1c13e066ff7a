#!/usr/bin/env python3
"""Runs every og-tickets benchmark and rewrites the generated section of BENCHMARKS.md.

    python3 tests/bench/run_all.py [--quick]

Steps (each one's command is printed into the report next to its figures):
  1. `cargo bench --workspace` (criterion groups of every crate, plus bench binaries);
  2. reference QR decoders (zbar, zxing-cpp) on ../shared/qr-photos: tests/bench/decoders.py;
  3. catalogue requests per second with `wrk` against a release issuer on 127.0.0.1, if wrk is installed.
Criterion medians are read from target/criterion/**/new/estimates.json. The section between
`<!-- generated:begin -->` and `<!-- generated:end -->` in BENCHMARKS.md is replaced; hand-written
analysis outside it is kept.
"""
import glob
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
QUICK = "--quick" in sys.argv
BEGIN, END = "<!-- generated:begin -->", "<!-- generated:end -->"


def run(cmd, **kw):
    print("+", " ".join(cmd), flush=True)
    return subprocess.run(cmd, cwd=ROOT, check=True, text=True, capture_output=True, **kw).stdout


def machine_note():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{os.cpu_count()} vCPU ({cpu}), {platform.system()} {platform.machine()}, {time.strftime('%Y-%m-%d')}"


def fmt_ns(ns):
    if ns < 1e3:
        return f"{ns:.1f} ns"
    if ns < 1e6:
        return f"{ns / 1e3:.2f} us"
    if ns < 1e9:
        return f"{ns / 1e6:.2f} ms"
    return f"{ns / 1e9:.2f} s"


def criterion_rows():
    rows = []
    for path in sorted(glob.glob(os.path.join(ROOT, "target", "criterion", "**", "new", "estimates.json"), recursive=True)):
        bench_dir = os.path.dirname(os.path.dirname(path))
        name = os.path.relpath(bench_dir, os.path.join(ROOT, "target", "criterion"))
        if name.startswith("report") or "/report" in name:
            continue
        with open(path) as f:
            est = json.load(f)
        median = est["median"]["point_estimate"]
        lo, hi = est["median"]["confidence_interval"]["lower_bound"], est["median"]["confidence_interval"]["upper_bound"]
        extra = ""
        bench_json = os.path.join(os.path.dirname(path), "benchmark.json")
        if os.path.exists(bench_json):
            with open(bench_json) as f:
                b = json.load(f)
            thr = b.get("throughput") or {}
            if "Elements" in thr and median > 0:
                extra = f"{thr['Elements'] / (median / 1e9):,.0f} elements/s"
            elif "Bytes" in thr and median > 0:
                extra = f"{thr['Bytes'] / (median / 1e9) / 1e6:,.1f} MB/s"
        rows.append(f"| `{name}` | {fmt_ns(median)} | {fmt_ns(lo)} .. {fmt_ns(hi)} | {extra} |")
    return rows


def wrk_catalogue():
    if not shutil.which("wrk"):
        return ["(wrk not installed: `apt-get install wrk` to measure catalogue requests per second)"]
    run(["cargo", "build", "--release", "-p", "og-issuer", "--bin", "issuer"])
    data = tempfile.mkdtemp()
    proc = subprocess.Popen(
        [os.path.join(ROOT, "target", "release", "issuer"), "--data-dir", data, "serve", "--bind", "127.0.0.1:0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        url = None
        for line in proc.stdout:
            m = re.search(r"listening on (\S+)", line)
            if m:
                url = m.group(1)
                break
        out = []
        for path in ["/api/v1/events", "/"]:
            cmd = ["wrk", "-t2", "-c64", "-d5s" if QUICK else "-d15s", url + path]
            text = run(cmd)
            rps = re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)
            lat = re.search(r"Latency\s+(\S+)", text).group(1)
            out.append(f"| `{' '.join(cmd[:-1])} <issuer>{path}` | {float(rps):,.0f} req/s | mean latency {lat} |")
        return ["| command | throughput | note |", "|---|---|---|"] + out
    finally:
        proc.kill()
        shutil.rmtree(data, ignore_errors=True)


def decoder_lines(bench_out):
    """The gate decoder bench's report: from its `# og-gate decoder bench` title to its last
    `##` heading or `-` item line, as Markdown (its title demoted under ours)."""
    lines, inside = [], False
    for line in bench_out.splitlines():
        if line.startswith("# og-gate decoder bench"):
            inside = True
            continue
        if inside:
            if line.startswith("## ") or line.startswith("- ") or line.startswith("  - "):
                lines.append("#" + line if line.startswith("## ") else line)
            elif line.strip():
                break
    return lines


def main():
    bench_cmd = ["cargo", "bench", "--workspace"]
    if QUICK:
        bench_cmd += ["--", "--warm-up-time", "1", "--measurement-time", "3"]
    bench_out = run(bench_cmd)
    # Bench binaries (harness = false, not criterion) print Markdown rows starting with '|'.
    custom = [l for l in bench_out.splitlines() if l.startswith("|")]
    gate = decoder_lines(bench_out)
    decoders = run([sys.executable, os.path.join("tests", "bench", "decoders.py")]).splitlines()
    section = [
        BEGIN,
        "## Generated by `python3 tests/bench/run_all.py`" + (" --quick" if QUICK else ""),
        "",
        f"Machine: {machine_note()}.",
        "",
        f"### Criterion medians (`{' '.join(bench_cmd)}`)",
        "",
        "| benchmark | median | 95% interval | throughput |",
        "|---|---|---|---|",
        *criterion_rows(),
        "",
    ]
    if custom:
        section += ["### Bench binaries (same command)", "", *custom, ""]
    if gate:
        section += ["### Gate decoder bench (same command, `gate-agent/benches/decoders.rs`)", "", *gate, ""]
    section += [
        "### Reference decoders on ../shared/qr-photos (`python3 tests/bench/decoders.py`)",
        "",
        *decoders,
        "",
        "### Catalogue under load (`wrk`)",
        "",
        *wrk_catalogue(),
        END,
    ]
    path = os.path.join(ROOT, "BENCHMARKS.md")
    text = open(path).read() if os.path.exists(path) else "# Benchmarks\n"
    if BEGIN in text and END in text:
        text = text[: text.index(BEGIN)] + "\n".join(section) + text[text.index(END) + len(END):]
    else:
        text = text.rstrip("\n") + "\n\n" + "\n".join(section) + "\n"
    with open(path, "w") as f:
        f.write(text)
    print("\n".join(section))


if __name__ == "__main__":
    main()
