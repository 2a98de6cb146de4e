#!/usr/bin/env bash
# Builds libthywill, compiles every tests/c/*.c against include/thywill.h with
# -std=c11 -Wall -Werror and runs each under valgrind (leaks and memory errors fail).
# Usage: tests/c/run.sh   (env CARGO_TARGET_DIR, THYWILL_FIXTURES honoured)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
cargo build -q -p thywill-ffi
libdir="$target/debug"
build="$root/tests/c/build"
mkdir -p "$build"
fixtures="${THYWILL_FIXTURES:-$root/../shared/fixtures}"
passed=0
failed=0
for src in tests/c/test_*.c; do
  name="$(basename "$src" .c)"
  gcc -std=c11 -Wall -Wextra -Werror -g -I include -o "$build/$name" "$src" -L "$libdir" -lthywill
  scratch="$(mktemp -d)"
  started=$SECONDS
  if RUST_BACKTRACE=0 LD_LIBRARY_PATH="$libdir" valgrind -q --error-exitcode=99 --leak-check=full \
      --errors-for-leak-kinds=definite,indirect "$build/$name" "$fixtures" "$scratch"; then
    passed=$((passed + 1))
    echo "passed: $name ($((SECONDS - started)) s)"
  else
    echo "FAILED: $name (exit $?)" >&2
    failed=$((failed + 1))
  fi
  rm -rf "$scratch"
done
echo "C tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
