// sas-fuzz-seeds: writes the seed corpus of every fuzz target that comes from files outside the
// repository (the SAS IG's examples, the ANS test kit) or from the tests' own inputs (the agendas
// behind the IG's example Bundles), under OUT/<target>/. The IG is never copied into the repo:
// these seeds are generated into the build directory, each time (scripts/fuzz, ctest's
// fuzz_seeds fixture). Small hand-written seeds are committed under fuzz/corpus/<target>/.
//
//   sas-fuzz-seeds --ig IG_DIR --source REPO --out DIR [--test-kit CSV] [--plugin FILE]
#include <boost/json.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "cpts_example_agenda.hpp"
#include "example_agenda.hpp"

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

std::string read(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error(file.string() + ": cannot be read");
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class Writer {
 public:
  explicit Writer(fs::path out) : out_(std::move(out)) {}
  void write(const std::string& target, const std::string& name, const std::string& bytes) {
    fs::create_directories(out_ / target);
    std::ofstream(out_ / target / name, std::ios::binary) << bytes;
    ++counts_[target];
  }
  void summary() const {
    for (const auto& [target, count] : counts_) std::printf("%s: %d seeds\n", target.c_str(), count);
  }

 private:
  fs::path out_;
  std::map<std::string, int> counts_;
};

// "https://host/base/Slot?a=b" -> "/Slot?a=b" (the request target the server sees).
std::string path_form(const std::string& url) {
  const auto scheme = url.find("://");
  const auto slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  if (slash == std::string::npos) return url;
  const auto query = url.find('?');
  const auto resource = url.rfind('/', query);
  return url.substr(resource == std::string::npos ? slash : resource);
}

// The query of a CPTS link without its _include=Slot:service-type-reference (cpts_query adds it).
std::string cpts_rest(const std::string& url) {
  std::string query = url.substr(url.find('?') + 1);
  const std::string include = "_include=Slot:service-type-reference";
  if (auto at = query.find(include); at != std::string::npos) {
    query.erase(at, include.size());
    if (at < query.size() && query[at] == '&') {
      query.erase(at, 1);
    } else if (at > 0 && query[at - 1] == '&') {
      query.erase(at - 1, 1);
    }
  }
  return query;
}

std::string answer_seed(char flags, const sas::plugin::v1::SearchSlotsResponse& response) {
  return std::string(1, flags) + response.SerializeAsString();
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> args;
  for (int i = 1; i + 1 < argc; i += 2) args[argv[i]] = argv[i + 1];
  for (const char* required : {"--ig", "--source", "--out"}) {
    if (args.count(required) == 0) {
      std::fprintf(stderr,
                   "usage: sas-fuzz-seeds --ig IG_DIR --source REPO --out DIR [--test-kit CSV] [--plugin FILE]\n");
      return 2;
    }
  }
  try {
    const fs::path ig = args["--ig"];
    const fs::path source = args["--source"];
    Writer out(args["--out"]);

    // The IG's example Bundles: their self links are the platform's requests.
    std::string psindiv_query;
    for (const auto& entry : fs::directory_iterator(ig / "example")) {
      const std::string name = entry.path().filename().string();
      const std::string stem = entry.path().stem().string();
      if (name.rfind("Bundle-", 0) == 0) {
        const json::value bundle = json::parse(read(entry.path()));
        for (const auto& link : bundle.at("link").as_array()) {
          const std::string url(link.at("url").as_string());
          const bool sos = url.find("/Schedule") != std::string::npos;
          const bool cpts = url.find("Slot:service-type-reference") != std::string::npos;
          const std::string target = sos ? "sos_query" : "slot_query";
          out.write(target, stem + "-url", url);
          out.write(target, stem + "-target", path_form(url));
          if (cpts) out.write("cpts_query", stem, cpts_rest(url));
          if (!sos && !cpts) psindiv_query = path_form(url);
        }
      }
      // INT_R02: the IG's regulator Practitioners; the other Practitioners are refusals to reach.
      if (name.rfind("Practitioner-", 0) == 0) out.write("practitioner", stem, read(entry.path()));
    }

    // The ANS test kit's requirements name the parameters they test ("start=", "status=free"):
    // each one added to the example request once more (the repeated-parameter paths).
    const std::regex parameter(R"(([A-Za-z_:.]+)=([^ ,"\]\)]*))");
    std::set<std::string> seen;
    const std::string kit = args.count("--test-kit") != 0 ? read(args["--test-kit"]) : std::string();
    for (auto it = std::sregex_iterator(kit.begin(), kit.end(), parameter); it != std::sregex_iterator(); ++it) {
      const std::string token = it->str();
      if (!seen.insert(token).second || psindiv_query.empty()) continue;
      out.write("slot_query", "test-kit-" + std::to_string(seen.size()), psindiv_query + "&" + token);
    }

    // The agendas behind the IG's example Bundles (tests/slot_search), as a plugin answers them:
    // INT_R01 with Paris and UTC offsets, and both CPTS examples as the CPTS search.
    using sas::test::agenda::cpts_example_agenda;
    using sas::test::agenda::example_agenda;
    out.write("plugin_answer", "psindiv-paris", answer_seed(0, example_agenda()));
    out.write("plugin_answer", "psindiv-utc-count", answer_seed(6, example_agenda()));
    out.write("plugin_answer", "cpts1", answer_seed(1, cpts_example_agenda(1)));
    out.write("plugin_answer", "cpts2", answer_seed(1, cpts_example_agenda(2)));
    out.write("plugin_answer", "cpts2-as-int-r01", answer_seed(0, cpts_example_agenda(2)));

    // The files the host ships.
    out.write("billing_rules", "rules.json", read(source / "host/billing/rules/rules.json"));
    out.write("billing_rules", "rules_two_versions.json", read(source / "tests/billing/rules_two_versions.json"));
    out.write("host_config", "host.conf", read(source / "packaging/host.conf.in"));
    if (args.count("--plugin") != 0) out.write("elf_manifest", "raw_c_plugin.so", read(args["--plugin"]));
    out.summary();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sas-fuzz-seeds: %s\n", e.what());
    return 1;
  }
  return 0;
}
