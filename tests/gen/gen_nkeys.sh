#!/bin/sh
# Regenerate tests/gen/nkey_fixtures.h with the Go nkeys package (Debian
# golang-github-nats-io-nkeys-dev), offline, in GOPATH mode.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src/mngen"
cp "$here/nkeys/main.go" "$work/src/mngen/"
cd "$work/src/mngen"
GO111MODULE=off GOPATH="$work:/usr/share/gocode" GOCACHE="$work/cache" GOFLAGS=-mod=mod \
  go run . "$here/nkey_fixtures.h"
echo "wrote $here/nkey_fixtures.h"
