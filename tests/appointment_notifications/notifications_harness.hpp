// What the INT_R03 end-to-end tests share: a test PKI with a vendor client certificate,
// `sas-sim serve` as the platform (stopped and restarted at will, on the same port and file),
// the real `sas-host serve` delivering to it (killed and restarted at will, on the same store),
// events reported with `sas-host appointment-event`, and readers of both files.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "sas_test/support.hpp"

namespace sas::notifications_test {

namespace fs = std::filesystem;

inline constexpr const char* kSystem = "urn:oid:1.1.111.1.11.1.1.1";  // the example vendor's OID

// One event in the documented JSON format; `hour` gives distinct start/end per state.
boost::json::object event(const std::string& id, const std::string& type, int hour = 14);
// The same at an SOS Médecins place: the association's SIRET in place of the practitioner.
boost::json::object sos_event(const std::string& id, const std::string& type, const std::string& siret,
                              bool needs_action = false, int hour = 14);

class World {
 public:
  World();
  World(const World&) = delete;
  World& operator=(const World&) = delete;
  ~World();

  // The platform. `fail` as sas-sim serve --fail; extra e.g. {"--fail-rate", "0.5"}.
  void start_platform(const std::string& fail = "none", const std::vector<std::string>& extra = {});
  void stop_platform();
  void kill_platform();
  // The host, delivering to the platform. `extra`: more serve options.
  void start_host(const std::vector<std::string>& extra = {});
  void stop_host();
  void kill_host();  // SIGKILL
  bool host_running();

  // sas-host appointment-event with these events (one call, one commit); throws on failure.
  void report(const std::vector<boost::json::object>& events);
  // sas-host outbox ACTION, parsed JSON lines.
  std::vector<boost::json::object> outbox(const std::string& action, const std::vector<std::string>& extra = {});
  boost::json::object status() { return outbox("status").at(0); }
  // Waits until the outbox has no pending row (and `delivered` rows delivered, if given).
  bool wait_delivered(int64_t delivered, std::chrono::seconds timeout = std::chrono::seconds(60));
  bool wait_dead(int64_t dead, std::chrono::seconds timeout = std::chrono::seconds(30));

  // What the platform received: rows of `received` as maps.
  struct Received {
    int64_t n;
    std::string method, target, identifier, status, result, body;
    int http_status;
  };
  std::vector<Received> received();

  // One request to the platform with a certificate of the PKI (libcurl); status 0 = no answer.
  struct Answer {
    long status = 0;
    std::string body;
  };
  Answer send_to_platform(const std::string& method, const std::string& path, const std::string& body,
                          const std::string& client = "vendor");

  const fs::path& work() const { return work_; }
  fs::path agenda() const { return work_ / "agenda.db"; }  // the reference plugin's file
  fs::path store() const { return work_ / "host.db"; }
  fs::path platform_db() const { return work_ / "platform.db"; }
  std::string host_output() const { return host_ ? host_->output() : ""; }
  std::string platform_output() const { return platform_ ? platform_->output() : ""; }

 private:
  fs::path work_, pki_;
  uint16_t platform_port_ = 0;
  std::unique_ptr<sas::test::ChildProcess> platform_;
  std::unique_ptr<sas::test::ChildProcess> host_;
  std::vector<std::string> host_extra_;
};

}  // namespace sas::notifications_test
