#!/usr/bin/env bash
# Builds CAF 0.17.6 with ThreadSanitizer into $1 (default build-tsan/caf), from Debian's
# source package: Debian's libcaf is not instrumented, so TSan would report false races
# inside CAF for any program (see ../shared/design/architecture.md).
set -euo pipefail
prefix=$(realpath -m "${1:-build-tsan/caf}")
[ -f "$prefix/lib/libcaf_core.so" ] && exit 0
sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
if ! grep -rqs "deb-src" /etc/apt/sources.list /etc/apt/sources.list.d/; then
  printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' |
    $sudo tee /etc/apt/sources.list.d/otkv-deb-src.sources >/dev/null
  $sudo apt-get update -qq
fi
work="$prefix.src"
mkdir -p "$work" && cd "$work"
# The Debian patch tarball may be missing upstream (404); the orig tarball is what we need.
ls actor-framework_0.17.6.orig.tar.gz >/dev/null 2>&1 ||
  apt-get source --download-only actor-framework >/dev/null 2>&1 || true
[ -f actor-framework_0.17.6.orig.tar.gz ] || { echo "could not fetch the CAF source" >&2; exit 1; }
rm -rf src && mkdir src && tar xzf actor-framework_0.17.6.orig.tar.gz -C src --strip-components=1
cmake -S src -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS="-fsanitize=thread -include limits" -DCMAKE_INSTALL_PREFIX="$prefix" \
  -DCAF_NO_EXAMPLES=ON -DCAF_NO_UNIT_TESTS=ON -DCAF_NO_OPENSSL=ON -DCAF_NO_TOOLS=ON \
  -DCAF_NO_PYTHON=ON -DCAF_NO_OPENCL=ON >/dev/null
cmake --build build -j "$(nproc)"
cmake --install build >/dev/null
echo "CAF with ThreadSanitizer installed in $prefix"
