#!/usr/bin/env bash
# Runs `retort bench -o json` and llama.cpp (node-llama-cpp's prebuilt CPU build, driven by
# bench/llama-bench.mjs) on the same GGUF with the same tests, one after the other, and prints one
# table of both speeds and their ratio per (KV cache setting, depth, test).
# Usage: bench/compare.sh MODEL.gguf [-p 512] [-n 128] [-d 0] [-t THREADS] [-r 5] [--cache-type default]
#   -p, -n, -d and --cache-type take comma-separated lists (as llama-bench and `retort bench` do).
#   --cache-type items: `default` (each program's own default: Retort with no cache type given,
#   llama.cpp with no options, i.e. f16 and flash attention auto) or f32, f16, bf16, q8_0, q4_0
#   (keys and values of that type in both; llama.cpp with flash attention on).
# RETORT_PEER_DIR may point at an existing node-llama-cpp install (a folder with node_modules/);
# COMPARE_KEEP=DIR keeps the JSON reports there.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
usage="usage: bench/compare.sh MODEL.gguf [-p LIST] [-n LIST] [-d LIST] [-t N] [-r N] [--cache-type LIST]"
model="${1:?$usage}"
shift
p=512 n=128 d=0 t="$(nproc)" r=5 kv=default
while [[ $# -gt 0 ]]; do
    [[ $# -ge 2 ]] || { echo "compare.sh: $1 needs a value; $usage" >&2; exit 2; }
    case "$1" in
        -p) p="$2" ;;
        -n) n="$2" ;;
        -d) d="$2" ;;
        -t) t="$2" ;;
        -r) r="$2" ;;
        --cache-type) kv="$2" ;;
        *) echo "compare.sh: unknown argument '$1'; $usage" >&2; exit 2 ;;
    esac
    shift 2
done
[[ -f "$model" ]] || { echo "compare.sh: model not found: '$model'" >&2; exit 2; }
IFS=',' read -r -a labels <<< "$kv"
for label in "${labels[@]}"; do
    case "$label" in
        default|f32|f16|bf16|q8_0|q4_0) ;;
        *) echo "compare.sh: --cache-type: '$label' is not one of default, f32, f16, bf16, q8_0, q4_0" >&2; exit 2 ;;
    esac
done

peer="${RETORT_PEER_DIR:-$here/peer}"
if [[ ! -d "$peer/node_modules/node-llama-cpp" ]]; then
    echo "installing node-llama-cpp@3.22.1 into $peer ..." >&2
    npm install --prefix "$peer" --no-audit --no-fund node-llama-cpp@3.22.1 >&2
fi
bins="$(find "$peer/node_modules/@node-llama-cpp" -maxdepth 3 -type d -path '*linux-x64/bins/*' | head -1)"
if [[ -n "$bins" && -n "$(find "$bins" -name 'llama-bench*' -print -quit)" ]]; then
    echo "note: a llama-bench binary is shipped in $bins; this script still uses the node API for identical timing" >&2
fi

echo "building retort (Release) ..." >&2
dotnet build "$root/src/Retort.Cli" -c Release -v quiet -nologo >&2
retort="$root/src/Retort.Cli/bin/Release/net10.0/retort"

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
pairs=()
for label in "${labels[@]}"; do
    kvargs=()
    [[ "$label" == default ]] || kvargs=(--cache-type "$label")
    echo "retort bench -p $p -n $n -d $d -t $t -r $r ${kvargs[*]:-} ..." >&2
    "$retort" bench "$model" -p "$p" -n "$n" -d "$d" -t "$t" -r "$r" "${kvargs[@]}" -o json > "$out/retort-$label.json"
    pairs+=("$label=$out/retort-$label.json")
done
echo "llama.cpp (node-llama-cpp) -p $p -n $n -d $d -t $t -r $r --cache-type $kv ..." >&2
node "$here/llama-bench.mjs" "$peer" "$model" -p "$p" -n "$n" -d "$d" -t "$t" -r "$r" --cache-type "$kv" > "$out/llama.json"
node "$here/ratios.mjs" "$out/llama.json" "${pairs[@]}"
if [[ -n "${COMPARE_KEEP:-}" ]]; then cp "$out"/*.json "$COMPARE_KEEP/"; fi
