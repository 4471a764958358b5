// ABI 1.4, the doctor settings host calls (HostRequest cases 18 to 23), through real plugins
// loaded by the real loader, answered by the host's router (doctor_settings::HostCalls) over the
// real Service and a real SQLite store:
// - a driver plugin built with the SDK calls each Host method as a vendor's UI would;
// - the reference plugin pushes what its agenda recorded (sas_doctor_settings_change,
//   sas_publication_rule_request) from its background thread.
#include <dlfcn.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <functional>
#include <sas/host/doctor_settings/host_calls.hpp>
#include <sas/host/plugin_loader/manifest.hpp>
#include <sas/host/store/store.hpp>
#include <sas/sqlite_agenda/schema.hpp>
#include <sas_test/support.hpp>
#include <string>
#include <thread>

namespace {

namespace fs = std::filesystem;
namespace v1 = sas::plugin::v1;
namespace json = boost::json;
namespace ds = sas::host::doctor_settings;
using namespace std::chrono;
using testing::HasSubstr;

constexpr const char* kStored = "10100050075";   // an RPPS as an agenda may store it
constexpr const char* kDoctor = "810100050075";  // the same, prefixed: how the host keeps it

int64_t seconds_now() { return duration_cast<seconds>(system_clock::now().time_since_epoch()).count(); }

std::string to_hex(const std::string& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (const char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    out += kDigits[b >> 4];
    out += kDigits[b & 0xF];
  }
  return out;
}

std::string from_hex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  return out;
}

// The host side every test shares: a store in a fresh directory, the Service over it, and the
// router that serve wires into plugin_loader::HostServices::handle_request.
class SettingsHostTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = sas::test::make_temp_dir("settings-abi");
    repository_ = sas::host::store::open("sqlite:" + host_db().string()).doctor_settings;
    service_ = std::make_shared<ds::Service>(repository_);
  }
  void TearDown() override {
    if (plugin_) plugin_->shutdown();
    plugin_.reset();
    fs::remove_all(dir_);
  }
  fs::path host_db() const { return dir_ / "host.db"; }

  // Loads `path` with the router as its host calls; `available` false: every call answers
  // SAS_ERR_UNAVAILABLE first (a host whose store is down).
  void load(const fs::path& path, const std::string& config) {
    calls_ = std::make_shared<ds::HostCalls>(service_, sas::host::plugin_loader::inspect_plugin_file(path).name);
    sas::host::plugin_loader::HostServices services;
    services.handle_request = [calls = calls_, this](const v1::HostRequest& request, v1::HostResponse& response) {
      ++host_calls_;
      if (!available_) return sas::host::plugin_loader::CallResult{SAS_ERR_UNAVAILABLE, "store down (test)"};
      return calls->handle(request, response);
    };
    plugin_ = sas::host::plugin_loader::PluginInstance::load(path, config, services);
  }

  fs::path dir_;
  std::shared_ptr<ds::SettingsRepository> repository_;
  std::shared_ptr<ds::Service> service_;
  std::shared_ptr<ds::HostCalls> calls_;
  std::shared_ptr<sas::host::plugin_loader::PluginInstance> plugin_;
  std::atomic<bool> available_{true};
  std::atomic<int> host_calls_{0};
};

// ---- Every method through the SDK's Host methods (driver plugin) ---------------------------

struct Answer {
  sas_status status = SAS_ERR_INTERNAL;
  std::string message;
  v1::HostResponse response;
  bool has_doctor_settings = false;
};

class HostMethods : public SettingsHostTest {
 protected:
  void SetUp() override {
    SettingsHostTest::SetUp();
    load(sas::test::test_plugin("settings_driver"), "");
  }

  // The driver plugin makes `request` through the SDK's Host method and says what came back.
  Answer drive(const v1::HostRequest& request) {
    v1::PluginRequest plugin_request;
    plugin_request.mutable_search_slots()->add_practitioner_national_ids(to_hex(request.SerializeAsString()));
    v1::PluginResponse plugin_response;
    const sas::host::plugin_loader::CallResult result = plugin_->call(plugin_request, plugin_response);
    EXPECT_TRUE(result.ok()) << result.message;
    Answer answer;
    if (!result.ok() || plugin_response.search_slots().practitioners_size() != 1) return answer;
    const v1::Practitioner& out = plugin_response.search_slots().practitioners(0);
    answer.status = std::stoi(out.id());
    answer.message = out.family_name();
    EXPECT_TRUE(answer.response.ParseFromString(from_hex(out.national_id())));
    answer.has_doctor_settings = out.given_names(0) == "has_doctor_settings=1";
    return answer;
  }

