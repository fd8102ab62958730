#!/usr/bin/env bash
# Release build of spawnscope whose binary runs on glibc 2.17 (RHEL/CentOS 7
# and the HPC clusters still on it), then the symbol check.
#
#   scripts/build-glibc217.sh            -> target-glibc217/x86_64-unknown-linux-gnu/release/spawnscope
#
# How: cargo-zigbuild links with zig's glibc stubs for the version named in
# the target triple (x86_64-unknown-linux-gnu.2.17), so the binary asks only
# for symbols that glibc 2.17 has. zig and cargo-zigbuild come from PyPI
# (packages `ziglang` and `cargo-zigbuild`) into a private virtualenv; no
# other download. Environment:
#   GLIBC=2.17                  the oldest glibc to support
#   ARCH=x86_64                 aarch64 should work the same way (not tried)
#   CARGO_TARGET_DIR=...        default: target-glibc217
#   ZIG_VENV=...                default: $CARGO_TARGET_DIR/zig-venv
set -euo pipefail
cd "$(dirname "$0")/.."

GLIBC="${GLIBC:-2.17}"
ARCH="${ARCH:-x86_64}"
TRIPLE="$ARCH-unknown-linux-gnu"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target-glibc217}"
VENV="${ZIG_VENV:-$CARGO_TARGET_DIR/zig-venv}"
# Versions this script was last run with (see docs/interop.md).
ZIGLANG_VERSION="${ZIGLANG_VERSION:-0.15.2}"
ZIGBUILD_VERSION="${ZIGBUILD_VERSION:-0.24.1}"

if [ ! -x "$VENV/bin/cargo-zigbuild" ] || [ ! -x "$VENV/bin/python" ]; then
  echo "build-glibc217: installing ziglang $ZIGLANG_VERSION and cargo-zigbuild $ZIGBUILD_VERSION into $VENV" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet "ziglang==$ZIGLANG_VERSION" "cargo-zigbuild==$ZIGBUILD_VERSION"
fi
export PATH="$VENV/bin:$PATH"
# cargo-zigbuild finds zig through `python -m ziglang` when no `zig` is on PATH.
"$VENV/bin/python" -m ziglang version >/dev/null

if command -v rustup >/dev/null 2>&1; then
  rustup target list --installed | grep -qx "$TRIPLE" || rustup target add "$TRIPLE"
fi

echo "build-glibc217: cargo zigbuild --release -p spawnscope --target $TRIPLE.$GLIBC" >&2
cargo zigbuild --release --locked -p spawnscope --target "$TRIPLE.$GLIBC"

bin="$CARGO_TARGET_DIR/$TRIPLE/release/spawnscope"
"$(dirname "$0")/check-glibc-symbols.sh" "$bin" "$GLIBC"
echo "$bin"
