#!/usr/bin/env bash
# Host tests of native/ without Node: builds the core library and its unit tests with plain CMake
# (warnings are errors), runs them under ctest, then again under valgrind memcheck (the leak check;
# skipped when valgrind is missing). TEDGE_NATIVE_SANITIZE=1 adds a run built with ASan + UBSan.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="${TEDGE_JOBS:-2}"

cmake -S native -B build/native-host -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTEDGE_WERROR=ON >/dev/null
cmake --build build/native-host -j"$jobs"
ctest --test-dir build/native-host --output-on-failure

if [ "${TEDGE_NATIVE_SANITIZE:-0}" = "1" ]; then
  cmake -S native -B build/native-asan -DCMAKE_BUILD_TYPE=Debug -DTEDGE_SANITIZE=ON >/dev/null
  cmake --build build/native-asan -j"$jobs" --target tedge_core_tests
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 build/native-asan/tedge_core_tests
fi