  Answer set(const std::string& practitioner, const std::function<void(v1::SetDoctorSettingsRequest&)>& fill) {
    v1::HostRequest request;
    auto& set = *request.mutable_set_doctor_settings();
    set.set_practitioner_national_id(practitioner);
    fill(set);
    return drive(request);
  }
  Answer get(const std::string& practitioner) {
    v1::HostRequest request;
    request.mutable_get_doctor_settings()->set_practitioner_national_id(practitioner);
    return drive(request);
  }
  Answer add_rule(const std::string& practitioner, const std::string& rule_json) {
    v1::HostRequest request;
    request.mutable_add_publication_rule()->set_practitioner_national_id(practitioner);
    request.mutable_add_publication_rule()->set_rule_json(rule_json);
    request.mutable_add_publication_rule()->set_changed_by("ui-user-7");
    return drive(request);
  }
  Answer list_rules(const std::string& practitioner) {
    v1::HostRequest request;
    request.mutable_list_publication_rules()->set_practitioner_national_id(practitioner);
    return drive(request);
  }
  Answer remove_rule(const std::string& practitioner, int64_t id) {
    v1::HostRequest request;
    request.mutable_remove_publication_rule()->set_practitioner_national_id(practitioner);
    request.mutable_remove_publication_rule()->set_rule_id(id);
    return drive(request);
  }
};

TEST_F(HostMethods, TheHandshakeIsTheCurrentAbiAndThePluginSeesTheDoctorSettingsCalls) {
  EXPECT_EQ(plugin_->abi_version(), SAS_ABI_VERSION);  // 1.4 or later
  EXPECT_TRUE(get(kStored).has_doctor_settings);
}

TEST_F(HostMethods, SetThenGetAndTheHistorySaysThroughThePluginAndByWhom) {
  const int64_t chosen_at = seconds_now() - 3600;
  Answer set_answer = set(kStored, [&](v1::SetDoctorSettingsRequest& r) {
    r.set_visible(false);
    r.set_volunteer(true);
    r.set_phone("06 12 34 56 78");
    r.set_effective_at(chosen_at);
    r.set_changed_by("ui-user-7");
  });
  ASSERT_EQ(set_answer.status, SAS_OK) << set_answer.message;
  const v1::DoctorSettings& now = set_answer.response.set_doctor_settings().settings();
  EXPECT_EQ(now.practitioner_national_id(), kDoctor);  // normalised
  ASSERT_TRUE(now.has_visible());
  EXPECT_FALSE(now.visible());
  ASSERT_TRUE(now.has_volunteer());
  EXPECT_TRUE(now.volunteer());
  EXPECT_EQ(now.phone(), "+33612345678");
  EXPECT_FALSE(now.has_consent_to_call());  // never set
  EXPECT_EQ(now.updated_at(), chosen_at);

  Answer got = get(kDoctor);  // asked by the prefixed form this time
  ASSERT_EQ(got.status, SAS_OK) << got.message;
  EXPECT_EQ(got.response.get_doctor_settings().settings().SerializeAsString(), now.SerializeAsString());

  // Without changed_by, the plugin's manifest name.
  ASSERT_EQ(set(kStored, [](v1::SetDoctorSettingsRequest& r) { r.set_consent_to_call(true); }).status, SAS_OK);

  const auto history = service_->history(kDoctor);
  ASSERT_EQ(history.size(), 4U);
  for (const auto& change : history) {
    EXPECT_EQ(change.source, "plugin") << change.field;
    EXPECT_EQ(change.practitioner, kDoctor);
  }
  EXPECT_EQ(history[0].changed_by, "ui-user-7");
  EXPECT_EQ(history[0].effective_at, system_clock::time_point(seconds(chosen_at)));
  EXPECT_EQ(history[3].field, "consent_to_call");
  EXPECT_EQ(history[3].changed_by, "settings-driver");

  // The same value again is not history.
  ASSERT_EQ(set(kStored, [](v1::SetDoctorSettingsRequest& r) { r.set_visible(false); }).status, SAS_OK);
  EXPECT_EQ(service_->history(kDoctor).size(), 4U);
}

