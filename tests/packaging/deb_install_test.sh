#!/usr/bin/env bash
# deb_install_test.sh BUILD_DIR SOURCE_DIR
# The Debian packages as an operations team gets them: builds the four .debs with cpack from
# the build tree, runs lintian on them, checks each one's Depends and files, installs them on
# this machine with dpkg -i, runs the INSTALLED sas-host as user sas the way sas-host.service
# does (Type=notify: this test listens on NOTIFY_SOCKET), does one mutual-TLS search with curl,
# reloads (SIGHUP) and stops it, builds the plugin template against the installed SDK, then
# purges the packages and checks that the user and the files are gone.
#
# dpkg -i on the machine itself, as root: a throw-away root (dpkg --root/--instdir) runs the
# maintainer scripts chrooted into it, which needs a whole Debian system there (adduser, its
# Perl, systemd's helpers): a debootstrap, not available offline. RUN_SERIAL keeps the other
# tests from running while /usr holds the installed files; the EXIT trap purges them whatever
# happens.
set -euo pipefail
build=$(cd "$1" && pwd)
source_dir=$(cd "$2" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
packages=(sas-host sas-sdk-dev sas-conformance sas-sim)

fail() {
  echo "FAIL: $*"
  exit 1
}
step() { echo "--- $*"; }

# ---- Preconditions: root, the tools, and nothing of ours already on this machine ----
[ "$(id -u)" -eq 0 ] || fail "this test installs packages with dpkg -i and must run as root (CI and scripts/test run as root)"
for tool in cpack lintian dpkg-deb dpkg-shlibdeps systemd-analyze setpriv curl python3 sqlite3 man readelf; do
  command -v "$tool" >/dev/null || fail "$tool is missing (scripts/deps.sh installs it)"
done
for package in "${packages[@]}"; do
  if dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null | grep -qv '^not-installed$'; then
    fail "$package is already on this machine (dpkg status: $(dpkg-query -W -f='${db:Status-Status}' "$package")); \
the test installs and purges it: remove it first (dpkg --purge ${packages[*]})"
  fi
done
getent passwd sas >/dev/null && fail "a user sas exists already: the test would delete it when it purges sas-host"
for path in /etc/sas /var/lib/sas; do
  [ ! -e "$path" ] || fail "$path exists already: the test would delete it when it purges sas-host"
done

work=$(mktemp -d /tmp/sas-deb-test.XXXXXX)
chmod 0711 "$work"  # user sas reaches the notify socket in it, nothing else
host_pid=""
listener_pid=""
cleanup() {
  [ -n "$host_pid" ] && kill "$host_pid" 2>/dev/null && wait "$host_pid" 2>/dev/null
  [ -n "$listener_pid" ] && kill "$listener_pid" 2>/dev/null && wait "$listener_pid" 2>/dev/null
  # Whatever happened, nothing of the packages stays on the machine.
  local installed=()
  for package in "${packages[@]}"; do
    dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null | grep -qv '^not-installed$' && installed+=("$package")
  done
  if [ ${#installed[@]} -gt 0 ]; then
    echo "cleanup: dpkg --purge ${installed[*]}"
    dpkg --purge "${installed[@]}" >/dev/null || echo "cleanup: dpkg --purge FAILED: remove ${installed[*]} by hand"
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# ---- Build the packages (into the work folder: the build tree's own packages/ is untouched) ----
step "cpack"
(cd "$build" && cpack -B "$work/debs" >"$work/cpack.log" 2>&1) || {
  cat "$work/cpack.log"
  fail "cpack failed"
}
version=$(sed -n 's/^set(CPACK_PACKAGE_VERSION "\(.*\)")$/\1/p' "$build/CPackConfig.cmake")
revision=$(sed -n 's/^set(CPACK_DEBIAN_PACKAGE_RELEASE "\(.*\)")$/\1/p' "$build/CPackConfig.cmake")
full_version="$version-$revision"
arch=$(dpkg --print-architecture)
declare -A deb
for package in "${packages[@]}"; do
  deb[$package]="$work/debs/${package}_${full_version}_${arch}.deb"
  [ -f "${deb[$package]}" ] || fail "cpack did not make ${deb[$package]##*/} (made: $(ls "$work/debs"))"
done
changelog_version=$(sed -n '1s/^sas-sdk (\([^)]*\)).*/\1/p' "$source_dir/packaging/changelog")
[ "$changelog_version" = "$full_version" ] || fail "packaging/changelog's latest entry is $changelog_version, the packages $full_version"

# ---- lintian: no error, no warning; every override says why ----
step "lintian"
lintian_out=$(lintian --fail-on error,warning "${deb[@]}" 2>&1) || {
  echo "$lintian_out"
  fail "lintian reports errors or warnings (above); fix them, or override one in packaging/lintian-overrides/ with the reason"
}
grep -v '^running with root privileges' <<<"$lintian_out" || true
for overrides in "$source_dir"/packaging/lintian-overrides/*; do
  awk -v file="${overrides##*/}" '
    /^#/ { explained = 1; next }
    /^$/ { explained = 0; next }
    !explained { print "FAIL: lintian override without a comment saying why in packaging/lintian-overrides/" file ": " $0; bad = 1 }
    END { exit bad }' "$overrides" || exit 1
done

# ---- What each package holds and depends on ----
step "contents and Depends"
# (Into files first: `grep -q` on a pipe may end it early, which pipefail takes for a failure.)
for package in "${packages[@]}"; do
  dpkg-deb --contents "${deb[$package]}" | awk '{ print $6 }' | sed 's|^\./|/|' >"$work/$package.contents"
  dpkg-deb --field "${deb[$package]}" Depends | tr ',' '\n' | sed 's/^ *//' >"$work/$package.depends"
done
has_file() { # PACKAGE REGEX
  grep -Eq "^$2\$" "$work/$1.contents" || fail "$1 lacks a file matching $2"
}
depends_on() { # PACKAGE REGEX (one entry of Depends)
  grep -Eq "^$2\$" "$work/$1.depends" || fail "$1: Depends lacks $2 (Depends: $(paste -sd, "$work/$1.depends"))"
}
lib='/usr/lib(/[a-z0-9_]+-linux-gnu[a-z0-9_]*)?'
for f in /usr/bin/sas-host "$lib/sas/sas-plugin-runner" "$lib/sas/plugins/libsas-sqlite-agenda.so" \
  "$lib/libsasplugin_proto.so.1" /usr/share/sas/billing/rules.json /usr/lib/systemd/system/sas-host.service \
  /etc/sas/host.conf /usr/share/man/man1/sas-host.1.gz /usr/share/doc/sas-host/copyright \
  /usr/share/doc/sas-host/changelog.Debian.gz; do
  has_file sas-host "$f"
done
for f in /usr/include/sas/plugin_abi.h /usr/include/sas/sdk/plugin.hpp /usr/include/sas/plugin/v1/plugin.pb.h \
  "$lib/libsassdk.a" "$lib/libsasplugin_proto.so" "$lib/cmake/SasSdk/SasSdkConfig.cmake" "$lib/cmake/SasSdk/SasPlugin.cmake" \
  /usr/share/sas/samples/plugin-template/search/CMakeLists.txt /usr/share/doc/sas-sdk-dev/copyright; do
  has_file sas-sdk-dev "$f"
done
has_file sas-conformance /usr/bin/sas-conformance
has_file sas-conformance /usr/share/man/man1/sas-conformance.1.gz
for f in /usr/bin/sas-sim /usr/bin/sas-sample-agenda /usr/share/man/man1/sas-sim.1.gz; do has_file sas-sim "$f"; done
[ "$(dpkg-deb --info "${deb[sas-host]}" conffiles)" = /etc/sas/host.conf ] || fail "sas-host: /etc/sas/host.conf is not its one conffile"
for package in "${packages[@]}"; do
  others=$(grep -E '^/etc/' "$work/$package.contents" | grep -vE '^/etc/(sas/(host\.conf)?)?$' || true)
  [ -z "$others" ] || fail "$package ships other files under /etc: $others"
done
for dependency in adduser 'libsystemd0( .*)?' 'libssl3 .*' 'libprotobuf32 .*' 'libboost-program-options1\.81\.0 .*' \
  'libsqlite3-0 .*' 'libcurl4 .*' 'libc6 .*' 'libstdc\+\+6 .*'; do
  depends_on sas-host "$dependency"
done
depends_on sas-sdk-dev "sas-host \(= $full_version\)"
depends_on sas-sdk-dev libprotobuf-dev
depends_on sas-sdk-dev libhowardhinnant-date-dev
depends_on sas-conformance "sas-host \(= $full_version\)"
depends_on sas-conformance 'libcurl4 .*'
depends_on sas-sim 'libsqlite3-0 .*'
! grep -q sas-host "$work/sas-sim.depends" || fail "sas-sim depends on sas-host, which it does not need"
# Stripped: no symbol table, no debug sections in any ELF file.
mkdir "$work/unpacked"
for package in "${packages[@]}"; do dpkg-deb -x "${deb[$package]}" "$work/unpacked"; done
while IFS= read -r -d '' file; do
  head -c 4 "$file" | grep -q 'ELF' || continue
  [[ "$file" == *.a ]] && continue
  readelf -S --wide "$file" >"$work/sections"
  ! grep -Eq ' \.(symtab|debug_[a-z]+) ' "$work/sections" || fail "${file#"$work"/unpacked} is not stripped"
done < <(find "$work/unpacked" -type f -print0)

# ---- Install ----
step "dpkg -i"
dpkg -i "${deb[@]}" >"$work/dpkg-install.log" 2>&1 || {
  cat "$work/dpkg-install.log"
  fail "dpkg -i failed (a missing dependency? apt install ./x.deb would fetch it; scripts/deps.sh has the build's)"
}
user_line=$(getent passwd sas) || fail "postinst did not create the user sas"
IFS=: read -r _ _ sas_uid _ _ sas_home sas_shell <<<"$user_line"
[ "$sas_uid" -lt 1000 ] || fail "sas is not a system user (uid $sas_uid)"
[ "$sas_home" = /var/lib/sas ] || fail "sas's home is $sas_home, not /var/lib/sas"
[ "$sas_shell" = /usr/sbin/nologin ] || fail "sas's shell is $sas_shell, not /usr/sbin/nologin"
getent group sas >/dev/null || fail "postinst did not create the group sas"
check_mode() { # PATH OWNER:GROUP MODE
  local actual
  actual=$(stat -c '%U:%G %a' "$1")
  [ "$actual" = "$2 $3" ] || fail "$1 is $actual, expected $2 $3"
}
check_mode /etc/sas root:sas 750
check_mode /etc/sas/host.conf root:sas 640
check_mode /var/lib/sas sas:sas 750
dpkg-query -W -f='${Conffiles}\n' sas-host | grep -q '/etc/sas/host.conf' || fail "dpkg does not list /etc/sas/host.conf as a conffile"
for tool in sas-host sas-sim sas-sample-agenda sas-conformance; do
  "/usr/bin/$tool" --help >/dev/null || fail "the installed /usr/bin/$tool --help failed"
  man -w "$tool" >/dev/null 2>&1 || fail "man $tool: no manual page installed"
done
man -P cat sas-host >"$work/sas-host.man" 2>/dev/null || fail "man sas-host failed"
grep -q -- '--tls-cert' "$work/sas-host.man" || fail "man sas-host lacks the serve options"

step "systemd-analyze"
unit=/usr/lib/systemd/system/sas-host.service
systemd-analyze verify "$unit" || fail "systemd-analyze verify $unit"
security=$(systemd-analyze security --offline=true --no-pager "$unit" 2>&1) || {
  echo "$security"
  fail "systemd-analyze security failed"
}
exposure=$(sed -n 's/.*Overall exposure level for sas-host.service: \([0-9.]*\).*/\1/p' <<<"$security")
[ -n "$exposure" ] || fail "systemd-analyze security printed no exposure level: $security"
awk -v e="$exposure" 'BEGIN { exit !(e <= 2.0) }' || {
  echo "$security"
  fail "the unit's exposure level is $exposure (above 2.0): a hardening setting was lost"
}
echo "exposure level $exposure"

# ---- Configure as an operator would (docs/operations.md): PKI, agenda, /etc/sas/host.conf ----
step "configure"
/usr/bin/sas-sim pki --out "$work/pki" >/dev/null
install -d -o root -g sas -m 0750 /etc/sas/tls
install -o root -g sas -m 0640 "$work/pki/server.pem" "$work/pki/server-key.pem" "$work/pki/ca.pem" /etc/sas/tls/
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/admin.token"
install -o sas -g sas -m 0600 "$work/admin.token" /etc/sas/admin.token
start_day=$(date -d tomorrow +%F)
runuser -u sas -- /usr/bin/sas-sim gen-agenda --out /var/lib/sas/agenda.db --practitioners 3 --days 2 --seed 19 \
  --start "$start_day" >/dev/null || fail "sas-sim gen-agenda into /var/lib/sas as user sas"
rpps=$(sqlite3 /var/lib/sas/agenda.db "SELECT national_id FROM practitioner ORDER BY id LIMIT 1")
[ -n "$rpps" ] || fail "no practitioner in the generated agenda"
plugin=$(dpkg -L sas-host | grep '/sas/plugins/libsas-sqlite-agenda\.so$')
cat >/etc/sas/host.conf <<EOF
plugin = $plugin
plugin-config = db=/var/lib/sas/agenda.db
store = sqlite:/var/lib/sas/host.db
listen = 127.0.0.1:0
tls-cert = /etc/sas/tls/server.pem
tls-key = /etc/sas/tls/server-key.pem
client-ca = /etc/sas/tls/ca.pem
allow-client-subject = CN=sas.sante.fr,OU=SAS
admin-listen = 127.0.0.1:0
admin-token-file = /etc/sas/admin.token
EOF

# ---- Run the installed host as sas-host.service does ----
step "sas-host serve as user sas, Type=notify"
notifications="$work/notifications"
: >"$notifications"
python3 "$here/notify_listener.py" "$work/notify.sock" "$notifications" &
listener_pid=$!
for _ in $(seq 50); do [ -S "$work/notify.sock" ] && break; sleep 0.1; done
[ -S "$work/notify.sock" ] || fail "the notify listener did not bind $work/notify.sock"
# The unit's User=sas, NoNewPrivileges=yes, CapabilityBoundingSet= (empty) and WorkingDirectory=,
# with setpriv, which execs (so that $! is the host, as $MAINPID is for systemd).
(cd /var/lib/sas && exec env -i PATH=/usr/bin:/bin NOTIFY_SOCKET="$work/notify.sock" \
  setpriv --reuid=sas --regid=sas --init-groups --no-new-privs --inh-caps=-all --bounding-set=-all \
  /usr/bin/sas-host serve --config /etc/sas/host.conf) 2>"$work/serve.log" &
host_pid=$!
seen=0
wait_for() { # REGEX WHAT: the next notification must match
  local line
  for _ in $(seq 600); do
    if [ "$(wc -l <"$notifications")" -gt "$seen" ]; then
      seen=$((seen + 1))
      line=$(sed -n "${seen}p" "$notifications")
      echo "notification: $line"
      grep -Eq "$1" <<<"$line" || {
        cat "$work/serve.log"
        fail "$2: expected a notification matching '$1', got '$line'"
      }
      return 0
    fi
    kill -0 "$host_pid" 2>/dev/null || {
      cat "$work/serve.log"
      fail "$2: the installed sas-host exited"
    }
    sleep 0.1
  done
  cat "$work/serve.log"
  fail "$2: no notification within 60 s"
}
wait_for '^READY=1 STATUS=serving https://127\.0\.0\.1:[0-9]+ \(admin API on port [0-9]+\)$' "start"
port=$(sed -n '1s/.*https:\/\/127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$notifications")
[ "$(stat -c %U "/proc/$host_pid")" = sas ] || fail "the host runs as $(stat -c %U "/proc/$host_pid"), not sas"
[ -f /var/lib/sas/host.db ] || fail "no store at /var/lib/sas/host.db"
[ "$(stat -c %U /var/lib/sas/host.db)" = sas ] || fail "/var/lib/sas/host.db is not owned by sas"

step "one mutual-TLS search with curl"
search() {
  curl -sS --fail-with-body --max-time 20 --cert "$work/pki/client.pem" --key "$work/pki/client-key.pem" \
    --cacert "$work/pki/ca.pem" -o "$work/search.json" -w '%{http_code}' \
    "https://localhost:$port/Slot?_include=Slot:schedule&_include:iterate=Schedule:actor&start=ge${start_day}T00:00:00%2B01:00&start=le${start_day}T23:59:59%2B01:00&schedule.actor:Practitioner.identifier=urn:oid:1.2.250.1.71.4.2.1%7C$rpps&status=free"
}
status=$(search) || fail "curl search: HTTP $status $(head -c 600 "$work/search.json")"
python3 - "$work/search.json" <<'EOF' || fail "the search answer is not a Bundle with slots: $(head -c 600 "$work/search.json")"
import json, sys
bundle = json.load(open(sys.argv[1]))
slots = [e for e in bundle.get("entry", []) if e["resource"]["resourceType"] == "Slot"]
assert bundle["resourceType"] == "Bundle" and bundle["total"] == len(slots) > 0, bundle.get("total")
print(f"search: {len(slots)} free slot(s)")
EOF
curl -sS -o /dev/null --max-time 20 --cert "$work/pki/client-wrong-ou.pem" --key "$work/pki/client-wrong-ou-key.pem" \
  --cacert "$work/pki/ca.pem" "https://localhost:$port/metadata" 2>/dev/null && fail "a client with OU=OTHER was let in"

step "reload (SIGHUP) and stop"
kill -HUP "$host_pid"
wait_for '^RELOADING=1' "SIGHUP"
wait_for '^READY=1 STATUS=serving' "after the reload"
grep -q "SIGHUP: TLS material reloaded" "$work/serve.log" || fail "the log does not say the TLS material was reloaded"
status=$(search) || fail "search after the reload: HTTP $status"
kill -TERM "$host_pid"
wait_for '^STOPPING=1' "SIGTERM"
code=0
wait "$host_pid" || code=$?
host_pid=""
[ "$code" -eq 0 ] || {
  cat "$work/serve.log"
  fail "the installed sas-host exited with $code after SIGTERM"
}

# ---- The SDK package is enough to build a plugin ----
step "the plugin template against the installed SDK"
cmake -S /usr/share/sas/samples/plugin-template/search -B "$work/plugin" >"$work/plugin.log" 2>&1 &&
  cmake --build "$work/plugin" >>"$work/plugin.log" 2>&1 || {
  cat "$work/plugin.log"
  fail "the plugin template does not build against the installed sas-sdk-dev"
}
inspected=$(/usr/bin/sas-host inspect-plugin "$work/plugin/libmy-agenda.so") ||
  fail "the installed sas-host inspect-plugin failed on the plugin built against the installed SDK"
grep -q "my-agenda 1.0.0" <<<"$inspected" || fail "inspect-plugin of the template plugin: $inspected"

# ---- Purge: nothing left ----
step "dpkg --purge"
dpkg --purge "${packages[@]}" >"$work/dpkg-purge.log" 2>&1 || {
  cat "$work/dpkg-purge.log"
  fail "dpkg --purge failed"
}
getent passwd sas >/dev/null && fail "the user sas is still there after purge"
getent group sas >/dev/null && fail "the group sas is still there after purge"
for path in /etc/sas /var/lib/sas /usr/bin/sas-host /usr/bin/sas-sim /usr/bin/sas-conformance "$unit" \
  /usr/include/sas /usr/share/sas /usr/share/doc/sas-host; do
  [ ! -e "$path" ] || fail "$path is still there after purge"
done
for package in "${packages[@]}"; do
  dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null | grep -qv '^not-installed$' &&
    fail "$package is still known to dpkg after purge"
done
echo "deb packages: OK"
