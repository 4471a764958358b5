// A plugin's identity, read from the library file without running any of its code.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <sas/plugin_abi.h>

namespace sas::host::plugin_loader {

// Every refusal to inspect or load a plugin: one line saying why, and the ABI status.
class PluginError : public std::runtime_error {
 public:
  PluginError(sas_status code, const std::string& message) : std::runtime_error(message), code_(code) {}
  sas_status code() const { return code_; }

 private:
  sas_status code_;
};

struct PluginManifest {
  std::string name;
  std::string vendor;
  std::string version;
  uint32_t abi_major = 0;
  uint32_t abi_minor = 0;
  std::vector<std::string> flows;
  std::string threading;                       // "serialized" or "free-threaded"
  std::map<std::string, std::string> entries;  // every key=value, known or not

  bool declares_flow(const std::string& flow) const;
};

// Reads and checks the ELF file: a shared library for this machine's architecture, that
// exports the entry point and carries a well-formed manifest whose ABI major this host speaks.
// Throws PluginError otherwise.
PluginManifest inspect_plugin_file(const std::filesystem::path& path);

// Parses manifest text (key=value lines). Throws PluginError naming the bad line or key.
PluginManifest parse_manifest(const std::string& text);

// "SAS_ERR_INVALID_ARGUMENT" etc.
const char* status_name(sas_status status);

}  // namespace sas::host::plugin_loader
