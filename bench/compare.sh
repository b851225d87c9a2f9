#!/usr/bin/env bash
# Runs `retort bench --json` and llama.cpp (node-llama-cpp's prebuilt CPU build, driven by
# bench/llama-bench.mjs) on the same GGUF with the same settings, one after the other, and prints
# the ratios. Usage: bench/compare.sh MODEL.gguf [-p 512] [-n 128] [-t THREADS] [-r 5]
# RETORT_PEER_DIR may point at an existing node-llama-cpp install (a folder with node_modules/).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
model="${1:?usage: bench/compare.sh MODEL.gguf [-p N] [-n N] [-t N] [-r N]}"
shift
p=512 n=128 t="$(nproc)" r=5
while [[ $# -gt 0 ]]; do
    case "$1" in
        -p) p="$2"; shift 2 ;;
        -n) n="$2"; shift 2 ;;
        -t) t="$2"; shift 2 ;;
        -r) r="$2"; shift 2 ;;
        *) echo "compare.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
done
[[ -f "$model" ]] || { echo "compare.sh: model not found: '$model'" >&2; exit 2; }

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
echo "retort bench -p $p -n $n -t $t -r $r ..." >&2
"$retort" bench "$model" -p "$p" -n "$n" -t "$t" -r "$r" --json > "$out/retort.json"
echo "llama.cpp (node-llama-cpp) -p $p -n $n -t $t -r $r ..." >&2
node "$here/llama-bench.mjs" "$peer" "$model" "$p" "$n" "$t" "$r" > "$out/llama.json"
node "$here/ratios.mjs" "$out/retort.json" "$out/llama.json"
if [[ -n "${COMPARE_KEEP:-}" ]]; then cp "$out/retort.json" "$out/llama.json" "$COMPARE_KEEP/"; fi
