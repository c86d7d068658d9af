#!/usr/bin/env bash
# Fetches Debian's OpenBLAS (libopenblas0-pthread) into bench/work/openblas without installing it, for
# hosts whose /usr/bin/python3 numpy is linked to the reference BLAS. bench/gemm.ts puts the unpacked
# library first on LD_LIBRARY_PATH of the anchor subprocess only. Needs apt-get (no root install).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=bench/work/openblas
mkdir -p "$dir"
(cd "$dir" && apt-get download libopenblas0-pthread)
dpkg-deb -x "$dir"/libopenblas0-pthread_*.deb "$dir/root"
ls "$dir"/root/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3
