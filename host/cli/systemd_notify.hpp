// Type=notify (packaging/sas-host.service): tells systemd when `sas-host serve` is ready, reloading
// or stopping. Without NOTIFY_SOCKET in the environment (not started by systemd) each call does
// nothing.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace sas::host::cli::systemd_notify {

// Where a failed notification is reported (systemd would otherwise just time the service out).
using Log = std::function<void(std::string_view)>;

// READY=1 with a STATUS= line that `systemctl status` shows: once every listener accepts
// connections, and again when a reload is over.
void ready(const std::string& status, const Log& log);
// RELOADING=1: a SIGHUP reload of the TLS material has begun; ready() follows when it is done.
void reloading(const Log& log);
// STOPPING=1: the stop has begun (in-flight requests finish first).
void stopping(const Log& log);

}  // namespace sas::host::cli::systemd_notify
