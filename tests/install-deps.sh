#!/bin/sh
# Installs the Debian packages segexport needs to build and test, when they are
# missing.  As root it runs apt-get; otherwise it names what to install.
pkgs="build-essential pkg-config libjson-c-dev libarchive-dev zlib1g-dev libcmocka-dev libpcre2-dev
      libzstd-dev liblzma-dev
      jq python3 libarchive-tools unzip zstd xz-utils lz4 bzip2 gzip parallel
      man-db groff-base time"
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "segexport: installing Debian packages:$missing" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends $missing >/dev/null || {
        echo "segexport: apt-get install failed for:$missing" >&2; exit 1; }
else
    echo "segexport: missing Debian packages:$missing (run: sudo apt-get install$missing)" >&2
    exit 1
fi
