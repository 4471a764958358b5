#include "sas/host/doctor_settings/service.hpp"

namespace sas::host::doctor_settings {

namespace json = boost::json;

namespace {
// How often a search re-reads the store's version (one primary-key read): a change written by
// another process (another host on the same PostgreSQL, an offline `sas-host settings set`) is
// applied by this host's searches within this plus one search. 1 s made it just over the 1 s
// issue #15 asks for between hosts (tests/multihost measured 1.00 s); 250 ms costs 4 reads a second.
constexpr auto kRefresh = std::chrono::milliseconds(250);
}  // namespace

Service::Service(std::shared_ptr<SettingsRepository> repository, PublicationPolicy policy,
                 std::function<Clock::time_point()> clock)
    : repository_(std::move(repository)), policy_(policy), clock_(std::move(clock)) {}

Settings Service::get(const std::string& practitioner) {
  const std::string id = normalize_practitioner(practitioner);
  return settings_at(id, repository_->changes(id), Clock::time_point::max());
}

std::vector<SettingChangeRecord> Service::history(const std::string& practitioner) {
  return repository_->changes(normalize_practitioner(practitioner));
}

Settings Service::set(const std::string& practitioner, const SettingsPatch& patch, const Actor& actor,
                      std::optional<Clock::time_point> effective_at) {
  const std::string id = normalize_practitioner(practitioner);
  if (patch.empty()) throw SettingsError("nothing to change: give volunteer, visible, consent_to_call or phone");
  const Clock::time_point now = clock_();
  const Clock::time_point when = effective_at.value_or(now);
  if (when > now) throw SettingsError("effective_at: a change cannot take effect in the future");
  // Compared with the value in force at `when`, so that a back-dated change is history too.
  const auto history = repository_->changes(id);
  const auto changes = changes_for(settings_at(id, history, when), patch, actor, when, now);
  if (!changes.empty()) {
    repository_->record_changes(changes);
    std::lock_guard lock(mutex_);
    snapshot_.reset();
  }
  return get(id);
}

std::vector<Rule> Service::rules(const std::string& practitioner) {
  return rules_from_records(repository_->rules(normalize_practitioner(practitioner)));
}

Rule Service::add_rule(const std::string& practitioner, const json::value& value, const Actor& actor) {
  const std::string id = normalize_practitioner(practitioner);
  Rule rule = parse_rule(value, id);
  rule.id = 0;
  PublicationRuleRecord record;
  record.practitioner = id;
  record.rule = json::serialize(to_json(rule));
  record.created_at = clock_();
  record.created_by = actor.by;
  record.source = actor.source;
  rule.id = repository_->add_rule(record, [&](const std::vector<PublicationRuleRecord>& active) {
    if (auto why = conflict(rules_from_records(active), rule)) throw RuleError("conflict: " + *why);
  });
  std::lock_guard lock(mutex_);
  snapshot_.reset();
  return rule;
}

void Service::remove_rule(const std::string& practitioner, int64_t rule_id, const Actor& actor) {
  const std::string id = normalize_practitioner(practitioner);
  if (!repository_->remove_rule(id, rule_id, clock_(), actor.by)) {
    throw NotFound("no active publication rule " + std::to_string(rule_id) + " for practitioner " + id);
  }
  std::lock_guard lock(mutex_);
  snapshot_.reset();
}

std::shared_ptr<const Snapshot> Service::load() {
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->policy = policy_;
  const auto history = repository_->changes("");
  for (const auto& change : history) snapshot->doctors[change.practitioner];
  for (auto& [id, options] : snapshot->doctors) options.settings = settings_at(id, history, clock_());
  for (auto& rule : rules_from_records(repository_->rules(""))) {
    snapshot->doctors[rule.practitioner].settings.practitioner = rule.practitioner;
    snapshot->doctors[rule.practitioner].rules.push_back(std::move(rule));
  }
  return snapshot;
}

std::shared_ptr<const Snapshot> Service::snapshot() {
  std::lock_guard lock(mutex_);
  const auto now = std::chrono::steady_clock::now();
  if (snapshot_ && now - checked_at_ < kRefresh) return snapshot_;
  const uint64_t version = repository_->version();
  if (!snapshot_ || version != version_) {
    version_ = version;
    snapshot_ = load();
  }
  checked_at_ = now;
  return snapshot_;
}

std::vector<ForfaitLine> Service::forfait(int year, const std::string& practitioner) {
  const std::string id = practitioner.empty() ? std::string() : normalize_practitioner(practitioner);
  return forfait_report(repository_->changes(id), year, clock_());
}

}  // namespace sas::host::doctor_settings
