#!/usr/bin/env python3
"""Prints every batch archive under DIR (sorted by path) with Python's own
tarfile/zipfile, member by member, and checks each manifest against the parts:
names and order, record counts, byte sizes and CRC-32s.  Exit 1 on a mismatch."""
import io, json, os, subprocess, sys, tarfile, zipfile, zlib

def open_tar(path):
    if path.endswith(".tar.zst"):
        # tarfile reads zstd only from Python 3.14: decompress with zstd(1).
        data = subprocess.run(["zstd", "-dcq", path], check=True, stdout=subprocess.PIPE).stdout
        return tarfile.open(fileobj=io.BytesIO(data), mode="r:")
    return tarfile.open(path, "r:*")

def members(path):
    if path.endswith(".zip"):
        with zipfile.ZipFile(path) as z:
            for info in z.infolist():
                yield info.filename, z.read(info)
    else:
        with open_tar(path) as t:
            for m in t.getmembers():
                if not m.isfile():
                    raise SystemExit("%s: %s is not a regular file" % (path, m.name))
                yield m.name, t.extractfile(m).read()

def main(root):
    bad = 0
    paths = []
    for d, _, files in os.walk(root):
        for f in files:
            paths.append(os.path.join(d, f))
    for path in sorted(paths):
        rel = os.path.relpath(path, root)
        print("# archive %s" % rel)
        if os.path.basename(path).startswith("."):
            print("!! temporary file left behind")
            bad = 1
            continue
        ms = list(members(path))
        if not ms or ms[0][0] != "manifest.json":
            print("!! manifest.json is not the first member")
            bad = 1
            continue
        manifest = json.loads(ms[0][1])
        want = [(f["name"], f["records"], f["bytes"], f["crc32"]) for f in manifest["files"]]
        got = [(n, d.count(b"\n"), len(d), "%08x" % (zlib.crc32(d) & 0xffffffff)) for n, d in ms[1:]]
        if want != got:
            print("!! manifest files %r != parts %r" % (want, got))
            bad = 1
        if manifest["recordCount"] != sum(g[1] for g in got):
            print("!! recordCount %d != %d" % (manifest["recordCount"], sum(g[1] for g in got)))
            bad = 1
        for name, data in ms:
            print("## %s" % name)
            sys.stdout.write(data.decode("utf-8"))
    return bad

if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
