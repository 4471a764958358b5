#include "systemd_notify.hpp"

#include <systemd/sd-daemon.h>

#include <cstring>

namespace sas::host::cli::systemd_notify {

namespace {

void send(const std::string& state, const Log& log) {
  // 0: keep NOTIFY_SOCKET, so that the later states reach systemd too.
  const int result = sd_notify(0, state.c_str());
  if (result < 0 && log) {
    std::string first_line = state.substr(0, state.find('\n'));
    log("systemd notification " + first_line + " failed: " + std::strerror(-result));
  }
}

// STATUS= is one line: a newline would start another assignment.
std::string one_line(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return text;
}

}  // namespace

void ready(const std::string& status, const Log& log) { send("READY=1\nSTATUS=" + one_line(status), log); }

void reloading(const Log& log) { send("RELOADING=1\nSTATUS=reloading the TLS material", log); }

void stopping(const Log& log) { send("STOPPING=1\nSTATUS=stopping", log); }

}  // namespace sas::host::cli::systemd_notify
