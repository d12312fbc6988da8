#!/usr/bin/env bash
# Fuzzes, with cargo-fuzz (libFuzzer + AddressSanitizer), the parsers that take user input:
# blob URLs, Azure names and name patterns, SAS tokens, the options jsonb, parquet files,
# JSON lines and the fields appended to COPY rows (row_append).
#
#   FUZZ_SECONDS=60 bash tools/fuzz.sh            # every target for 60 s (the default)
#   FUZZ_TARGETS="sas names" bash tools/fuzz.sh   # some of them
#
# Corpora are kept in fuzz/corpus/<target> (the committed seed-* files are replayed first, so a
# crash saved there as seed-regress-* is a regression test), crash inputs in fuzz/artifacts/<target>
# and libFuzzer's output in fuzz/artifacts/logs. Exits 1 if any target crashed, timed out or ran
# out of memory.
set -euo pipefail

cd "$(dirname "$0")/.."
started=$(date +%s)
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
read -r -a targets <<<"${FUZZ_TARGETS:-blob_url names sas options_jsonb parquet_reader json_lines hive_paths row_append}"

# cargo-fuzz needs nightly for -Zsanitizer and the coverage instrumentation.
if ! rustup toolchain list | grep -q '^nightly'; then
    rustup toolchain install nightly --profile minimal
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

# Limits, per input: a footer that lies about sizes must not take the machine down, and a
# parquet file has no business decoding for 10 s. RSS is polled; malloc_limit catches a single
# huge allocation at once (ASan's allocator reports it as an out-of-memory crash).
limits=(-rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=10)

cd fuzz
mkdir -p artifacts/logs
# Everything is built before any clock starts, so each target gets its full time.
echo "== building fuzz targets"
for t in "${targets[@]}"; do
    cargo +nightly fuzz build "$t"
done

declare -A secs execs crashes
failed=0
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "artifacts/$t"
    log="artifacts/logs/$t.log"
    args=(-max_total_time="$FUZZ_SECONDS" -print_final_stats=1 "${limits[@]}")
    [[ -f "dicts/$t.dict" ]] && args+=(-dict="dicts/$t.dict")
    echo "== fuzzing $t for ${FUZZ_SECONDS}s (log: fuzz/$log)"
    t0=$(date +%s)
    rc=0
    cargo +nightly fuzz run "$t" -- "${args[@]}" >"$log" 2>&1 || rc=$?
    secs[$t]=$(($(date +%s) - t0))
    # The final stats, or the last progress line (#<runs>) when libFuzzer died before them.
    execs[$t]=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' ||
        grep -o '^#[0-9]*' "$log" | tail -1 | tr -d '#' || true)
    crashes[$t]=$(grep -c 'Test unit written to' "$log" || true)
    if ((rc != 0)); then
        failed=1
        if ((crashes[$t] == 0)); then
            # No input to blame: the run itself failed (a build error, a libFuzzer option).
            crashes[$t]="error($rc)"
        fi
        grep -E '^(==[0-9]+==ERROR|thread .* panicked|SUMMARY:|ERROR: libFuzzer)' "$log" | head -5 | sed 's/^/   /' || true
        grep 'Test unit written to' "$log" | sed 's/^/   /' || true
    fi
done

echo
printf '%-16s %8s %14s %8s\n' target seconds executions crashes
for t in "${targets[@]}"; do
    printf '%-16s %8s %14s %8s\n' "$t" "${secs[$t]}" "${execs[$t]:-?}" "${crashes[$t]}"
done
echo "total $(($(date +%s) - started))s including tools and builds"
if ((failed)); then
    echo "fuzzing found crashes: reproduce with  cd fuzz && cargo +nightly fuzz run <target> artifacts/<target>/<file>" >&2
    exit 1
fi
