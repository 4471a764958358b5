#!/usr/bin/env bash
# Installs the SDK to a temporary prefix, builds samples/plugin-template out of tree against
# it with find_package(SasSdk), then loads the result with the installed sas-host.
set -euo pipefail
build_dir=$1
source_dir=$2
work=$(mktemp -d /tmp/sas-install-test.XXXXXX)
trap 'rm -rf "$work"' EXIT

cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
for f in bin/sas-host bin/sas-sim lib/sas/plugins/libsas-sqlite-agenda.so include/sas/plugin_abi.h \
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
echo "out-of-tree plugin: OK"
