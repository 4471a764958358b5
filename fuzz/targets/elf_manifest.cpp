// The plugin loader's inspection of a plugin file (inspect_plugin_file: the ELF header, the
// section table, the dynamic symbols, the manifest section and its key=value lines), on any
// bytes written as a file. A bad file is a PluginError saying why; nothing else may escape.
#include "fuzz_support.hpp"
#include "sas/host/plugin_loader/manifest.hpp"

namespace pl = sas::host::plugin_loader;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const auto file = sas::fuzz::write_scratch_file("plugin.so", data, size);
  try {
    const pl::PluginManifest manifest = pl::inspect_plugin_file(file);
    sas::fuzz::require(!manifest.name.empty(), "an accepted manifest has no name");
    (void)manifest.declares_flow("slot-search");
  } catch (const pl::PluginError& e) {
    sas::fuzz::require(e.code() != SAS_OK, "a refusal with status SAS_OK");
  }
  return 0;
}
