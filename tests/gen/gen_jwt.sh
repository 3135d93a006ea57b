#!/bin/sh
# Build (once, into $MN_GEN_BIN_DIR or a temp dir) and run the JWT test
# material generator (tests/gen/jwt, Go nats-io/jwt/v2 + nkeys from Debian,
# offline, GOPATH mode).
#   gen_jwt.sh header  tests/gen/jwt_fixtures.h   # unit fixtures (committed)
#   gen_jwt.sh scenario DIR                       # integration material
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bindir="${MN_GEN_BIN_DIR:-}"
cleanup=
if [ -z "$bindir" ]; then
    bindir=$(mktemp -d)
    cleanup="$bindir"
fi
trap '[ -n "$cleanup" ] && rm -rf "$cleanup"' EXIT
GO=$(command -v go || true)
if [ -z "$GO" ] && [ -x /usr/lib/go/bin/go ]; then GO=/usr/lib/go/bin/go; fi
[ -n "$GO" ] || { echo "FAIL: no Go toolchain (golang-go)" >&2; exit 1; }
if [ ! -x "$bindir/mnjwtgen" ] || [ "$here/jwt/main.go" -nt "$bindir/mnjwtgen" ]; then
    mkdir -p "$bindir/gopath/src/mnjwtgen" "$bindir/cache"
    cp "$here/jwt/main.go" "$bindir/gopath/src/mnjwtgen/"
    (cd "$bindir/gopath/src/mnjwtgen" &&
     GO111MODULE=off GOFLAGS= GOPROXY=off GOTOOLCHAIN=local CGO_ENABLED=0 \
     GOPATH="$bindir/gopath:/usr/share/gocode" GOCACHE="$bindir/cache" \
     "$GO" build -o "$bindir/mnjwtgen.tmp" . && mv "$bindir/mnjwtgen.tmp" "$bindir/mnjwtgen")
fi
"$bindir/mnjwtgen" "$@"
