// sas-host check-config FILE: reads a `serve` configuration exactly as serve does
// (serve_config.hpp), then checks what serve would only find out when starting or later (files,
// certificates and their chain, expiry, CRLs, the store, the plugin, the rule file) without
// starting anything or binding a port. One line per check; exit 0 without FAIL, 1 with one, 2 on
// a usage error (docs/configuration.md, "check-config").
#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <iostream>
#include <sas/host/billing/rules.hpp>
#include <sas/host/certificates/certificates.hpp>
#include <sas/host/plugin_isolation/isolated_plugin.hpp>
#include <sas/host/plugin_loader/manifest.hpp>
#include <sas/host/runtime/runtime.hpp>
#include <sas/host/store/store.hpp>
#include <set>

#include "commands.hpp"
#include "options.hpp"
#include "serve_config.hpp"

namespace sas::host::cli {

namespace po = sas::cli::po;
namespace certs = sas::host::certificates;

namespace {

enum class Status { ok, warn, fail };

const char* label(Status status) {
  switch (status) {
    case Status::ok:
      return "OK";
    case Status::warn:
      return "WARN";
    case Status::fail:
      return "FAIL";
  }
  return "?";
}

struct Check {
  std::string key;   // the configuration key checked ("config" for the file itself)
  std::string what;  // which aspect: "file", "certificate", "expiry", "chain", ...
  Status status = Status::ok;
  std::string message;
};

std::string date_of(certs::Clock::time_point t) {
  const std::time_t time = certs::Clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&time, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M UTC", &tm);
  return text;
}

long days_between(certs::Clock::time_point from, certs::Clock::time_point to) {
  return static_cast<long>(std::chrono::duration_cast<std::chrono::hours>(to - from).count() / 24);
}

// One line per check: a multi-line reason (libpq's) is joined.
std::string one_line(const std::string& text) {
  std::string out;
  bool space = false;
  for (const char c : text) {
    if (c == '\n' || c == '\t' || c == '\r' || c == ' ') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

std::string group_name(gid_t gid) {
  const struct group* group = ::getgrgid(gid);
  return group != nullptr ? std::string(group->gr_name) : std::to_string(gid);
}

class Checker {
 public:
  Checker(const po::variables_map& values, const ServeConfig& config, int warn_days)
      : v_(values), c_(config), warn_days_(warn_days) {}

  std::vector<Check> run();

 private:
  void add(std::string key, std::string what, Status status, std::string message) {
    checks_.push_back({std::move(key), std::move(what), status, one_line(message)});
  }
  bool refused(const std::string& key) const { return refused_.count(key) != 0U; }

  // A file this user can read, else a FAIL naming the key and why.
  bool readable(const std::string& key, const std::string& what, const std::filesystem::path& file);
  // Certificates of a PEM file: parse, then one expiry line for all of them.
  std::vector<certs::CertificatePtr> certificate_file(const std::string& key, const std::filesystem::path& file);
  void expiry(const std::string& key, const std::vector<certs::CertificatePtr>& certificates);
  void private_key(const std::string& key, const std::filesystem::path& file, const std::string& cert_key,
                   const std::vector<certs::CertificatePtr>& certificates);
  void chain(const std::vector<certs::CertificatePtr>& server, const std::vector<certs::CertificatePtr>& anchors);
  void crl(const std::filesystem::path& file, const std::vector<certs::CertificatePtr>& cas);

  void listeners();
  void base_url(const std::vector<certs::CertificatePtr>& server);
  void subjects();
  void tls();
  void admin();
  void delivery();
  void store();
  void plugin();
  void rules();

  const po::variables_map& v_;
  const ServeConfig& c_;
  const int warn_days_;
  const certs::Clock::time_point now_ = certs::Clock::now();
  std::set<std::string> refused_;  // keys serve refuses already: not checked further
  std::vector<Check> checks_;
};

bool Checker::readable(const std::string& key, const std::string& what, const std::filesystem::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) {
    add(key, what, Status::fail, file.string() + ": " + (errno == ENOENT ? "no such file" : std::strerror(errno)));
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    add(key, what, Status::fail,
        file.string() + ": not a regular file" + (S_ISDIR(st.st_mode) ? " (a directory)" : ""));
    return false;
  }
  // access(2) checks as this user (root reads everything: run check-config as the service's user).
  if (::access(file.c_str(), R_OK) != 0) {
    add(key, what, Status::fail,
        file.string() + ": not readable by this user (uid " + std::to_string(::getuid()) +
            "): " + std::strerror(errno));
    return false;
  }
  return true;
}

void Checker::expiry(const std::string& key, const std::vector<certs::CertificatePtr>& certificates) {
  Status worst = Status::ok;
  std::string faults;
  const X509* soonest = nullptr;
  for (const auto& cert : certificates) {
    const auto from = certs::not_before(cert.get());
    const auto until = certs::not_after(cert.get());
    std::string fault;
    if (until <= now_) {
      fault = "expired on " + date_of(until);
      worst = Status::fail;
    } else if (from > now_) {
      fault = "not valid before " + date_of(from);
      worst = Status::fail;
    } else if (days_between(now_, until) < warn_days_) {
      fault = "expires on " + date_of(until) + " (in " + std::to_string(days_between(now_, until)) + " days)";
      if (worst == Status::ok) worst = Status::warn;
    }
    if (!fault.empty()) (faults.empty() ? faults : faults += "; ") += certs::subject_of(cert.get()) + " " + fault;
    if (soonest == nullptr || until < certs::not_after(soonest)) soonest = cert.get();
  }
  if (worst == Status::ok) {
    const auto until = certs::not_after(soonest);
    add(key, "expiry", Status::ok,
        "valid until " + date_of(until) + " (" + std::to_string(days_between(now_, until)) + " days" +
            (certificates.size() > 1 ? ", the first of its " + std::to_string(certificates.size()) + " to expire)"
                                     : ")"));
  } else {
    add(key, "expiry", worst, faults);
  }
}

std::vector<certs::CertificatePtr> Checker::certificate_file(const std::string& key,
                                                             const std::filesystem::path& file) {
  if (!readable(key, "certificate", file)) return {};
  std::vector<certs::CertificatePtr> certificates;
  try {
    certificates = certs::read_certificates(file);
  } catch (const std::runtime_error& e) {
    add(key, "certificate", Status::fail, e.what());
    return {};
  }
  const X509* first = certificates.front().get();
  add(key, "certificate", Status::ok,
      file.string() + ": " + std::to_string(certificates.size()) + " certificate" +
          (certificates.size() > 1 ? "s, the first " : " ") + certs::subject_of(first) + " issued by " +
          certs::issuer_of(first));
  expiry(key, certificates);
  return certificates;
}

void Checker::private_key(const std::string& key, const std::filesystem::path& file, const std::string& cert_key,
                          const std::vector<certs::CertificatePtr>& certificates) {
  if (!readable(key, "private key", file)) return;
  certs::KeyPtr private_key;
  try {
    private_key = certs::read_private_key(file);
  } catch (const std::runtime_error& e) {
    add(key, "private key", Status::fail, e.what());
    return;
  }
  if (!certificates.empty() && !certs::key_matches(certificates.front().get(), private_key.get())) {
    add(key, "private key", Status::fail,
        file.string() + ": does not match " + cert_key + " (" + certs::subject_of(certificates.front().get()) + ")");
    return;
  }
  const std::string matched = certificates.empty() ? "" : ", matches " + cert_key;
  struct stat st {};
  ::stat(file.c_str(), &st);
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
  if ((st.st_mode & (S_IROTH | S_IWOTH)) != 0) {
    add(key, "private key", Status::fail,
        file.string() + ": readable or writable by others (mode " + mode +
            "); chmod 600 (or 640 for a group of the "
            "service only)");
  } else if ((st.st_mode & S_IRGRP) != 0 && (st.st_mode & S_IWGRP) == 0 && st.st_gid == ::getegid()) {
    // root:sas 0640, checked as the service runs it (runuser -u sas): the group is the service's.
    add(key, "private key", Status::ok,
        file.string() + ": readable by the service's group " + group_name(st.st_gid) + " only (mode " + mode + ")" +
            matched);
  } else if ((st.st_mode & (S_IRGRP | S_IWGRP)) != 0) {
    add(key, "private key", Status::warn,
        file.string() + ": readable by its group " + group_name(st.st_gid) + " (mode " + mode +
            "): fine only if that group is the service's alone (run check-config as the service's user to check)" +
            matched);
  } else {
    add(key, "private key", Status::ok, file.string() + ": private (mode " + mode + ")" + matched);
  }
}

// The trust anchor is client-ca: the platform trusts IGC-Santé, which issues both its client
// certificate (checked with client-ca) and the vendors' server certificates. The system store is
// only asked to explain a failure: a certificate from a public CA will not be accepted.
void Checker::chain(const std::vector<certs::CertificatePtr>& server,
                    const std::vector<certs::CertificatePtr>& anchors) {
  const std::string error = certs::verify_chain(server, &anchors, certs::Purpose::tls_server);
  if (error.empty()) {
    add("tls-cert", "chain", Status::ok,
        "verified up to client-ca (" + certs::issuer_of(server.back().get()) + "), for TLS server use");
    return;
  }
  const bool public_ca = certs::verify_chain(server, nullptr, certs::Purpose::tls_server).empty();
  add("tls-cert", "chain", Status::fail,
      "does not verify up to a CA of client-ca: " + error +
          (public_ca ? "; it verifies with the system's store: a public CA, which the SAS platform does not trust "
                       "(it expects an IGC-Santé server certificate)"
                     : ""));
}

void Checker::crl(const std::filesystem::path& file, const std::vector<certs::CertificatePtr>& cas) {
  if (!readable("client-crl", "crl", file)) return;
  std::vector<certs::CrlPtr> crls;
  try {
    crls = certs::read_crls(file);
  } catch (const std::runtime_error& e) {
    add("client-crl", "crl", Status::fail, e.what());
    return;
  }
  std::string unsigned_crls;
  for (const auto& crl : crls) {
    if (certs::crl_signer(crl.get(), cas) == nullptr)
      (unsigned_crls.empty() ? unsigned_crls : unsigned_crls += "; ") += certs::issuer_of(crl.get());
  }
  if (!cas.empty()) {
    if (unsigned_crls.empty()) {
      add("client-crl", "crl", Status::ok,
          file.string() + ": " + std::to_string(crls.size()) + " CRL" + (crls.size() > 1 ? "s" : "") +
              ", each signed by a CA of client-ca");
    } else {
      add("client-crl", "crl", Status::fail,
          file.string() + ": signed by none of client-ca's CAs (CRL issuer " + unsigned_crls +
              "): clients of the CA it was meant for are refused");
    }
  }
  Status worst = Status::ok;
  std::string faults;
  std::optional<certs::Clock::time_point> soonest;
  for (const auto& crl : crls) {
    const auto last = certs::last_update(crl.get());
    const auto next = certs::next_update(crl.get());
    std::string fault;
    if (last > now_) {
      fault = "not valid before " + date_of(last);
      worst = Status::fail;
    } else if (next && *next <= now_) {
      fault = "nextUpdate " + date_of(*next) + " has passed: every client of its CA is refused; fetch a fresh CRL";
      worst = Status::fail;
    } else if (next && days_between(now_, *next) < warn_days_) {
      fault = "nextUpdate " + date_of(*next) + " (in " + std::to_string(days_between(now_, *next)) + " days)";
      if (worst == Status::ok) worst = Status::warn;
    }
    if (!fault.empty())
      (faults.empty() ? faults : faults += "; ") += "CRL of " + certs::issuer_of(crl.get()) + ": " + fault;
    if (next && (!soonest || *next < *soonest)) soonest = next;
  }
  if (worst != Status::ok) {
    add("client-crl", "expiry", worst, faults);
  } else {
    add("client-crl", "expiry", Status::ok,
        soonest
            ? "next update due " + date_of(*soonest) + " (" + std::to_string(days_between(now_, *soonest)) + " days)"
            : "no nextUpdate given");
  }
}

void Checker::listeners() {
  if (!refused("listen")) {
    add("listen", "address", Status::ok,
        c_.fhir.host + ":" + std::to_string(c_.fhir.port) + " (not bound by this check)");
  }
  if (c_.admin) {
    const bool same = c_.admin->port != 0 && c_.admin->port == c_.fhir.port &&
                      (c_.admin->host == c_.fhir.host || c_.admin->host == "0.0.0.0" || c_.fhir.host == "0.0.0.0");
    if (same) {
      add("admin-listen", "address", Status::fail, "port " + std::to_string(c_.admin->port) + " is listen's too");
    } else {
      add("admin-listen", "address", Status::ok,
          c_.admin->host + ":" + std::to_string(c_.admin->port) + " (not bound by this check)");
    }
  }
}

void Checker::base_url(const std::vector<certs::CertificatePtr>& server) {
  if (refused("base-url")) return;
  if (c_.endpoint.base_url.empty()) {
    const std::string& host = c_.fhir.host;
    if (host == "0.0.0.0" || host == "::" || host.empty()) {
      add("base-url", "url", Status::warn,
          "not given: links would start with https://" + host + ":PORT, which the platform cannot call; set base-url");
    } else {
      add("base-url", "url", Status::ok, "not given: https://" + host + ":" + std::to_string(c_.fhir.port));
    }
    return;
  }
  const auto url = boost::urls::parse_absolute_uri(c_.endpoint.base_url);  // read_serve_config checked it
  const std::string host(url->host_address());
  if (url->scheme() != "https" && !c_.fhir.cert_file.empty()) {
    add("base-url", "url", Status::warn, c_.endpoint.base_url + ": not https, while the listener is");
  } else if (!server.empty() && !certs::names_host(server.front().get(), host)) {
    add("base-url", "url", Status::fail,
        c_.endpoint.base_url + ": host " + host + " is not a name of tls-cert (" +
            certs::names_of(server.front().get()) + "): the platform's TLS check would fail");
  } else {
    add("base-url", "url", Status::ok,
        c_.endpoint.base_url + (server.empty() ? "" : " (its host is a name of tls-cert)"));
  }
}

void Checker::subjects() {
  if (!c_.fhir.allowed_subjects.empty() && !refused("allow-client-subject")) {
    std::string all;
    for (const auto& subject : c_.fhir.allowed_subjects) (all.empty() ? all : all += "; ") += subject;
    add("allow-client-subject", "subject", Status::ok, all);
  }
  if (c_.admin && !c_.admin->allowed_subjects.empty()) {
    std::string all;
    for (const auto& subject : c_.admin->allowed_subjects) (all.empty() ? all : all += "; ") += subject;
    add("admin-allow-client-subject", "subject", Status::ok, all);
  }
}

void Checker::tls() {
  const server::ServerConfig& f = c_.fhir;
  std::vector<certs::CertificatePtr> server, cas;
  if (!f.cert_file.empty()) server = certificate_file("tls-cert", f.cert_file);
  if (!f.key_file.empty()) private_key("tls-key", f.key_file, "tls-cert", server);
  if (!f.client_ca_file.empty()) cas = certificate_file("client-ca", f.client_ca_file);
  if (!server.empty() && !cas.empty()) chain(server, cas);
  if (!f.crl_file.empty()) crl(f.crl_file, cas);
  base_url(server);
  if (f.cert_file.empty() && f.allow_plain_http) {
    add("allow-plain-http", "tls", Status::warn, "plain HTTP only, without TLS: for development");
  } else if (f.allow_plain_http) {
    add("allow-plain-http", "tls", Status::warn, "plain HTTP accepted next to TLS: for development");
  }
}

void Checker::admin() {
  if (!c_.admin) return;
  // read_serve_config read them with serve's rules (mode 600, length, characters).
  if (!c_.admin_token_file.empty())
    add("admin-token-file", "token", Status::ok,
        c_.admin_token_file.string() + ": private, " + std::to_string(c_.admin_token.size()) + " characters");
  if (!c_.metrics_token_file.empty())
    add("metrics-token-file", "token", Status::ok,
        c_.metrics_token_file.string() + ": private, " + std::to_string(c_.metrics_token.size()) + " characters");
  if (c_.panel_key_file.empty()) return;
  add("panel-key-file", "key", Status::ok,
      c_.panel_key_file.string() + ": private, " + std::to_string(c_.panel_key.size()) +
          " characters, none of the other tokens (the doctor's panel is on, at /panel/)");
  add("panel-token-max-ttl-s", "lifetime", Status::ok,
      "panel tokens live at most " + std::to_string(c_.panel_token_max_ttl.count()) + " s");
  add("panel-frame-ancestors", "csp", Status::ok,
      c_.panel_frame_ancestors == "'none'"
          ? "'none': no page may frame the panel (it opens in its own tab); name the vendor agenda's origin to "
            "embed it"
          : "frame-ancestors " + c_.panel_frame_ancestors);
}

void Checker::delivery() {
  if (!c_.runtime.delivery) {
    // Serve ignores them without sas-base: probably a forgotten line.
    for (const char* key : {"sas-cert", "sas-key", "sas-ca"}) {
      if (v_.count(key) != 0U)
        add(key, "delivery", Status::warn,
            std::string("given without sas-base: INT_R03 delivery is off, it is unused"));
    }
    return;
  }
  const auto& d = *c_.runtime.delivery;
  const auto url = boost::urls::parse_absolute_uri(d.base);
  if (!url) {
    add("sas-base", "url", Status::fail, "'" + d.base + "' is not an absolute URL");
  } else if (url->scheme() != "https") {
    add("sas-base", "url", Status::fail, d.base + ": the platform is called over mutual TLS: https:// expected");
  } else {
    add("sas-base", "url", Status::ok, d.base + " (INT_R03 delivery on; not contacted by this check)");
  }
  std::vector<certs::CertificatePtr> client;
  if (!refused("sas-cert")) client = certificate_file("sas-cert", d.cert_file);
  if (!refused("sas-key")) private_key("sas-key", d.key_file, "sas-cert", client);
  if (!refused("sas-ca")) certificate_file("sas-ca", d.ca_file);
}

void Checker::store() {
  if (!c_.runtime.store) return;
  try {
    const store::StoreProbe probe = store::probe(*c_.runtime.store);
    std::string message = probe.url + ": ";
    if (!probe.exists) {
      message += "no file yet; serve creates it (its directory is writable)";
    } else if (probe.schema_version == 0) {
      message += "reachable, empty; serve creates the schema";
    } else {
      message += "reachable, schema version " + std::to_string(probe.schema_version);
      if (probe.schema_version < probe.host_schema_version)
        message += " (serve brings it to " + std::to_string(probe.host_schema_version) + ")";
    }
    add("store", "store", Status::ok, message);
  } catch (const store::StoreError& e) {
    add("store", "store", Status::fail, e.what());
  }
}

void Checker::plugin() {
  const auto& path = c_.runtime.plugin;
  if (readable("plugin", "plugin", path)) {
    // The same inspection as `sas-host inspect-plugin`: the file only, no plugin code runs.
    try {
      // A runner given with `plugin-runner` checks the plugin's protobuf against its own.
      const bool own_runner = c_.runtime.isolation && !c_.runtime.isolation->runner.empty();
      const plugin_loader::PluginManifest manifest = plugin_loader::inspect_plugin_file(
          path, own_runner ? plugin_loader::ProtobufCheck::left_to_runner : plugin_loader::ProtobufCheck::this_process);
      add("plugin", "plugin", Status::ok,
          path.string() + ": " + manifest.name + " " + manifest.version + " by " + manifest.vendor + ", ABI " +
              std::to_string(manifest.abi_major) + "." + std::to_string(manifest.abi_minor) + " (not loaded)");
    } catch (const plugin_loader::PluginError& e) {
      add("plugin", "plugin", Status::fail, path.string() + ": " + e.what());
    }
  }
  if (!c_.runtime.isolation || refused("plugin-runner")) return;
  const std::filesystem::path runner =
      c_.runtime.isolation->runner.empty() ? plugin_isolation::default_runner_path() : c_.runtime.isolation->runner;
  if (!readable("plugin-runner", "runner", runner)) return;
  if (::access(runner.c_str(), X_OK) != 0) {
    add("plugin-runner", "runner", Status::fail, runner.string() + ": not executable by this user");
  } else {
    add("plugin-runner", "runner", Status::ok, runner.string() + " (process isolation)");
  }
}

void Checker::rules() {
  const std::string& given = c_.runtime.billing_rules;
  try {
    const auto book = runtime::load_rules(given);
    add("rules", "rules", Status::ok,
        (given.empty() ? billing::default_rules_path(std::filesystem::read_symlink("/proc/self/exe")).string()
                       : given) +
            ": " + std::to_string(book->versions().size()) + " rule version" +
            (book->versions().size() > 1 ? "s" : ""));
  } catch (const billing::BillingError& e) {
    // As in serve: a file given must be usable; a missing shipped one only disables the judging.
    if (given.empty()) {
      add("rules", "rules", Status::warn,
          std::string("not given, and the shipped rule file cannot be used: consultations will not be judged (") +
              e.what() + ")");
    } else {
      add("rules", "rules", Status::fail, e.what());
    }
  }
}

std::vector<Check> Checker::run() {
  for (const auto& problem : c_.problems) {
    add(problem.key, "value", Status::fail, problem.message);
    refused_.insert(problem.key);
  }
  listeners();
  subjects();
  tls();
  admin();
  delivery();
  store();
  plugin();
  rules();
  return std::move(checks_);
}

}  // namespace

int check_config(const Args& args) {
  po::options_description options("check-config options");
  options.add_options()("file", po::value<std::string>()->required(), "the configuration file of `sas-host serve`")(
      "warn-days", po::value<int>()->default_value(30),
      "warn about certificates and CRLs that expire within this many days")("json", po::bool_switch(),
                                                                            "print one JSON document");
  po::positional_options_description positional;
  positional.add("file", 1);
  int exit_code = 0;
  auto vm = sas::cli::parse_options("sas-host check-config", "FILE [--warn-days N] [--json]", options, args, exit_code,
                                    &positional);
  if (!vm) return exit_code;
  const std::string file = (*vm)["file"].as<std::string>();
  const int warn_days = (*vm)["warn-days"].as<int>();
  if (warn_days < 0) {
    std::cerr << "sas-host check-config: --warn-days " << warn_days << ": expected 0 or more\n";
    return 2;
  }

  // The file read as serve reads its --config: the same keys, the same refusals.
  std::vector<Check> checks;
  po::variables_map config;
  try {
    // What `sas-host serve --config FILE` does: the command line, then the file, then notify.
    const po::options_description keys = serve_options();
    po::store(po::command_line_parser(std::vector<std::string>{"--config", file}).options(keys).run(), config);
    sas::cli::store_config_file(file, keys, config, "config");
    po::notify(config);
    checks.push_back({"config", "keys", Status::ok, file + ": every key known and well formed"});
  } catch (const po::error& e) {
    checks.push_back({"config", "keys", Status::fail, e.what()});
  }
  if (checks.front().status == Status::ok) {
    const ServeConfig serve = read_serve_config(config);
    for (auto& check : Checker(config, serve, warn_days).run()) checks.push_back(std::move(check));
  }

  Status overall = Status::ok;
  for (const auto& check : checks) overall = std::max(overall, check.status);
  if ((*vm)["json"].as<bool>()) {
    boost::json::array entries;
    for (const auto& check : checks) {
      entries.push_back(boost::json::object{
          {"key", check.key}, {"check", check.what}, {"status", label(check.status)}, {"message", check.message}});
    }
    std::cout << boost::json::serialize(boost::json::object{{"file", file},
                                                            {"status", label(overall)},
                                                            {"warn_days", warn_days},
                                                            {"checks", std::move(entries)}})
              << "\n";
  } else {
    for (const auto& check : checks) {
      std::string line = label(check.status);
      line.resize(5, ' ');
      std::cout << line << check.key << " (" << check.what << "): " << check.message << "\n";
    }
    std::cout << (overall == Status::fail   ? "FAIL: serve would refuse this configuration or fail on it"
                  : overall == Status::warn ? "OK with warnings"
                                            : "OK")
              << "\n";
  }
  return overall == Status::fail ? 1 : 0;
}

}  // namespace sas::host::cli
