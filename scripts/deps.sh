# Sourced by scripts/test and scripts/demo: installs the Debian packages the build needs,
# only when one is missing (a no-op on a machine that has them all).
SAS_PACKAGES=(
  build-essential cmake pkg-config git ca-certificates openssl tzdata sqlite3 curl python3
  libboost1.81-dev libboost-filesystem1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libboost-system1.81-dev libboost-program-options1.81-dev
  libprotobuf-dev protobuf-compiler libcurl4-openssl-dev libssl-dev
  libsqlite3-dev libpq-dev postgresql-15 libhowardhinnant-date-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  faketime python3-prometheus-client
  # sas-host's sd_notify; the Debian packages (cpack: dpkg-shlibdeps needs file) and their test
  # (lintian, man pages by help2man, systemd-analyze, adduser for the maintainer scripts)
  libsystemd-dev file lintian help2man man-db systemd adduser
  # the doctor's panel tested in a real browser (tests/panel_browser): headless Chromium and its driver
  chromium chromium-driver python3-selenium
  # scripts/fuzz: clang 16 with its libFuzzer and sanitizer runtimes (build-fuzz/)
  clang-16 libclang-rt-16-dev
)

sas_install_deps() {
  local missing=()
  for package in "${SAS_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    return 0
  fi
  echo "installing: ${missing[*]}"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}
