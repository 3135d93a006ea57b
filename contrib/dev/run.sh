#!/usr/bin/env bash
# run.sh - build modnats and run it on the embedded default configuration
# (conf.d/ of this repository: clients on 0.0.0.0:4222).  Extra arguments
# go to the server, e.g. `bash contrib/dev/run.sh -D`.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash contrib/dev/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target modnats
exec ./build/bin/modnats --confd conf.d "$@"
