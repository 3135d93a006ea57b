#!/usr/bin/env bash
# test.sh - build modnats and run the whole test suite, the way CI does:
#   1. a plain build (-Wall -Wextra -Werror), every test;
#   2. an AddressSanitizer + UndefinedBehaviorSanitizer build, every test;
#   3. a ThreadSanitizer build: routing unit tests, and the server itself
#      under libnats clients and the hostile suite;
#   4. a slim build with modules linked in statically, and its tests;
#   5. the fuzz targets (clang libFuzzer), briefly.
# Installs its own dependencies first.  Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash contrib/dev/deps.sh --test
JOBS=$(nproc)
export CTEST_OUTPUT_ON_FAILURE=1
FUZZ_SECONDS=${MN_FUZZ_SECONDS:-20}

step() { echo; echo "=== $* ==="; }

step "plain build"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$JOBS"
(cd build && ctest -j"$JOBS" --timeout 600)

step "ASan + UBSan build"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DMODNATS_SANITIZE=ON -DMODNATS_BENCH=OFF >/dev/null
cmake --build build-asan -j"$JOBS"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=23
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd build-asan && MN_SANITIZED=1 ctest -j"$JOBS" --timeout 900)

step "TSan build: routing and threading unit tests, the server under real clients"
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Debug -DMODNATS_TSAN=ON -DMODNATS_BENCH=OFF >/dev/null
# (auth_jwt, auth_callout and cluster for the nats.go suite; integration.tls
# is left out: its test client's libnats/OpenSSL threads are not
# instrumented, so TSan reports inside the client, not the server)
cmake --build build-tsan -j"$JOBS" --target test_sublist test_qsbr modnats auth_basic auth_jwt cluster \
      auth_callout system monitor jetstream integration_test_pubsub integration_test_protocol \
      integration_test_limits integration_test_accounts integration_test_auth_jwt \
      integration_test_jetstream
TSAN_SUPP="$PWD/contrib/dev/tsan.supp"    # RocksDB's own threads (see the file)
(cd build-tsan && TSAN_OPTIONS="halt_on_error=1 suppressions=$TSAN_SUPP" \
   ctest -R 'unit\.test_(sublist|qsbr)$|integration\.(pubsub|protocol|limits|accounts|auth_jwt|go|jetstream)$|^hostile$' --timeout 900)

step "slim build: auth_basic and monitor linked into the binary"
cmake -S . -B build-static -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMODNATS_BENCH=OFF \
      -DMODNATS_STATIC_MODULES="auth_basic;monitor" >/dev/null
# jetstream stays a loadable module beside them (the monitor test's /jsz
# case loads it): static and dynamic modules in one server.
cmake --build build-static -j"$JOBS" --target modnats jetstream integration_test_auth_basic \
      integration_test_pubsub
test ! -e build-static/modules/auth_basic.so   # really linked in, not loaded
(cd build-static && ctest -R 'integration\.(auth_basic|pubsub|monitor)$' --timeout 600)

if [ -f tests/fuzz/CMakeLists.txt ]; then
  step "fuzz targets, ${FUZZ_SECONDS}s each"
  CC=clang cmake -S . -B build-fuzz -DMODNATS_FUZZ=ON -DMODNATS_BENCH=OFF \
      -DMN_FUZZ_TIME="$FUZZ_SECONDS" >/dev/null
  targets=$(cd tests/fuzz && ls fuzz_*.c | sed 's/\.c$//')
  cmake --build build-fuzz -j"$JOBS" --target $targets
  (cd build-fuzz && ctest -L fuzz --timeout 600)
fi
echo
echo "test.sh: all suites passed"
