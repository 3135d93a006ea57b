#!/bin/sh
# run_go.sh - build and run the nats.go integration tests offline, in GOPATH
# mode, with the Go caches under the build dir.
#   run_go.sh <server-binary> <work-dir> [go test flags, e.g. -run TestX]
# MN_TEST_SERVER, when set, wins over <server-binary>.  A missing Go
# toolchain is a failure, not a skip: the suite's setup installs it.
set -eu
server="${MN_TEST_SERVER:-${1:?usage: run_go.sh <server-binary> <work-dir>}}"
work="${2:?usage: run_go.sh <server-binary> <work-dir>}"
shift 2
# The tests run from this directory: relative paths would point elsewhere.
mkdir -p "$work" && work=$(cd "$work" && pwd)
case "$server" in
    /*) ;;
    */*) server="$(cd "$(dirname "$server")" && pwd)/$(basename "$server")" ;;
esac
here=$(cd "$(dirname "$0")" && pwd)

GO=$(command -v go || true)
if [ -z "$GO" ] && [ -x /usr/lib/go/bin/go ]; then GO=/usr/lib/go/bin/go; fi
if [ -z "$GO" ]; then
    echo "FAIL: no Go toolchain (install golang-go and golang-github-nats-io-go-nats-dev)" >&2
    exit 1
fi
if [ ! -d /usr/share/gocode/src/github.com/nats-io/nats.go ]; then
    echo "FAIL: nats.go not found in /usr/share/gocode (install golang-github-nats-io-go-nats-dev)" >&2
    exit 1
fi

mkdir -p "$work/gopath" "$work/cache" "$work/tmp"
export GO111MODULE=off GOFLAGS= GOPROXY=off GOTOOLCHAIN=local CGO_ENABLED=0
export GOPATH="$work/gopath:/usr/share/gocode" GOCACHE="$work/cache" GOTMPDIR="$work/tmp"
export MN_TEST_SERVER="$server"
cd "$here"
exec "$GO" test -count=1 -timeout 900s -v . "$@"
