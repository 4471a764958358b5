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
  std::string threading;  // "serialized" or "free-threaded"
  // GOOGLE_PROTOBUF_VERSION of the headers the plugin was compiled against (major * 1000000 +
  // minor * 1000 + patch), from the key `protobuf`; 0 when the manifest does not say (a plugin
  // not built with the SDK's SAS_PLUGIN, or with an SDK older than the key).
  uint32_t protobuf_version = 0;
  std::map<std::string, std::string> entries;  // every key=value, known or not

  bool declares_flow(const std::string& flow) const;
};

// Who compares the plugin's protobuf with the one it will run with. A plugin uses the protobuf
// runtime (and libsasplugin_proto) of the process that loads it, so the check belongs to that
// process: this one (in-process loading, a runner, or a host whose runners are its own build),
// or a runner built elsewhere (`plugin-runner`), which makes the check itself when it loads.
enum class ProtobufCheck { this_process, left_to_runner };

// Reads and checks the ELF file: a shared library for this machine's architecture, that
// exports the entry point and carries a well-formed manifest whose ABI major this host speaks
// and, with ProtobufCheck::this_process, whose protobuf major.minor is this process's.
// Throws PluginError otherwise.
PluginManifest inspect_plugin_file(const std::filesystem::path& path,
                                   ProtobufCheck protobuf = ProtobufCheck::this_process);

// "3.21.12" for 3021012, the form of GOOGLE_PROTOBUF_VERSION.
std::string protobuf_version_text(uint32_t version);

// The protobuf this process was built with and loads (GOOGLE_PROTOBUF_VERSION).
uint32_t this_process_protobuf_version();

// Parses manifest text (key=value lines). Throws PluginError naming the bad line or key.
PluginManifest parse_manifest(const std::string& text);

// "SAS_ERR_INVALID_ARGUMENT" etc.
const char* status_name(sas_status status);

}  // namespace sas::host::plugin_loader