TEST_F(HostMethods, AnInvalidPhoneIsRefusedNamingTheFieldAndNothingIsRecorded) {
  Answer refused = set(kStored, [](v1::SetDoctorSettingsRequest& r) {
    r.set_visible(true);  // valid, but all or nothing
    r.set_phone("12");
  });
  EXPECT_EQ(refused.status, SAS_ERR_INVALID_ARGUMENT);
  EXPECT_THAT(refused.message, HasSubstr("phone"));
  EXPECT_TRUE(service_->history(kDoctor).empty());
  Answer got = get(kStored);
  ASSERT_EQ(got.status, SAS_OK) << got.message;
  EXPECT_FALSE(got.response.get_doctor_settings().settings().has_visible());
  EXPECT_EQ(got.response.get_doctor_settings().settings().updated_at(), 0);

  // A bad practitioner id names the message's field; a choice in the future is refused too.
  Answer bad_id = set("12345", [](v1::SetDoctorSettingsRequest& r) { r.set_visible(true); });
  EXPECT_EQ(bad_id.status, SAS_ERR_INVALID_ARGUMENT);
  EXPECT_THAT(bad_id.message, HasSubstr("practitioner_national_id"));
  Answer future = set(kStored, [](v1::SetDoctorSettingsRequest& r) {
    r.set_visible(true);
    r.set_effective_at(seconds_now() + 86400);
  });
  EXPECT_EQ(future.status, SAS_ERR_INVALID_ARGUMENT) << future.message;
  EXPECT_TRUE(repository_->changes("").empty());  // for no practitioner at all
}

TEST_F(HostMethods, RulesAreAddedListedRefusedOnConflictAndRemoved) {
  Answer added = add_rule(kStored, R"({"kind":"snp-motives","motives":["Fièvre"]})");
  ASSERT_EQ(added.status, SAS_OK) << added.message;
  const v1::PublicationRule& rule = added.response.add_publication_rule().rule();
  EXPECT_GT(rule.id(), 0);
  const json::object rule_json = json::parse(rule.json()).as_object();
  EXPECT_EQ(rule_json.at("kind"), "snp-motives");
  EXPECT_EQ(rule_json.at("id").to_number<int64_t>(), rule.id());

  Answer listed = list_rules(kDoctor);
  ASSERT_EQ(listed.status, SAS_OK) << listed.message;
  ASSERT_EQ(listed.response.list_publication_rules().rules_size(), 1);
  EXPECT_EQ(listed.response.list_publication_rules().rules(0).id(), rule.id());

  // The same motive hidden while it is reserved: refused with the other rule's id.
  Answer conflict = add_rule(kStored, R"({"kind":"hide-motives","motives":["fièvre"]})");
  EXPECT_EQ(conflict.status, SAS_ERR_INVALID_ARGUMENT);
  EXPECT_THAT(conflict.message, HasSubstr(std::to_string(rule.id())));
  Answer malformed = add_rule(kStored, R"({"kind":"snp-hours","days":["mon"],"from":"19:00","to":"17:00"})");
  EXPECT_EQ(malformed.status, SAS_ERR_INVALID_ARGUMENT);
  Answer not_json = add_rule(kStored, "{kind");
  EXPECT_EQ(not_json.status, SAS_ERR_INVALID_ARGUMENT);
  EXPECT_THAT(not_json.message, HasSubstr("rule_json"));
  EXPECT_EQ(list_rules(kStored).response.list_publication_rules().rules_size(), 1);

  // Removed: gone from the list, kept in the store with who removed it.
  Answer removed = remove_rule(kStored, rule.id());
  ASSERT_EQ(removed.status, SAS_OK) << removed.message;
  EXPECT_TRUE(removed.response.has_remove_publication_rule());
  EXPECT_EQ(list_rules(kStored).response.list_publication_rules().rules_size(), 0);
  const auto records = repository_->rules(kDoctor, true);
  ASSERT_EQ(records.size(), 1U);
  EXPECT_EQ(records[0].source, "plugin");
  EXPECT_EQ(records[0].created_by, "ui-user-7");
  EXPECT_TRUE(records[0].removed_at.has_value());
  EXPECT_EQ(records[0].removed_by, "settings-driver");

  // An unknown rule, or one removed already: not found.
  EXPECT_EQ(remove_rule(kStored, rule.id()).status, SAS_ERR_NOT_FOUND);
  Answer unknown = remove_rule(kStored, 999);
  EXPECT_EQ(unknown.status, SAS_ERR_NOT_FOUND);
  EXPECT_THAT(unknown.message, HasSubstr("999"));
}

