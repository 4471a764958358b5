// When a PEM certificate stops being valid, for sas_tls_certificate_expiry_timestamp_seconds
// (an alert before the listener's certificate expires).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>

namespace sas::host::metrics {

// The notAfter of the first certificate of a PEM file, in seconds since the epoch; nullopt when
// the file cannot be read or holds no certificate.
std::optional<int64_t> certificate_not_after(const std::filesystem::path& pem_file);

}  // namespace sas::host::metrics
