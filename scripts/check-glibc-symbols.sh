#!/usr/bin/env bash
# Checks that an ELF binary needs no GLIBC_ symbol version newer than the
# given one (default 2.17), and prints the newest it needs.
#
#   scripts/check-glibc-symbols.sh BINARY [MAX_VERSION]
#
# Exit 0: fine; 1: a newer symbol is required (each is listed); 2: usage error.
# Reads the dynamic symbol table with objdump -T (binutils), or readelf
# --dyn-syms when objdump is missing.
set -euo pipefail

bin="${1:-}"
max="${2:-2.17}"
if [ -z "$bin" ] || [ ! -f "$bin" ]; then
  echo "usage: $0 BINARY [MAX_GLIBC_VERSION]   (binary ${bin:-not given}: no such file)" >&2
  exit 2
fi
if ! [[ "$max" =~ ^[0-9]+\.[0-9]+(\.[0-9]+)?$ ]]; then
  echo "$0: bad version '$max' (expected like 2.17)" >&2
  exit 2
fi

if command -v objdump >/dev/null 2>&1; then
  syms="$(objdump -T "$bin" 2>/dev/null)" || { echo "$0: $bin: not an ELF binary objdump can read" >&2; exit 2; }
elif command -v readelf >/dev/null 2>&1; then
  syms="$(readelf --dyn-syms --wide "$bin" 2>/dev/null)" || { echo "$0: $bin: not an ELF binary readelf can read" >&2; exit 2; }
else
  echo "$0: needs objdump or readelf (binutils)" >&2
  exit 2
fi

# Each needed symbol with its version: "GLIBC_2.14 memcpy".
needed="$(printf '%s\n' "$syms" | grep -oE 'GLIBC_[0-9]+\.[0-9]+(\.[0-9]+)?\)?[[:space:]]+[^[:space:]]+$' \
  | sed -E 's/\)//; s/[[:space:]]+/ /' | sort -u || true)"
if [ -z "$needed" ]; then
  if printf '%s\n' "$syms" | grep -q 'GLIBC_'; then
    needed="$(printf '%s\n' "$syms" | grep -oE 'GLIBC_[0-9.]+' | sed 's/$/ ?/' | sort -u)"
  else
    echo "$bin: no GLIBC_ symbol versions (static or not glibc): fine"
    exit 0
  fi
fi

newer_than() { # is $1 > $2 as versions?
  [ "$1" != "$2" ] && [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | tail -n1)" = "$1" ]
}

newest=""
bad=0
while read -r ver sym; do
  v="${ver#GLIBC_}"
  if [ -z "$newest" ] || newer_than "$v" "$newest"; then newest="$v"; fi
  if newer_than "$v" "$max"; then
    echo "needs $sym@GLIBC_$v (newer than $max)"
    bad=1
  fi
done <<< "$needed"

if [ "$bad" -ne 0 ]; then
  echo "$bin: FAIL: requires glibc $newest > $max"
  exit 1
fi
echo "$bin: ok: newest glibc symbol version needed is $newest (<= $max)"