TEST_F(HostMethods, ExplainAnswersOneJsonObjectPerSlotInOrder) {
  ASSERT_EQ(add_rule(kStored, R"({"kind":"snp-motives","motives":["Fièvre"]})").status, SAS_OK);
  v1::HostRequest request;
  auto& agenda = *request.mutable_explain_publication()->mutable_agenda();
  auto& practitioner = *agenda.add_practitioners();
  practitioner.set_id("P1");
  practitioner.set_national_id(kStored);
  practitioner.set_family_name("Durand");
  auto& place = *agenda.add_places();
  place.set_id("L1");
  place.set_practitioner_id("P1");
  const int64_t start = seconds_now() + 86400;
  for (int i = 0; i < 3; ++i) {
    auto& slot = *agenda.add_slots();
    slot.set_id("s" + std::to_string(i));
    slot.set_place_id("L1");
    slot.set_start(start + i * 1800);
    slot.set_end(start + i * 1800 + 1200);
    slot.set_status(v1::SLOT_FREE);
    slot.add_audiences(v1::AUDIENCE_PUBLIC);
    slot.add_modes(v1::MODE_AT_PRACTICE);
  }
  agenda.mutable_slots(1)->add_motives("Fièvre");
  request.mutable_explain_publication()->set_window_start(start - 60);
  request.mutable_explain_publication()->set_window_end(start + 86400);

  Answer explained = drive(request);
  ASSERT_EQ(explained.status, SAS_OK) << explained.message;
  const auto& explanations = explained.response.explain_publication().slot_explanations();
  ASSERT_EQ(explanations.size(), 3);
  std::vector<json::object> slots;
  for (const auto& text : explanations) slots.push_back(json::parse(text).as_object());
  for (const auto& slot : slots) EXPECT_TRUE(slot.at("published").as_bool()) << json::serialize(slot);
  // The rule made the slot with the motive SNP only, and only that one.
  EXPECT_THAT(json::serialize(slots[1].at("types")), HasSubstr("SNP"));
  EXPECT_THAT(json::serialize(slots[0].at("types")), testing::Not(HasSubstr("SNP")));

  // Hidden by the doctor: every slot says so.
  ASSERT_EQ(set(kStored, [](v1::SetDoctorSettingsRequest& r) { r.set_visible(false); }).status, SAS_OK);
  explained = drive(request);
  ASSERT_EQ(explained.status, SAS_OK) << explained.message;
  ASSERT_EQ(explained.response.explain_publication().slot_explanations_size(), 3);
  for (const auto& text : explained.response.explain_publication().slot_explanations()) {
    EXPECT_FALSE(json::parse(text).at("published").as_bool()) << text;
  }
}

TEST_F(HostMethods, AStoreThatCannotBeWrittenAnswersUnavailable) {
  sas::test::sqlite_exec(host_db(), "ALTER TABLE doctor_setting_change RENAME TO doctor_setting_change_away");
  Answer down = set(kStored, [](v1::SetDoctorSettingsRequest& r) { r.set_visible(true); });
  EXPECT_EQ(down.status, SAS_ERR_UNAVAILABLE) << down.message;
}

