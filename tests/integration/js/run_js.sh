#!/bin/sh
# run_js.sh - run the nats.js integration tests (node:test) against a server.
#   run_js.sh <server-binary> <work-dir>
# MN_TEST_SERVER, when set, wins over <server-binary>.  The client
# (@nats-io/transport-node, jetstream, kv, obj, pinned by package-lock.json) is installed with
# `npm ci` into <work-dir> once (from npm's cache when it has the packages:
# ~/.npm, or MN_NPM_CACHE); later runs reuse it without npm until
# package-lock.json changes.  Without node or npm the
# test is skipped (exit 77) with a message saying what to install.
set -eu
server="${MN_TEST_SERVER:-${1:?usage: run_js.sh <server-binary> <work-dir>}}"
work="${2:?usage: run_js.sh <server-binary> <work-dir>}"
here=$(cd "$(dirname "$0")" && pwd)

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "SKIP: node and npm are needed for the nats.js tests (apt-get install nodejs npm)" >&2
    exit 77
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 18 ]; then
    echo "SKIP: node $(node --version) is too old for nats.js 3 (18 or newer needed)" >&2
    exit 77
fi

mkdir -p "$work"
cp "$here/package.json" "$here/package-lock.json" "$here"/*.mjs "$work/"
stamp="$work/node_modules/.modnats-lock"
if [ ! -f "$stamp" ] || ! cmp -s "$here/package-lock.json" "$stamp"; then
    rm -rf "$work/node_modules"
    (cd "$work" && npm ci --prefer-offline --no-audit --no-fund --loglevel=error \
         ${MN_NPM_CACHE:+--cache "$MN_NPM_CACHE"}) || {
        echo "FAIL: npm ci could not install the @nats-io packages (no registry and no cache?)" >&2
        exit 1
    }
    cp "$here/package-lock.json" "$stamp"
fi

export MN_TEST_SERVER="$server"
cd "$work"
exec node --test --test-concurrency=1 client.test.mjs jetstream.test.mjs
