# Shared by scripts/stack and scripts/test: Debian packages and the build.
# shellcheck shell=bash

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${CHATALOT_BUILD_DIR:-$ROOT/build}

# Everything the build, the stack and the tests use, as Debian 12 packages.
PACKAGES=(
  g++ cmake make pkg-config curl ca-certificates
  libfcgi-dev rapidjson-dev libssl-dev libpq-dev libhiredis-dev libsodium-dev libargon2-dev
  libgtest-dev libbenchmark-dev libcpp-httplib-dev
  nginx postgresql-15 redis-server
  iproute2 pgbouncer
  clang-14 libclang-rt-14-dev
)

log() { printf '%s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

ensure_packages() {
  local missing=() p
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" -eq 0 ] || die "missing Debian packages: ${missing[*]} (run as root, or install them)"
  log "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  # policy-rc.d keeps the packages' own services (nginx on :80, a system Redis) from starting.
  local policy=/usr/sbin/policy-rc.d created=0
  if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod +x "$policy"; created=1; fi
  apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null >/dev/null
  local rc=$?
  [ $created -eq 1 ] && rm -f "$policy"
  [ $rc -eq 0 ] || die "apt-get install failed"
}

build() {
  if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
    # CHATALOT_CMAKE_ARGS: extra options for a new build directory, e.g. -DCHATALOT_SANITIZE=ON.
    # shellcheck disable=SC2086
    cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo ${CHATALOT_CMAKE_ARGS:-} >/dev/null ||
      die "cmake configure failed"
  fi
  cmake --build "$BUILD_DIR" -j "$(nproc)" >"$BUILD_DIR/build.log" 2>&1 ||
    { tail -n 40 "$BUILD_DIR/build.log" >&2; die "build failed (full log: $BUILD_DIR/build.log)"; }
}
