#!/usr/bin/env bash
# Installs the SDK to a temporary prefix, builds each folder of samples/plugin-template out of
# tree against it with find_package(SasSdk), then loads the results with the installed sas-host
# and checks them with the installed sas-conformance.
set -euo pipefail
build_dir=$1
source_dir=$2
ig_dir=$3
work=$(mktemp -d /tmp/sas-install-test.XXXXXX)
trap 'rm -rf "$work"' EXIT

cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
for f in bin/sas-host bin/sas-sim bin/sas-conformance lib/sas/sas-plugin-runner lib/sas/plugins/libsas-sqlite-agenda.so include/sas/plugin_abi.h \
         include/sas/sdk/plugin.hpp include/sas/plugin/v1/plugin.pb.h lib/cmake/SasSdk/SasSdkConfig.cmake; do
  [ -e "$work/prefix/$f" ] || { echo "FAIL: install lacks $f"; exit 1; }
done

# Each template: built out of tree, small, exporting exactly the two ABI symbols.
for template in search:my-agenda settings:my-settings; do
  folder=${template%%:*}
  name=${template#*:}
  cmake -S "$source_dir/samples/plugin-template/$folder" -B "$work/$folder" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
  cmake --build "$work/$folder" >/dev/null
  lines=$(cat "$source_dir/samples/plugin-template/$folder"/src/*.cpp | wc -l)
  [ "$lines" -lt 100 ] || { echo "FAIL: the $folder template has $lines lines (budget: under 100)"; exit 1; }
  exports=$(nm -D --defined-only "$work/$folder/lib$name.so" | awk '{print $3}' | sort | tr '\n' ' ')
  [ "$exports" = "sas_plugin_manifest sas_plugin_negotiate " ] || { echo "FAIL: $folder exports: $exports"; exit 1; }
done
plugin="$work/search/libmy-agenda.so"

out=$("$work/prefix/bin/sas-host" inspect-plugin "$plugin")
echo "$out"
grep -q "my-agenda 1.0.0" <<<"$out" || { echo "FAIL: inspect-plugin"; exit 1; }
"$work/prefix/bin/sas-host" inspect-plugin "$work/prefix/lib/sas/plugins/libsas-sqlite-agenda.so" >/dev/null

# Loaded and called through the real loader: the template stores the RPPS unprefixed.
out=$("$work/prefix/bin/sas-host" search --plugin "$plugin" --plugin-config demo --practitioners 810002673899 \
      --from 2026-11-23T00:00:00+01:00 --to 2026-11-24T23:59:59+01:00)
echo "$out"
grep -q "1 practitioner(s), 1 place(s), 16 free slot(s)" <<<"$out" || { echo "FAIL: search"; exit 1; }

# The search template passes the installed certification suite's plugin mode (INT_R01 checks).
"$work/prefix/bin/sas-conformance" plugin "$plugin" --plugin-config demo --practitioners 810002673899 \
  --now 2026-11-23T08:00:00+01:00 --ig "$ig_dir" --json "$work/conformance.json" >"$work/conformance.log" 2>&1 ||
  { cat "$work/conformance.log"; echo "FAIL: sas-conformance plugin on the search template"; exit 1; }
grep -q '"verdict":"pass"' "$work/conformance.json" || { echo "FAIL: conformance verdict"; exit 1; }

# The settings template in the installed host: what it pushes at init is in the host's store,
# normalised (prefixed RPPS, +33 phone), with the doctor's date and the plugin as source.
settings_plugin="$work/settings/libmy-settings.so"
out=$("$work/prefix/bin/sas-host" inspect-plugin "$settings_plugin")
grep -q "my-settings 1.0.0" <<<"$out" && grep -q "flows: *doctor-settings$" <<<"$out" ||
  { echo "$out"; echo "FAIL: inspect-plugin of the settings template"; exit 1; }
slog="$work/settings-serve.log"
"$work/prefix/bin/sas-host" serve --plugin "$settings_plugin" --store "sqlite:$work/settings.db" \
  --listen 127.0.0.1:0 --allow-plain-http 2>"$slog" &
settings_host=$!
trap 'kill $settings_host 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do grep -q "every change is with the host" "$slog" && break; sleep 0.1; done
grep -q "every change is with the host" "$slog" || { cat "$slog"; echo "FAIL: the settings template did not push"; exit 1; }
kill -INT "$settings_host"
wait "$settings_host" || true
settings=$("$work/prefix/bin/sas-host" settings get --practitioner 10002673899 --store "sqlite:$work/settings.db")
echo "$settings"
for want in '"practitioner":"810002673899"' '"volunteer":true' '"visible":true' '"consent_to_call":true' \
            '"phone":"+33612345678"'; do
  grep -qF "$want" <<<"$settings" || { echo "FAIL: settings lack $want"; exit 1; }
done
history=$("$work/prefix/bin/sas-host" settings history --practitioner 810002673899 --store "sqlite:$work/settings.db")
grep -qF '"effective_at":"2025-03-03T09:00:00+01:00"' <<<"$history" || { echo "$history"; echo "FAIL: effective_at"; exit 1; }
grep -qF '"source":"plugin"' <<<"$history" || { echo "$history"; echo "FAIL: source"; exit 1; }
grep -qF '"changed_by":"dr-durand"' <<<"$history" || { echo "$history"; echo "FAIL: changed_by"; exit 1; }
rules=$("$work/prefix/bin/sas-host" rules list --practitioner 810002673899 --store "sqlite:$work/settings.db")
echo "$rules"
grep -qF '"kind":"snp-hours"' <<<"$rules" || { echo "FAIL: the template's publication rule is not stored"; exit 1; }
# ...and it passes the installed certification suite's doctor-settings checks (SET-*, plugin mode).
out=$("$work/prefix/bin/sas-conformance" plugin "$settings_plugin" --practitioners 810002673899 --only SET- \
      --ig "$ig_dir" 2>&1) || { echo "$out"; echo "FAIL: sas-conformance plugin on the settings template"; exit 1; }
grep -q "verdict: PASS" <<<"$out" || { echo "$out"; echo "FAIL: settings template: no PASS verdict"; exit 1; }
grep -qE "^[1-9][0-9]* passed, 0 failed \(error\), 0 failed \(warning\)" <<<"$out" ||
  { echo "$out"; echo "FAIL: settings template: SET checks ran nothing or failed"; exit 1; }

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
# A vendor's back end mints doctor's panel tokens with the installed SasSdk::panel_token; the
# installed host's own command mints for the same key, and each verifies the other's.
mkdir -p "$work/panel-backend"
cat >"$work/panel-backend/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.25)
project(panel_backend CXX)
find_package(SasSdk CONFIG REQUIRED)
add_executable(panel-backend main.cpp)
target_link_libraries(panel-backend PRIVATE SasSdk::panel_token)
CMAKE
cat >"$work/panel-backend/main.cpp" <<'CPP'
#include <iostream>
#include <sas/sdk/panel_token.hpp>
namespace pt = sas::sdk::panel_token;
int main(int argc, char** argv) {
  if (argc == 3) {  // KEY TOKEN: verify
    auto claims = pt::verify_panel_token(argv[1], argv[2], pt::Clock::now());
    std::cout << (claims ? claims->practitioner + " " + claims->subject : "refused") << "\n";
    return claims ? 0 : 1;
  }
  std::cout << pt::mint_panel_token(argv[1], pt::claims_for("dr-martin", "10002673899", std::chrono::minutes(5))) << "\n";
}
CPP
cmake -S "$work/panel-backend" -B "$work/panel-backend/build" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/panel-backend/build" >/dev/null
key=$(printf 'k%.0s' $(seq 40))
printf '%s\n' "$key" >"$work/panel.key" && chmod 600 "$work/panel.key"
token=$("$work/panel-backend/build/panel-backend" "$key")
[ "$("$work/panel-backend/build/panel-backend" "$key" "$token")" = "810002673899 dr-martin" ] ||
  { echo "FAIL: the out-of-tree back end's panel token"; exit 1; }
cli_token=$("$work/prefix/bin/sas-host" panel-token --key-file "$work/panel.key" --practitioner 810002673899 --subject ops)
[ "$("$work/panel-backend/build/panel-backend" "$key" "$cli_token")" = "810002673899 ops" ] ||
  { echo "FAIL: sas-host panel-token's token, verified by the SDK"; exit 1; }

echo "out-of-tree plugin: OK"
