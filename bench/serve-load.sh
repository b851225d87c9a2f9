#!/usr/bin/env bash
# Aggregate throughput of `retort serve` with continuous batching: 1 streaming client, then N at
# once, on the same server. Usage: bench/serve-load.sh MODEL.gguf [-c 16] [-n 64]
# Prints one JSON line per run and the server's batching counters from /metrics.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
model="${1:?usage: bench/serve-load.sh MODEL.gguf [-c CLIENTS] [-n MAX_TOKENS]}"
shift
c=16 n=64 port=7877
while [[ $# -gt 0 ]]; do
    case "$1" in
        -c) c="$2"; shift 2 ;;
        -n) n="$2"; shift 2 ;;
        --port) port="$2"; shift 2 ;;
        *) echo "serve-load.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
done
[[ -f "$model" ]] || { echo "serve-load.sh: model not found: '$model'" >&2; exit 2; }

echo "building retort (Release) ..." >&2
dotnet build "$root/src/Retort.Cli" -c Release -v quiet -nologo >&2
retort="$root/src/Retort.Cli/bin/Release/net10.0/retort"

"$retort" serve "$model" --port "$port" --parallel "$c" --queue "$c" --ctx 1024 >&2 &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true' EXIT
base="http://127.0.0.1:$port"
for _ in $(seq 1 300); do
    curl -sf "$base/health" >/dev/null && break
    sleep 0.2
done

# Warm-up (page cache, JIT), then one client alone, then all of them together.
node "$here/serve-load.mjs" "$base" 1 8 >/dev/null
node "$here/serve-load.mjs" "$base" 1 "$n"
node "$here/serve-load.mjs" "$base" "$c" "$n"
curl -s "$base/metrics" | grep -E '^retort_(decode_steps_total|decoded_tokens_total|decode_batch_size_average) '
