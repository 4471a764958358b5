#!/usr/bin/env bash
# Installs the SDK to a temporary prefix, builds samples/plugin-template out of tree against
# it with find_package(SasSdk), then loads the result with the installed sas-host.
set -euo pipefail
build_dir=$1
source_dir=$2
work=$(mktemp -d /tmp/sas-install-test.XXXXXX)
trap 'rm -rf "$work"' EXIT

cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
for f in bin/sas-host bin/sas-sim lib/sas/sas-plugin-runner lib/sas/plugins/libsas-sqlite-agenda.so include/sas/plugin_abi.h \
         include/sas/sdk/plugin.hpp include/sas/plugin/v1/plugin.pb.h lib/cmake/SasSdk/SasSdkConfig.cmake; do
  [ -e "$work/prefix/$f" ] || { echo "FAIL: install lacks $f"; exit 1; }
done

cmake -S "$source_dir/samples/plugin-template" -B "$work/plugin" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/plugin" >/dev/null
plugin="$work/plugin/libmy-agenda.so"

lines=$(grep -cvE '^\s*(//|$)' "$source_dir/samples/plugin-template/src/my_agenda_plugin.cpp")
[ "$lines" -lt 150 ] || { echo "FAIL: the template has $lines lines of code (budget: 150)"; exit 1; }

exports=$(nm -D --defined-only "$plugin" | awk '{print $3}' | sort | tr '\n' ' ')
[ "$exports" = "sas_plugin_manifest sas_plugin_negotiate " ] || { echo "FAIL: exports: $exports"; exit 1; }

out=$("$work/prefix/bin/sas-host" inspect-plugin "$plugin")
echo "$out"
grep -q "my-agenda 1.0.0" <<<"$out" || { echo "FAIL: inspect-plugin"; exit 1; }
"$work/prefix/bin/sas-host" inspect-plugin "$work/prefix/lib/sas/plugins/libsas-sqlite-agenda.so" >/dev/null

# Loaded and called through the real loader: the template stores the RPPS unprefixed.
out=$("$work/prefix/bin/sas-host" search --plugin "$plugin" --plugin-config demo --practitioners 810002673899 \
      --from 2026-11-23T00:00:00+01:00 --to 2026-11-24T23:59:59+01:00)
echo "$out"
grep -q "1 practitioner(s), 1 place(s), 16 free slot(s)" <<<"$out" || { echo "FAIL: search"; exit 1; }

# The installed host runs the same plugin in runner processes (the installed sas-plugin-runner).
log="$work/serve.log"
"$work/prefix/bin/sas-host" serve --plugin "$plugin" --plugin-config demo --store "sqlite:$work/host.db" \
  --listen 127.0.0.1:0 --allow-plain-http --plugin-isolation process --plugin-runners 1 2>"$log" &
host=$!
trap 'kill $host 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do grep -q "listening on" "$log" && break; sleep 0.1; done
port=$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$log")
[ -n "$port" ] || { cat "$log"; echo "FAIL: the installed host did not start in process mode"; exit 1; }
grep -q "plugin runner 1 (pid [0-9]*) ready (ABI 1\.[0-9]*)" "$log" || { cat "$log"; echo "FAIL: no runner"; exit 1; }
answer=$(curl -s "http://127.0.0.1:$port/Slot?_include=Slot:schedule&_include:iterate=Schedule:actor&start=ge2026-11-23T00:00:00%2B01:00&start=le2026-11-24T23:59:59%2B01:00&schedule.actor:Practitioner.identifier=urn:oid:1.2.250.1.71.4.2.1%7C810002673899&status=free")
grep -q '"total":16' <<<"$answer" || { echo "$answer" | head -c 600; echo "FAIL: search in process mode"; exit 1; }
kill -INT "$host"
wait "$host" || true
grep -q "plugin runner 1 (pid [0-9]*) stopped (exited with status 0)" "$log" || { cat "$log"; echo "FAIL: stop"; exit 1; }
echo "out-of-tree plugin: OK"