// On a host that negotiated 1.3, the SDK answers SAS_ERR_UNIMPLEMENTED itself and sends nothing:
// the same driver plugin, through the raw C boundary with a hand-made 1.3 host.
TEST(OlderHost, OnA13HostTheSdkAnswersUnimplementedWithoutSending) {
  void* library = dlopen(sas::test::test_plugin("settings_driver").c_str(), RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(library, nullptr) << dlerror();
  auto negotiate = reinterpret_cast<sas_plugin_negotiate_fn>(dlsym(library, SAS_PLUGIN_ENTRY_SYMBOL));
  ASSERT_NE(negotiate, nullptr);
  const sas_negotiate_offer offer{sizeof(sas_negotiate_offer), SAS_ABI_MAKE_VERSION(1, 3), SAS_ABI_MAKE_VERSION(1, 0)};
  sas_negotiate_answer answer{};
  answer.struct_size = sizeof(answer);
  ASSERT_EQ(negotiate(&offer, &answer), SAS_OK) << answer.message;
  EXPECT_EQ(answer.abi_version, SAS_ABI_MAKE_VERSION(1, 3));

  int calls = 0;
  sas_host_api host{};
  host.struct_size = sizeof(host);
  host.abi_version = answer.abi_version;
  host.host_context = &calls;
  host.log = [](void*, int32_t, const char*, size_t) {};
  host.now_unix_micros = [](void*) -> int64_t { return 0; };
  host.call_host = [](void* context, const uint8_t*, size_t, sas_bytes* response) -> sas_status {
    ++*static_cast<int*>(context);
    response->data = nullptr;
    response->size = 0;
    return SAS_ERR_UNIMPLEMENTED;
  };
  host.free_bytes = [](sas_bytes* bytes) {
    bytes->data = nullptr;
    bytes->size = 0;
  };
  sas_plugin_instance* instance = nullptr;
  sas_bytes error{};
  ASSERT_EQ(answer.api->init(&host, "", 0, &instance, &error), SAS_OK);

  v1::HostRequest call;
  call.mutable_get_doctor_settings()->set_practitioner_national_id(kStored);
  v1::PluginRequest request;
  request.mutable_search_slots()->add_practitioner_national_ids(to_hex(call.SerializeAsString()));
  const std::string bytes = request.SerializeAsString();
  const sas_call_context context{sizeof(sas_call_context), 0, nullptr, nullptr};
  sas_bytes response{};
  ASSERT_EQ(
      answer.api->invoke(instance, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), &context, &response),
      SAS_OK);
  v1::PluginResponse parsed;
  EXPECT_TRUE(parsed.ParseFromArray(response.data, static_cast<int>(response.size)));
  answer.api->free_bytes(&response);
  answer.api->destroy(instance);
  ASSERT_EQ(parsed.search_slots().practitioners_size(), 1);
  const v1::Practitioner& out = parsed.search_slots().practitioners(0);
  EXPECT_EQ(out.id(), std::to_string(SAS_ERR_UNIMPLEMENTED));
  EXPECT_THAT(out.family_name(), HasSubstr("1.4"));
  EXPECT_EQ(out.given_names(0), "has_doctor_settings=0");
  EXPECT_EQ(calls, 0);  // never sent to a host that does not know the method
}

// ---- The reference plugin pushes what its agenda recorded ------------------------------------

class ReferencePluginPush : public SettingsHostTest {
 protected:
  void SetUp() override {
    SettingsHostTest::SetUp();
    sas::test::sqlite_exec(agenda(), sas::sqlite_agenda::schema_sql());
    sas::test::sqlite_exec(agenda(), std::string("INSERT INTO practitioner (id, national_id, family_name) VALUES ") +
                                         "('P1', '" + kStored + "', 'Durand')");
  }
  fs::path agenda() const { return dir_ / "agenda.db"; }
  void load_reference() {
    load(sas::test::plugin("sas-sqlite-agenda"), "db=" + agenda().string() + ";report_interval_ms=20");
  }
  std::vector<std::vector<std::string>> rows(const std::string& sql) {
    return sas::test::sqlite_rows(agenda(), sql, "NULL");
  }
  // Waits (10 s at most) until `sql` answers `expected` as its first column of its first row.
  bool wait_for(const std::string& sql, const std::string& expected) {
    for (int i = 0; i < 1000; ++i) {
      const auto r = rows(sql);
      if (!r.empty() && !r[0].empty() && r[0][0] == expected) return true;
      std::this_thread::sleep_for(milliseconds(10));
    }
    return false;
  }
};

