#!/usr/bin/env bash
# deps.sh - install what building and testing modnats needs on Debian 12.
#
# Idempotent: installs only the packages that are missing, so a second run
# costs one dpkg query.  Needs root (or sudo) the first time.
set -euo pipefail

# Build: compiler, CMake, libraries of the core.
BUILD_PKGS=(build-essential cmake pkg-config libconfig-dev libssl-dev libcrypt-dev libmicrohttpd-dev
            libjansson-dev librocksdb-dev)
# Tests: cmocka, clang (fuzzing), the real clients and the reference server;
# the openssl CLI makes the TLS test certificates (tests/gen/gen_certs.sh).
TEST_PKGS=(libcmocka-dev clang python3 libnats-dev nats-server openssl e2fsprogs util-linux
           golang-go golang-github-nats-io-go-nats-dev
           golang-github-nats-io-jwt-dev golang-github-nats-io-nkeys-dev)

want=("${BUILD_PKGS[@]}")
if [ "${1:-}" = "--test" ]; then
  want+=("${TEST_PKGS[@]}")
  # nats.js tests: node and npm.  Asked by command, not by package: a
  # NodeSource nodejs bundles npm (and conflicts with Debian's npm).
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    want+=(nodejs npm)
  fi
fi

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "deps.sh: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
