#!/usr/bin/env bash
# The price of --plugin-isolation process, side by side with in-process: the same agenda, the same
# load (sas-sim load over mutual TLS, kept-alive connections), host CPU read from /proc around the
# measured run (the host plus its runner processes). docs/performance.md, "Plugin isolation".
#   benchmarks/isolation/compare.sh [BUILD_DIR] [IDS] [WINDOW_HOURS] [CONCURRENCY] [SECONDS]
set -euo pipefail
build=$(realpath "${1:-build}")
ids=${2:-25}
hours=${3:-168}
concurrency=${4:-8}
seconds=${5:-15}
work=$(mktemp -d /tmp/sas-isolation-bench.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

"$build/bin/sas-sim" gen-agenda --out "$work/agenda.db" --practitioners 2000 --days 8 --start "$(date +%F)" >/dev/null
"$build/bin/sas-sim" pki --out "$work/pki" >/dev/null
ticks=$(getconf CLK_TCK)

# utime + stime of a process and of its children still running (the runners), in ticks.
cpu_ticks() {
  local total=0 pid
  for pid in "$1" $(pgrep -P "$1" || true); do
    [ -r "/proc/$pid/stat" ] || continue
    total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
  done
  echo "$total"
}

for mode in in-process process; do
  log="$work/host-$mode.log"
  "$build/bin/sas-host" serve --plugin "$build/lib/sas/plugins/libsas-sqlite-agenda.so" \
    --plugin-config "db=$work/agenda.db" --store "sqlite:$work/host-$mode.db" --listen 127.0.0.1:0 \
    --tls-cert "$work/pki/server.pem" --tls-key "$work/pki/server-key.pem" --client-ca "$work/pki/ca.pem" \
    --allow-client-subject "CN=sas.sante.fr,OU=SAS" --plugin-isolation "$mode" 2>"$log" &
  host=$!
  for _ in $(seq 100); do grep -q "listening on" "$log" && break; sleep 0.1; done
  port=$(sed -n 's/.*listening on https:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$log")
  load=(--base "https://127.0.0.1:$port" --cert "$work/pki/client.pem" --key "$work/pki/client-key.pem"
    --ca "$work/pki/ca.pem" --agenda "$work/agenda.db" --practitioners-per-search "$ids" --window-hours "$hours"
    --concurrency "$concurrency")
  "$build/bin/sas-sim" load "${load[@]}" --duration 3 >/dev/null  # warm-up
  before=$(cpu_ticks "$host")
  result=$("$build/bin/sas-sim" load "${load[@]}" --duration "$seconds")
  after=$(cpu_ticks "$host")
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$host/status")
  runners_rss=0
  for pid in $(pgrep -P "$host" || true); do
    runners_rss=$((runners_rss + $(awk '/VmRSS/ {print $2}' "/proc/$pid/status")))
  done
  kill -INT "$host"
  wait "$host" || true
  python3 - "$mode" "$result" "$((after - before))" "$ticks" "$rss" "$runners_rss" <<'PY'
import json, sys
mode, result, used, ticks, rss, runners = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], int(sys.argv[6])
n = result.get("searches") or result.get("requests") or 0
cpu_ms = used * 1000.0 / ticks
lat = result.get("latency_ms", result)
print(f"{mode:10} searches/s {result.get('searches_per_s', 0):8.1f}  p50 {lat.get('p50', 0):7.1f} ms"
      f"  p99 {lat.get('p99', 0):7.1f} ms  host CPU {cpu_ms / max(n, 1):6.2f} ms/search  host RSS {int(rss) // 1024} MiB"
      f"  runners RSS {runners // 1024} MiB  errors {result.get('errors', 0)}  ({n} searches)")
PY
done