TEST_F(ReferencePluginPush, SettingsChangesArePushedInOrderRefusalsKeptOutagesRetried) {
  available_ = false;
  const int64_t chosen_at = seconds_now() - 600;
  sas::test::sqlite_exec(
      agenda(),
      "INSERT INTO sas_doctor_settings_change (practitioner_id, visible, changed_at, changed_by) VALUES ('P1', 0, " +
          std::to_string(chosen_at) +
          ", 'dr-durand');"
          "INSERT INTO sas_doctor_settings_change (practitioner_id, volunteer, phone) VALUES ('P1', 1, "
          "'01 23 45 67 89');"
          "INSERT INTO sas_doctor_settings_change (practitioner_id, phone) VALUES ('P1', 'not a phone');"
          "INSERT INTO sas_doctor_settings_change (practitioner_id, visible) VALUES ('" +
          std::string(kDoctor) + "', 1);");
  load_reference();
  // The host's store is down: nothing is marked, the plugin keeps trying.
  for (int i = 0; i < 500 && host_calls_ < 3; ++i) std::this_thread::sleep_for(milliseconds(10));
  EXPECT_GE(host_calls_.load(), 3);
  EXPECT_EQ(rows("SELECT count(*) FROM sas_doctor_settings_change WHERE pushed_at IS NOT NULL")[0][0], "0");
  EXPECT_TRUE(service_->history(kDoctor).empty());

  available_ = true;
  ASSERT_TRUE(wait_for("SELECT count(*) FROM sas_doctor_settings_change WHERE pushed_at IS NULL", "0"));
  const auto pushed = rows("SELECT id, COALESCE(error, '') FROM sas_doctor_settings_change ORDER BY id");
  ASSERT_EQ(pushed.size(), 4U);
  EXPECT_EQ(pushed[0][1], "");
  EXPECT_EQ(pushed[1][1], "");
  EXPECT_THAT(pushed[2][1], HasSubstr("phone"));  // refused, kept, not retried
  EXPECT_EQ(pushed[3][1], "");

  const auto history = service_->history(kDoctor);
  ASSERT_EQ(history.size(), 4U);  // visible, volunteer, phone, visible again
  EXPECT_EQ(history[0].field, "visible");
  EXPECT_EQ(history[0].value, "false");
  EXPECT_EQ(history[0].effective_at, system_clock::time_point(seconds(chosen_at)));  // changed_at
  EXPECT_EQ(history[0].changed_by, "dr-durand");
  for (const auto& change : history) EXPECT_EQ(change.source, "plugin");
  EXPECT_EQ(history[1].changed_by, "sqlite-agenda");  // no changed_by: the plugin's name
  const ds::Settings settings = service_->get(kDoctor);
  EXPECT_EQ(settings.visible, std::optional<bool>(true));  // the later row wins
  EXPECT_EQ(settings.volunteer, std::optional<bool>(true));
  EXPECT_EQ(settings.phone, std::optional<std::string>("+33123456789"));

  const int calls = host_calls_.load();
  std::this_thread::sleep_for(milliseconds(150));  // more rounds: nothing is pushed again
  EXPECT_EQ(host_calls_.load(), calls);
}

TEST_F(ReferencePluginPush, RuleRequestsAreAddedRemovedAndRefusedWithTheHostsMessage) {
  load_reference();
  sas::test::sqlite_exec(agenda(),
                         "INSERT INTO sas_publication_rule_request (practitioner_id, action, rule_json, requested_by) "
                         "VALUES ('P1', 'add', '{\"kind\":\"snp-motives\",\"motives\":[\"Fièvre\"]}', 'dr-durand'),"
                         "('P1', 'add', '{\"kind\":\"hide-motives\",\"motives\":[\"Fièvre\"]}', 'dr-durand')");
  ASSERT_TRUE(wait_for("SELECT count(*) FROM sas_publication_rule_request WHERE pushed_at IS NULL", "0"));
  auto r = rows("SELECT host_rule_id, COALESCE(error, '') FROM sas_publication_rule_request ORDER BY id");
  ASSERT_EQ(r.size(), 2U);
  const auto rules = service_->rules(kDoctor);
  ASSERT_EQ(rules.size(), 1U);
  EXPECT_EQ(r[0][0], std::to_string(rules[0].id));
  EXPECT_EQ(r[0][1], "");
  EXPECT_EQ(r[1][0], "NULL");
  EXPECT_THAT(r[1][1], HasSubstr(std::to_string(rules[0].id)));  // the conflict names the other rule

  sas::test::sqlite_exec(agenda(),
                         "INSERT INTO sas_publication_rule_request (practitioner_id, action, rule_id) VALUES ('P1', "
                         "'remove', " +
                             std::to_string(rules[0].id) + "), ('P1', 'remove', 999)");
  ASSERT_TRUE(wait_for("SELECT count(*) FROM sas_publication_rule_request WHERE pushed_at IS NULL", "0"));
  r = rows("SELECT COALESCE(error, '') FROM sas_publication_rule_request WHERE action = 'remove' ORDER BY id");
  ASSERT_EQ(r.size(), 2U);
  EXPECT_EQ(r[0][0], "");
  EXPECT_THAT(r[1][0], HasSubstr("999"));  // not found, kept
  EXPECT_TRUE(service_->rules(kDoctor).empty());
  const auto records = repository_->rules(kDoctor, true);
  ASSERT_EQ(records.size(), 1U);
  EXPECT_EQ(records[0].created_by, "dr-durand");
  EXPECT_EQ(records[0].removed_by, "sqlite-agenda");
  EXPECT_EQ(records[0].source, "plugin");
}

}  // namespace
