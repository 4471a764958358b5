// sas-host inspect-plugin PATH: identity and capabilities from the file, no plugin code run.
#include <boost/json.hpp>
#include <iostream>
#include <sas/host/plugin_loader/manifest.hpp>

#include "commands.hpp"
#include "options.hpp"

namespace sas::host::cli {

using sas::cli::parse_options;
namespace po = sas::cli::po;

int inspect_plugin(const Args& args) {
  po::options_description options("inspect-plugin options");
  options.add_options()("path", po::value<std::string>()->required(), "the plugin library (.so)")(
      "json", po::bool_switch(), "print JSON instead of text");
  po::positional_options_description positional;
  positional.add("path", 1);
  int exit_code = 0;
  auto vm = parse_options("sas-host inspect-plugin", "PATH [--json]", options, args, exit_code, &positional);
  if (!vm) return exit_code;

  const auto& path = (*vm)["path"].as<std::string>();
  plugin_loader::PluginManifest manifest;
  try {
    manifest = plugin_loader::inspect_plugin_file(path);
  } catch (const plugin_loader::PluginError& e) {
    std::cerr << "refused: " << e.what() << "\n";
    return 1;
  }
  const std::string abi = std::to_string(manifest.abi_major) + "." + std::to_string(manifest.abi_minor);
  const std::string protobuf =
      manifest.protobuf_version == 0 ? "" : plugin_loader::protobuf_version_text(manifest.protobuf_version);
  const std::string host_protobuf =
      plugin_loader::protobuf_version_text(plugin_loader::this_process_protobuf_version());
  if ((*vm)["json"].as<bool>()) {
    boost::json::array flows;
    for (const auto& flow : manifest.flows) flows.emplace_back(flow);
    boost::json::object out{
        {"path", path}, {"name", manifest.name}, {"vendor", manifest.vendor},      {"version", manifest.version},
        {"abi", abi},   {"flows", flows},        {"threading", manifest.threading}};
    // null: the manifest does not say (not built with SAS_PLUGIN, or with an older SDK).
    out["protobuf"] = protobuf.empty() ? boost::json::value(nullptr) : boost::json::value(protobuf);
    std::cout << boost::json::serialize(out) << "\n";
  } else {
    std::string flows;
    for (const auto& flow : manifest.flows) flows += (flows.empty() ? "" : ", ") + flow;
    std::cout << "plugin:    " << manifest.name << " " << manifest.version << "\n"
              << "vendor:    " << manifest.vendor << "\n"
              << "abi:       " << abi << " (this host speaks " << SAS_ABI_VERSION_MAJOR << ".0 to "
              << SAS_ABI_VERSION_MAJOR << "." << SAS_ABI_VERSION_MINOR << ")\n"
              << "flows:     " << (flows.empty() ? "(none)" : flows) << "\n"
              << "threading: " << manifest.threading << "\n"
              << "protobuf:  " << (protobuf.empty() ? "(not recorded)" : protobuf) << " (this host loads "
              << host_protobuf << ")\n"
              << "file:      " << path << "\n";
  }
  return 0;
}

}  // namespace sas::host::cli
