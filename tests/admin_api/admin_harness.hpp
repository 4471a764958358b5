// What the admin API tests share: a test PKI with an admin client certificate, a generated
// agenda, a private token file, and the real `sas-host serve` with the reference plugin and
// --admin-listen 127.0.0.1:0; requests through the host's own admin client (libcurl).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <sas/host/admin_api/admin_client.hpp>

#include "sas_test/support.hpp"

namespace sas::admin_test {

namespace fs = std::filesystem;

inline constexpr const char* kAdminSubject = "CN=backoffice,OU=ADMIN";

// One free slot of the generated agenda and its practitioner.
struct AgendaSlot {
  std::string id;
  std::string practitioner;  // prefixed IDNPS
  int64_t start = 0;         // seconds UTC
};

class World {
 public:
  World();  // PKI (with `admin`: CN=backoffice, OU=ADMIN), agenda, token file; no host yet
  World(const World&) = delete;
  World& operator=(const World&) = delete;
  ~World();

  // The serve command line without the admin options.
  std::vector<std::string> serve_arguments() const;
  // Starts the host with a token and the admin allow-list (or `admin_extra` instead of them),
  // and `extra` serve options; throws with the host's output if it does not come up.
  void start_host(const std::vector<std::string>& admin_extra = {}, const std::vector<std::string>& extra = {});
  void stop_host();

  // A request as the token holder (`token` "" for none), or with a client certificate `cert`
  // of the PKI ("admin", "client", ...).
  sas::host::admin_api::ClientAnswer call(const std::string& method, const std::string& path,
                                          const std::string& body = "", const std::string& token = "\x01",
                                          const std::string& cert = "") const;
  boost::json::value json(const sas::host::admin_api::ClientAnswer& answer) const;

  const std::string& token() const { return token_; }
  const fs::path& work() const { return work_; }
  fs::path pki(const std::string& file) const { return pki_ / file; }
  const fs::path& pki_dir() const { return pki_; }
  fs::path token_file() const { return work_ / "admin.token"; }
  fs::path store() const { return work_ / "host.db"; }
  fs::path agenda() const { return work_ / "agenda.db"; }
  std::string admin_base() const { return "https://localhost:" + std::to_string(admin_port_); }
  std::string host_output() const { return host_ ? host_->output() : ""; }

  AgendaSlot free_slot() const;
  std::string practitioner(int n = 0) const;  // the agenda's n-th practitioner with an RPPS, prefixed

 private:
  fs::path work_, pki_;
  std::string token_;
  uint16_t admin_port_ = 0;
  std::unique_ptr<sas::test::ChildProcess> host_;
};

}  // namespace sas::admin_test
