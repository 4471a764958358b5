// The loader against real libraries: the reference plugin, the probe, and one real bad file
// per refusal the host must make with a clear one-line reason.
#include <elf.h>
#include <gmock/gmock.h>
#include <google/protobuf/stubs/common.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <sas/host/plugin_loader/plugin.hpp>
#include <sas_test/support.hpp>
#include <stop_token>
#include <thread>

namespace {

namespace plugin_loader = sas::host::plugin_loader;

namespace fs = std::filesystem;
namespace v1 = sas::plugin::v1;
using sas::host::plugin_loader::PluginError;
using sas::host::plugin_loader::PluginInstance;
using testing::HasSubstr;

// Runs `load` and returns the plugin_loader::PluginError it must throw.
plugin_loader::PluginError refusal(const fs::path& path, const std::string& config = "") {
  try {
    plugin_loader::PluginInstance::load(path, config);
  } catch (const plugin_loader::PluginError& e) {
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << "reason must be one line: " << e.what();
    return e;
  }
  ADD_FAILURE() << path << " was accepted";
  return plugin_loader::PluginError(SAS_OK, "");
}

class LoaderTest : public testing::Test {
 protected:
  void SetUp() override { dir_ = sas::test::make_temp_dir("loader"); }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path copy_with(const fs::path& from, const std::string& name, size_t keep_bytes) {
    std::string bytes = sas::test::read_file(from);
    fs::path to = dir_ / name;
    sas::test::write_file(to, bytes.substr(0, std::min(keep_bytes, bytes.size())));
    return to;
  }
  fs::path dir_;
};

TEST_F(LoaderTest, ReadsTheReferencePluginIdentityWithoutLoadingIt) {
  auto manifest = sas::host::plugin_loader::inspect_plugin_file(sas::test::plugin("sas-sqlite-agenda"));
  EXPECT_EQ(manifest.name, "sqlite-agenda");
  EXPECT_EQ(manifest.abi_major, 1U);
  EXPECT_EQ(manifest.threading, "free-threaded");
  EXPECT_TRUE(manifest.declares_flow("slot-search"));
}

TEST_F(LoaderTest, LoadsNegotiatesAndCallsTheProbe) {
  std::vector<std::string> logs;
  sas::host::plugin_loader::HostServices services;
  services.log = [&](int32_t, std::string_view message) { logs.emplace_back(message); };
  const auto fixed = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
  services.now = [&] { return fixed; };
  auto plugin = plugin_loader::PluginInstance::load(sas::test::test_plugin("probe"), "", services);
  EXPECT_EQ(plugin->manifest().version, "1.2.3");
  EXPECT_EQ(plugin->abi_version(), SAS_ABI_VERSION);
  EXPECT_FALSE(plugin->free_threaded());
  EXPECT_THAT(logs, testing::Contains("probe ready"));

  v1::PluginRequest request;
  request.mutable_search_slots()->add_practitioner_national_ids("810002673899");
  v1::PluginResponse response;
  auto result = plugin->call(request, response);
  ASSERT_TRUE(result.ok()) << result.message;
  EXPECT_EQ(response.search_slots().practitioners(0).national_id(), "1700000000");  // the host's clock
}

// The call's stop token is what the plugin's should_stop() reads (is_cancelled), and shutdown
// waits for the call in flight rather than pulling the plugin from under it.
TEST_F(LoaderTest, TheStopTokenReachesShouldStopAndShutdownWaitsForTheCallInFlight) {
  using namespace std::chrono_literals;
  auto plugin = plugin_loader::PluginInstance::load(sas::test::test_plugin("probe"), "");
  v1::PluginRequest request;
  request.mutable_search_slots()->add_practitioner_national_ids("deadline");  // polls should_stop()
  std::stop_source stop;
  std::atomic<bool> call_done{false}, shutdown_done{false};
  sas::host::plugin_loader::CallResult result;
  std::thread call([&] {
    v1::PluginResponse response;
    result = plugin->call(request, response, {}, stop.get_token());  // no deadline: only the token stops it
    call_done = true;
  });
  std::this_thread::sleep_for(100ms);
  EXPECT_FALSE(call_done) << "the call returned although nothing stopped it";
  std::thread closer([&] {
    plugin->shutdown();
    shutdown_done = true;
  });
  std::this_thread::sleep_for(100ms);
  EXPECT_FALSE(shutdown_done) << "shutdown did not wait for the call in flight";
  stop.request_stop();
  call.join();
  closer.join();
  EXPECT_EQ(result.status, SAS_ERR_DEADLINE_EXCEEDED) << result.message;
  v1::PluginResponse after;
  EXPECT_EQ(plugin->call(request, after).status, SAS_ERR_UNAVAILABLE) << "a call started after shutdown";
}

TEST_F(LoaderTest, NoExceptionCrossesTheBoundary) {
  auto plugin = plugin_loader::PluginInstance::load(sas::test::test_plugin("probe"), "");
  v1::PluginRequest request;
  request.mutable_search_slots()->add_practitioner_national_ids("throw");
  v1::PluginResponse response;
  auto result = plugin->call(request, response);
  EXPECT_EQ(result.status, SAS_ERR_INTERNAL);
  EXPECT_THAT(result.message, HasSubstr("probe search exploded"));
}

TEST_F(LoaderTest, PluginSeesTheDeadline) {
  auto plugin = plugin_loader::PluginInstance::load(sas::test::test_plugin("probe"), "");
  v1::PluginRequest request;
  request.mutable_search_slots()->add_practitioner_national_ids("deadline");
  v1::PluginResponse response;
  auto started = std::chrono::steady_clock::now();
  auto result = plugin->call(request, response, std::chrono::system_clock::now() + std::chrono::milliseconds(50));
  EXPECT_EQ(result.status, SAS_ERR_DEADLINE_EXCEEDED);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
}

TEST_F(LoaderTest, SerializedPluginIsNeverCalledConcurrently) {
  auto plugin = plugin_loader::PluginInstance::load(sas::test::test_plugin("probe"), "");
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        v1::PluginRequest request;
        request.mutable_search_slots()->add_practitioner_national_ids("810002673899");
        v1::PluginResponse response;
        if (!plugin->call(request, response).ok()) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST_F(LoaderTest, ShutdownIsIdempotentAndLaterCallsAreRefused) {
  auto plugin = plugin_loader::PluginInstance::load(sas::test::test_plugin("probe"), "");
  plugin->shutdown();
  plugin->shutdown();
  v1::PluginRequest request;
  request.mutable_search_slots();
  v1::PluginResponse response;
  EXPECT_EQ(plugin->call(request, response).status, SAS_ERR_UNAVAILABLE);
}

TEST_F(LoaderTest, RefusesAFileThatIsNotASharedLibrary) {
  fs::path text = dir_ / "notes.so";
  sas::test::write_file(text, "this is not a library\n");
  auto error = refusal(text);
  EXPECT_THAT(error.what(), HasSubstr("not a shared library"));
  EXPECT_THAT(refusal(dir_ / "missing.so").what(), HasSubstr("no such file"));
}

TEST_F(LoaderTest, RefusesATruncatedLibrary) {
  fs::path real = sas::test::plugin("sas-sqlite-agenda");
  size_t size = fs::file_size(real);
  EXPECT_THAT(refusal(copy_with(real, "half.so", size / 2)).what(), HasSubstr("truncated"));
  EXPECT_THAT(refusal(copy_with(real, "tiny.so", 100)).what(), HasSubstr("truncated"));
  EXPECT_THAT(refusal(copy_with(real, "ten.so", 10)).what(), HasSubstr("not a shared library"));
}

TEST_F(LoaderTest, RefusesALibraryForAnotherArchitectureBeforeOpeningIt) {
  fs::path copy = copy_with(sas::test::plugin("sas-sqlite-agenda"), "arm.so", SIZE_MAX);
  std::string bytes = sas::test::read_file(copy);
  uint16_t machine = EM_AARCH64;
#if defined(__aarch64__)
  machine = EM_X86_64;
#endif
  std::memcpy(bytes.data() + offsetof(Elf64_Ehdr, e_machine), &machine, sizeof machine);
  sas::test::write_file(copy, bytes);
  EXPECT_THAT(refusal(copy).what(), HasSubstr("built for"));
}

TEST_F(LoaderTest, RefusesALibraryWithoutTheEntryPoint) {
  auto error = refusal(sas::test::test_plugin("no_entry_point"));
  EXPECT_THAT(error.what(), HasSubstr("does not export the entry point 'sas_plugin_negotiate'"));
}

TEST_F(LoaderTest, RefusesAnIncompatibleMajorVersion) {
  auto from_manifest = refusal(sas::test::test_plugin("abi_major_2"));
  EXPECT_EQ(from_manifest.code(), SAS_ERR_INCOMPATIBLE_VERSION);
  EXPECT_THAT(from_manifest.what(), HasSubstr("built for ABI 2.0"));

  auto from_handshake = refusal(sas::test::test_plugin("answers_abi_2"));
  EXPECT_EQ(from_handshake.code(), SAS_ERR_INCOMPATIBLE_VERSION);
  EXPECT_THAT(from_handshake.what(), HasSubstr("plugin chose 2.0"));

  auto refused_by_plugin = refusal(sas::test::test_plugin("refuses_host"));
  EXPECT_EQ(refused_by_plugin.code(), SAS_ERR_INCOMPATIBLE_VERSION);
  EXPECT_THAT(refused_by_plugin.what(), HasSubstr("this plugin needs ABI 3.x"));
}

TEST_F(LoaderTest, RefusesAFunctionTableSmallerThanRequired) {
  auto error = refusal(sas::test::test_plugin("small_table"));
  EXPECT_EQ(error.code(), SAS_ERR_INCOMPATIBLE_VERSION);
  EXPECT_THAT(error.what(), HasSubstr("function table too small: 16 bytes"));
}

TEST_F(LoaderTest, ReportsAPluginWhoseInitFails) {
  auto told = refusal(sas::test::test_plugin("probe"), "fail");
  EXPECT_EQ(told.code(), SAS_ERR_INIT_FAILED);
  EXPECT_THAT(told.what(), HasSubstr("failed to initialise"));
  EXPECT_THAT(told.what(), HasSubstr("probe told to fail"));

  auto threw = refusal(sas::test::test_plugin("probe"), "throw");
  EXPECT_THAT(threw.what(), HasSubstr("probe init exploded"));

  auto no_db = refusal(sas::test::plugin("sas-sqlite-agenda"), "db=" + (dir_ / "absent.db").string());
  EXPECT_THAT(no_db.what(), HasSubstr("cannot open agenda database"));
  auto bad_key = refusal(sas::test::plugin("sas-sqlite-agenda"), "database=x");
  EXPECT_THAT(bad_key.what(), HasSubstr("unknown --plugin-config key 'database'"));
}

TEST_F(LoaderTest, AnSdkPluginRecordsTheProtobufItWasCompiledAgainst) {
  // The reference plugin and this test are compiled against the same protobuf headers.
  for (const char* name : {"sas-sqlite-agenda"}) {
    EXPECT_EQ(plugin_loader::inspect_plugin_file(sas::test::plugin(name)).protobuf_version,
              static_cast<uint32_t>(GOOGLE_PROTOBUF_VERSION));
  }
  EXPECT_EQ(plugin_loader::inspect_plugin_file(sas::test::test_plugin("probe")).entries.at("protobuf"),
            std::to_string(GOOGLE_PROTOBUF_VERSION));
  EXPECT_EQ(plugin_loader::protobuf_version_text(3021012), "3.21.12");
}

TEST_F(LoaderTest, RefusesAPluginCompiledAgainstAnotherProtobufMinorBeforeRunningIt) {
  const std::string ours = plugin_loader::protobuf_version_text(GOOGLE_PROTOBUF_VERSION);
  const std::string theirs = plugin_loader::protobuf_version_text(
      GOOGLE_PROTOBUF_VERSION / 1000000 * 1000000 + (GOOGLE_PROTOBUF_VERSION / 1000 % 1000 - 1) * 1000 + 3);
  for (const auto& error : {refusal(sas::test::test_plugin("protobuf_other_minor")), [] {
                              try {
                                plugin_loader::inspect_plugin_file(sas::test::test_plugin("protobuf_other_minor"));
                              } catch (const PluginError& e) {
                                return e;
                              }
                              return PluginError(SAS_OK, "inspect_plugin_file accepted it");
                            }()}) {
    EXPECT_EQ(error.code(), SAS_ERR_INCOMPATIBLE_VERSION) << error.what();
    EXPECT_THAT(error.what(), HasSubstr("incompatible protobuf: plugin 'raw-c-test' was compiled against protobuf " +
                                        theirs + ", but the process that loads it runs protobuf " + ours));
    EXPECT_THAT(error.what(), HasSubstr("docs/plugin-guide.md"));
  }
  // A runner built elsewhere checks it itself: the host leaves it.
  EXPECT_EQ(plugin_loader::inspect_plugin_file(sas::test::test_plugin("protobuf_other_minor"),
                                               plugin_loader::ProtobufCheck::left_to_runner)
                    .protobuf_version /
                1000 % 1000,
            static_cast<uint32_t>(GOOGLE_PROTOBUF_VERSION / 1000 % 1000 - 1));
}

TEST_F(LoaderTest, AcceptsAnotherPatchOfTheHostsProtobufAndAManifestThatDoesNotSay) {
  for (const char* name : {"protobuf_other_patch", "raw_ok"}) {
    auto plugin = plugin_loader::PluginInstance::load(sas::test::test_plugin(name), "");
    v1::PluginRequest request;
    request.mutable_search_slots();
    v1::PluginResponse response;
    EXPECT_EQ(plugin->call(request, response).status, SAS_ERR_UNIMPLEMENTED) << name;
  }
  EXPECT_EQ(plugin_loader::inspect_plugin_file(sas::test::test_plugin("raw_ok")).protobuf_version, 0U);
}

TEST_F(LoaderTest, RefusesAMalformedProtobufKey) {
  for (const char* value : {"3.21.12", "", "12", "30210120000"}) {
    try {
      plugin_loader::parse_manifest(
          std::string("name=n\nvendor=v\nversion=1\nabi=1.0\nthreading=serialized\nprotobuf=") + value + "\n");
      ADD_FAILURE() << "accepted protobuf=" << value;
    } catch (const PluginError& e) {
      EXPECT_THAT(e.what(), HasSubstr("manifest 'protobuf' must be a GOOGLE_PROTOBUF_VERSION")) << value;
    }
  }
}

TEST_F(LoaderTest, AcceptsAMinimalRawCPlugin) {
  auto plugin = plugin_loader::PluginInstance::load(sas::test::test_plugin("raw_ok"), "");
  v1::PluginRequest request;
  request.mutable_search_slots();
  v1::PluginResponse response;
  EXPECT_EQ(plugin->call(request, response).status, SAS_ERR_UNIMPLEMENTED);
}

}  // namespace
