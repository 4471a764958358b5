// sas-host serve: load the plugin, open the store, serve until SIGINT/SIGTERM.
#include <signal.h>

#include <iostream>
#include <sas/host/plugin_loader/plugin.hpp>
#include <sas/host/store/store.hpp>

#include "commands.hpp"
#include "options.hpp"

namespace sas::host::cli {

using sas::cli::parse_options;
namespace po = sas::cli::po;

int serve(const Args& args) {
  po::options_description options("serve options (each is also a key of the --config file)");
  options.add_options()("config", po::value<std::string>(), "config file of `key = value` lines")(
      "plugin", po::value<std::string>()->required(), "plugin library (.so)")(
      "plugin-config", po::value<std::string>()->default_value(""), "passed verbatim to the plugin")(
      "store", po::value<std::string>()->default_value("sqlite:sas-host.db"), "the host's own state: sqlite:PATH");
  int exit_code = 0;
  auto vm = parse_options("sas-host serve", "[--config FILE] --plugin PATH [--plugin-config S] [--store URL]", options,
                          args, exit_code, nullptr, "config");
  if (!vm) return exit_code;

  // Block the stop signals before any thread starts, then wait for them here.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto store = Store::open((*vm)["store"].as<std::string>());
  auto plugin = PluginInstance::load((*vm)["plugin"].as<std::string>(), (*vm)["plugin-config"].as<std::string>());
  std::cerr << "sas-host: plugin " << plugin->manifest().name << " " << plugin->manifest().version << " loaded (ABI "
            << SAS_ABI_VERSION_MAJOR_OF(plugin->abi_version()) << "." << SAS_ABI_VERSION_MINOR_OF(plugin->abi_version())
            << "), store " << store->url() << " ready" << std::endl;

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  std::cerr << "sas-host: stopping on signal " << signal_number << std::endl;
  plugin->shutdown();
  return 0;
}

}  // namespace sas::host::cli
