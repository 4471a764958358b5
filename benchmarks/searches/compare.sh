#!/usr/bin/env bash
# The three searches side by side on one host and one generated agenda: INT_R01, INT_R04 (CPTS,
# the same practitioners with the CPTS includes) and SOS Médecins (by association SIRET), each
# loaded by sas-sim load over mutual TLS (kept-alive connections), host CPU read from /proc around
# the measured run. docs/performance.md, "The CPTS and SOS Médecins searches".
#   benchmarks/searches/compare.sh [BUILD_DIR] [IDS] [WINDOW_HOURS] [CONCURRENCY] [SECONDS]
set -euo pipefail
build=$(realpath "${1:-build}")
ids=${2:-25}
hours=${3:-72}
concurrency=${4:-8}
seconds=${5:-15}
work=$(mktemp -d /tmp/sas-searches-bench.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

"$build/bin/sas-sim" gen-agenda --out "$work/agenda.db" --practitioners 2000 --days 8 --start "$(date +%F)" \
  --sos-associations 25 >/dev/null
"$build/bin/sas-sim" pki --out "$work/pki" >/dev/null
ticks=$(getconf CLK_TCK)
log="$work/host.log"
"$build/bin/sas-host" serve --plugin "$build/lib/sas/plugins/libsas-sqlite-agenda.so" \
  --plugin-config "db=$work/agenda.db" --store "sqlite:$work/host.db" --listen 127.0.0.1:0 \
  --tls-cert "$work/pki/server.pem" --tls-key "$work/pki/server-key.pem" --client-ca "$work/pki/ca.pem" \
  --allow-client-subject "CN=sas.sante.fr,OU=SAS" 2>"$log" &
host=$!
for _ in $(seq 100); do grep -q "listening on" "$log" && break; sleep 0.1; done
port=$(sed -n 's/.*listening on https:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$log")
cpu_ticks() { awk '{print $14 + $15}' "/proc/$host/stat"; }

# search label, then the sas-sim load options that make every search one of that kind.
while read -r label options; do
  load=(--base "https://127.0.0.1:$port" --cert "$work/pki/client.pem" --key "$work/pki/client-key.pem"
    --ca "$work/pki/ca.pem" --agenda "$work/agenda.db" --practitioners-per-search "$ids" --window-hours "$hours"
    --concurrency "$concurrency")
  # shellcheck disable=SC2086 # the options are words
  "$build/bin/sas-sim" load "${load[@]}" $options --duration 3 >/dev/null  # warm-up
  before=$(cpu_ticks)
  # shellcheck disable=SC2086
  result=$("$build/bin/sas-sim" load "${load[@]}" $options --duration "$seconds")
  after=$(cpu_ticks)
  python3 - "$label" "$result" "$((after - before))" "$ticks" <<'PY'
import json, sys
label, result, used, ticks = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
n = result.get("searches") or result.get("requests") or 0
lat = result.get("latency_ms", result)
print(f"{label:6} searches/s {result.get('searches_per_s', 0):8.1f}  p50 {lat.get('p50', 0):7.1f} ms"
      f"  p99 {lat.get('p99', 0):7.1f} ms  host CPU {used * 1000.0 / ticks / max(n, 1):6.2f} ms/search"
      f"  answer {result.get('bytes', 0) / max(n, 1) / 1024:6.1f} KB  errors {result.get('errors', 0)}"
      f"  ({n} searches)")
PY
done <<EOF2
INT_R01
CPTS --cpts-share 100
SOS --sos-share 100 --sos-per-search 5
EOF2
kill -INT "$host"
wait "$host" || true
