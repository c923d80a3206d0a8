#!/usr/bin/env bash
# Differential and conformance run for the VTL engine (issue 3).
#
# 1. Installs Apache Velocity 1.7 (Debian package `velocity`) if missing.
# 2. Compiles the Java reference renderer conformance/velocity/VtlRef.java.
# 3. Renders the hand-written corpus (conformance/corpus/*.vm) and a generated
#    corpus (conformance/gen_corpus.py, fixed seed) with Velocity.
# 4. Runs tests/differential.rs on both, comparing byte for byte, then the
#    crate's whole test suite (conformance tests, limits, vtl-render process).
#
# Usage: crates/vtl/ci.sh [N_GENERATED] [SEED]   (defaults: 600, 1); runs from anywhere.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
n_gen="${1:-600}"
seed="${2:-1}"

if [ ! -f /usr/share/java/velocity.jar ]; then
    echo "ci.sh: installing Apache Velocity 1.7 (Debian package 'velocity')" >&2
    sudo_cmd=()
    if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
    "${sudo_cmd[@]}" apt-get install -y velocity >/dev/null ||
        { "${sudo_cmd[@]}" apt-get update >/dev/null && "${sudo_cmd[@]}" apt-get install -y velocity >/dev/null; }
fi

# Class path: Velocity's jar plus its runtime dependencies, as Debian installed them.
jar_of() { dpkg -L "$1" | grep -E '/usr/share/java/[^/]+\.jar$' | head -n1; }
cp="$(jar_of velocity):$(jar_of libcommons-collections3-java):$(jar_of libcommons-lang-java)"

work="$(mktemp -d "${TMPDIR:-/tmp}/vtl-ci.XXXXXX")"
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/classes"
javac -nowarn -cp "$cp" -d "$work/classes" "$here/conformance/velocity/VtlRef.java"
cp="$cp:$work/classes"

python3 "$here/conformance/gen_corpus.py" "$work/gen" "$n_gen" "$seed" >/dev/null

java -cp "$cp" VtlRef "$work/ref-hand" "$here"/conformance/corpus/*.vm
java -cp "$cp" VtlRef "$work/ref-gen" "$work"/gen/*.vm

cd "$here"
echo "ci.sh: hand-written corpus ($(ls "$here"/conformance/corpus/*.vm | wc -l) templates)"
VTL_DIFF_CORPUS="$here/conformance/corpus" VTL_DIFF_OUT="$work/ref-hand" \
    cargo test -q -p apigw-vtl --test differential -- --nocapture
echo "ci.sh: generated corpus ($n_gen templates, seed $seed)"
VTL_DIFF_CORPUS="$work/gen" VTL_DIFF_OUT="$work/ref-gen" \
    cargo test -q -p apigw-vtl --test differential -- --nocapture
echo "ci.sh: crate tests"
cargo test -q -p apigw-vtl

# Bounded fuzzing of parse + render (fuzz/fuzz_targets/parse_render.rs) with
# libFuzzer, the way `cargo fuzz` builds it, when a nightly toolchain exists.
fuzz_seconds="${VTL_FUZZ_SECONDS:-60}"
if [ "$fuzz_seconds" -gt 0 ] && cargo +nightly --version >/dev/null 2>&1; then
    echo "ci.sh: fuzzing parse+render for ${fuzz_seconds}s"
    host="$(rustc -vV | sed -n 's/^host: //p')"
    (
        cd "$here/fuzz"
        RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks" \
            cargo +nightly build -q --release --target "$host" --target-dir target/instrumented
        mkdir -p "$work/fuzz-corpus" "$here/fuzz/artifacts"
        cp "$here"/conformance/corpus/*.vm "$work/fuzz-corpus/"
        "target/instrumented/$host/release/parse_render" "$work/fuzz-corpus" \
            -max_total_time="$fuzz_seconds" -max_len=4096 -rss_limit_mb=1024 -timeout=5 \
            -artifact_prefix="$here/fuzz/artifacts/" -print_final_stats=1 2>&1 | tail -n 3
    )
else
    echo "ci.sh: no nightly toolchain (or VTL_FUZZ_SECONDS=0): fuzzing skipped"
fi
echo "ci.sh: all passed"
