#include "sas/host/doctor_settings/publication.hpp"

#include <algorithm>
#include <unordered_map>

#include <sas/sdk/datetime.hpp>
#include <sas/sdk/ids.hpp>

namespace sas::host::doctor_settings {

namespace json = boost::json;
namespace pb = sas::plugin::v1;
namespace datetime = sas::sdk::datetime;

const DoctorOptions* Snapshot::find(std::string_view practitioner) const {
  const auto it = doctors.find(practitioner);
  return it == doctors.end() ? nullptr : &it->second;
}

namespace {

struct Step {
  std::string by;  // settings | rule | search
  int64_t rule = 0;
  std::string kind;    // the rule kind or the setting's field
  std::string effect;  // hidden | snp-only | also-snp | motives-removed
  std::string why;
  std::string fr;  // the same in French, in the doctor's terms (the panel and the vendor's UI show it)
};

// What happens to one slot. `hidden` is the settings' and rules' verdict only; the Bundle
// builder's own checks come on top (explain adds them). Steps are written only when
// explaining: search needs the verdict, not the prose.
struct Verdict {
  bool explaining = false;
  bool hidden = false;
  bool by_settings = false;  // withheld because of the doctor's settings
  bool retyped = false;
  bool motives_changed = false;
  std::vector<int> audiences;
  std::vector<std::string> motives;
  std::vector<Step> steps;

  template <typename MakeStep>
  void note(MakeStep&& make) {
    if (explaining) steps.push_back(make());
  }
};

bool has(const std::vector<int>& audiences, int a) {
  return std::find(audiences.begin(), audiences.end(), a) != audiences.end();
}

bool offered_to_sas(const std::vector<int>& audiences) {
  return has(audiences, pb::AUDIENCE_PUBLIC) || has(audiences, pb::AUDIENCE_PROFESSIONALS) ||
         has(audiences, pb::AUDIENCE_SNP);
}

std::string_view audience_name(int a) {
  switch (a) {
    case pb::AUDIENCE_PUBLIC:
      return "PUBLIC";
    case pb::AUDIENCE_PROFESSIONALS:
      return "PRO";
    case pb::AUDIENCE_SNP:
      return "SNP";
    case pb::AUDIENCE_CPTS:
      return "CPTS";
    case pb::AUDIENCE_PATIENTELE_ONLY:
      return "PATIENTELE_ONLY";
    default:
      return "UNSPECIFIED";
  }
}

constexpr std::string_view kDayNames[] = {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};
constexpr std::string_view kDayNamesFr[] = {"lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"};

std::string hhmm(int minutes) {
  const auto two = [](int n) {
    return std::string{static_cast<char>('0' + n / 10 % 10), static_cast<char>('0' + n % 10)};
  };
  return two(minutes / 60) + ":" + two(minutes % 60);
}

bool matches(const Rule& rule, const std::string& key) {
  return std::find(rule.motive_keys.begin(), rule.motive_keys.end(), key) != rule.motive_keys.end();
}

// Doctor-level: settings that withhold every slot. Empty when the doctor is published.
std::optional<Step> withheld(const DoctorOptions* options, const PublicationPolicy& policy) {
  const Settings* s = options != nullptr ? &options->settings : nullptr;
  if (s != nullptr && s->visible == false) {
    return Step{"settings",
                0,
                "visible",
                "hidden",
                "the doctor's agenda is not visible to SAS (visible = false)",
                "non publié : l'agenda n'est pas visible par le SAS (option « Mon agenda est visible par le SAS » "
                "désactivée)"};
  }
  if (s != nullptr && s->volunteer == false) {
    return Step{"settings",
                0,
                "volunteer",
                "hidden",
                "the doctor withdrew from SAS (volunteer = false)",
                "non publié : le médecin ne participe pas au SAS (option « Je participe au SAS » désactivée)"};
  }
  if (!policy.publish_unset && (s == nullptr || !s->visible || !s->volunteer)) {
    return Step{"settings",
                0,
                "visible",
                "hidden",
                "this host publishes only doctors who set both volunteer and visible to true",
                "non publié : ce service ne publie que les médecins qui ont activé « Je participe au SAS » et "
                "« Mon agenda est visible par le SAS »"};
  }
  return std::nullopt;
}

Verdict decide(const DoctorOptions* options, const PublicationPolicy& policy, const pb::Slot& slot, bool explaining) {
  Verdict v;
  v.explaining = explaining;
  v.audiences.assign(slot.audiences().begin(), slot.audiences().end());
  if (auto step = withheld(options, policy)) {
    v.hidden = v.by_settings = true;
    v.note([&] { return std::move(*step); });
    return v;
  }
  // A slot open to CPTS only (INT_R04) still gets the motive rules; the CPTS audience is the
  // agenda's, never added or removed by a rule.
  const bool open_to_cpts = has(v.audiences, pb::AUDIENCE_CPTS);
  if (options == nullptr || options->rules.empty() || (!offered_to_sas(v.audiences) && !open_to_cpts)) return v;
  const std::vector<Rule>& rules = options->rules;
  v.motives.assign(slot.motives().begin(), slot.motives().end());
  std::vector<std::string> keys;
  keys.reserve(v.motives.size());
  for (const auto& m : v.motives) keys.push_back(motive_key(m));

  // 1. hide-motives: take the motives off; a slot left with none is withheld.
  for (const Rule& rule : rules) {
    if (rule.kind != RuleKind::hide_motives) continue;
    std::string removed;
    std::string removed_fr;
    for (std::size_t i = keys.size(); i-- > 0;) {
      if (!matches(rule, keys[i])) continue;
      if (explaining) {
        removed = "'" + v.motives[i] + "'" + (removed.empty() ? "" : ", ") + removed;
        removed_fr = "« " + v.motives[i] + " »" + (removed_fr.empty() ? "" : ", ") + removed_fr;
      }
      v.motives.erase(v.motives.begin() + static_cast<std::ptrdiff_t>(i));
      keys.erase(keys.begin() + static_cast<std::ptrdiff_t>(i));
      v.motives_changed = true;
    }
    if (!v.motives_changed) continue;
    if (v.motives.empty()) {
      v.hidden = true;
      v.note([&] {
        return Step{"rule",
                    rule.id,
                    "hide-motives",
                    "hidden",
                    "every motive of the slot is never published (" + removed + ")",
                    "non publié : aucun motif du créneau n'est publié (" + removed_fr + ")"};
      });
      return v;
    }
    if (!removed.empty()) {
      v.note([&] {
        return Step{"rule",
                    rule.id,
                    "hide-motives",
                    "motives-removed",
                    removed + " never published",
                    (removed_fr.find(" », « ") == std::string::npos ? "motif retiré, jamais publié : "
                                                                    : "motifs retirés, jamais publiés : ") +
                        removed_fr};
      });
    }
  }

  // Retyping is about the SAS audiences (PUBLIC, PRO, SNP): a CPTS-only slot is left as it is.
  if (!offered_to_sas(v.audiences)) return v;

  // 2. SNP-only: by motive, then by hours (the first rule that applies says why).
  bool snp_only = false;
  for (const Rule& rule : rules) {
    if (rule.kind != RuleKind::snp_motives) continue;
    for (std::size_t i = 0; i < keys.size() && !snp_only; ++i) {
      if (!matches(rule, keys[i])) continue;
      snp_only = true;
      v.note([&] {
        return Step{"rule",
                    rule.id,
                    "snp-motives",
                    "snp-only",
                    "motive '" + v.motives[i] + "' is reserved to SAS regulators",
                    "réservé SNP : le motif « " + v.motives[i] + " » est réservé aux régulateurs du SAS"};
      });
    }
    if (snp_only) break;
  }
  const auto start = datetime::from_epoch_seconds(slot.start());  // none: the search drops the slot
  for (const Rule& rule : rules) {
    if (snp_only || !start) break;
    if (rule.kind != RuleKind::snp_hours) continue;
    const auto local = datetime::to_paris_local(*start);
    const auto day = std::chrono::floor<std::chrono::days>(local);
    const unsigned iso = std::chrono::weekday(day).iso_encoding();  // 1 = Monday
    const int minute = static_cast<int>(std::chrono::duration_cast<std::chrono::minutes>(local - day).count());
    if ((rule.weekdays & (1U << (iso - 1))) != 0 && minute >= rule.from_minute && minute < rule.to_minute) {
      snp_only = true;
      v.note([&] {
        return Step{"rule",
                    rule.id,
                    "snp-hours",
                    "snp-only",
                    "it starts on " + std::string(kDayNames[iso - 1]) + " at " + hhmm(minute) + ", within " +
                        hhmm(rule.from_minute) + "-" + hhmm(rule.to_minute) + " (Europe/Paris)",
                    "réservé SNP : commence " + std::string(kDayNamesFr[iso - 1]) + " à " + hhmm(minute) +
                        ", dans la plage " + hhmm(rule.from_minute) + "-" + hhmm(rule.to_minute)};
      });
    }
  }
  if (snp_only) {
    std::erase_if(v.audiences, [](int a) { return a == pb::AUDIENCE_PUBLIC || a == pb::AUDIENCE_PROFESSIONALS; });
    if (!has(v.audiences, pb::AUDIENCE_SNP)) v.audiences.push_back(pb::AUDIENCE_SNP);
    v.retyped = true;
    return v;
  }

  // 3. public-also-snp.
  for (const Rule& rule : rules) {
    if (rule.kind != RuleKind::public_also_snp) continue;
    if (has(v.audiences, pb::AUDIENCE_PUBLIC) && !has(v.audiences, pb::AUDIENCE_SNP)) {
      v.audiences.push_back(pb::AUDIENCE_SNP);
      v.retyped = true;
      v.note([&] {
        return Step{"rule",
                    rule.id,
                    "public-also-snp",
                    "also-snp",
                    "a public slot is also offered to SAS as SNP",
                    "aussi proposé en SNP : un créneau public est aussi proposé aux régulateurs du SAS"};
      });
    }
  }
  return v;
}

// place id -> the practitioner's prefixed national id ("" when unknown or invalid).
std::unordered_map<std::string_view, std::string> practitioners_by_place(const pb::SearchSlotsResponse& response) {
  std::unordered_map<std::string_view, std::string_view> national_ids;
  for (const auto& p : response.practitioners()) national_ids.emplace(p.id(), p.national_id());
  std::unordered_map<std::string_view, std::string> by_place;
  for (const auto& place : response.places()) {
    std::string prefixed;
    if (const auto it = national_ids.find(place.practitioner_id()); it != national_ids.end()) {
      if (auto id = sas::sdk::ids::normalize_practitioner_id(it->second)) prefixed = id->prefixed;
    }
    by_place.emplace(place.id(), std::move(prefixed));
  }
  return by_place;
}

json::array names(const std::vector<int>& audiences) {
  json::array out;
  for (int a : audiences) out.emplace_back(audience_name(a));
  return out;
}

json::array strings(const std::vector<std::string>& list) {
  json::array out;
  for (const auto& s : list) out.emplace_back(s);
  return out;
}

}  // namespace

PublicationResult apply(const Snapshot& snapshot, pb::SearchSlotsResponse& response) {
  PublicationResult result;
  const auto by_place = practitioners_by_place(response);
  std::unordered_map<std::string_view, bool> withheld_doctors;
  auto* slots = response.mutable_slots();
  int kept = 0;
  for (int i = 0; i < slots->size(); ++i) {
    pb::Slot& slot = *slots->Mutable(i);
    const auto place = by_place.find(slot.place_id());
    bool keep = true;
    if (place != by_place.end() && !place->second.empty()) {
      const DoctorOptions* options = snapshot.find(place->second);
      const Verdict v = decide(options, snapshot.policy, slot, false);
      if (v.hidden) {
        keep = false;
        ++result.hidden_slots;
        withheld_doctors.emplace(place->second, v.by_settings);
      } else {
        if (v.retyped) {
          slot.clear_audiences();
          for (int a : v.audiences) slot.add_audiences(static_cast<pb::Audience>(a));
          ++result.retyped_slots;
        }
        if (v.motives_changed) {
          slot.clear_motives();
          for (const auto& m : v.motives) slot.add_motives(m);
        }
        withheld_doctors.emplace(place->second, false);
        if (options != nullptr && options->settings.consent_to_call == true) {
          result.call_first.emplace(place->second, CallFirst{options->settings.phone.value_or("")});
        }
      }
    }
    if (keep) {
      if (kept != i) slots->SwapElements(kept, i);
      ++kept;
    }
  }
  slots->DeleteSubrange(kept, slots->size() - kept);
  result.hidden_doctors = static_cast<std::size_t>(
      std::count_if(withheld_doctors.begin(), withheld_doctors.end(), [](const auto& entry) { return entry.second; }));
  return result;
}

json::object explain(const Snapshot& snapshot, const pb::SearchSlotsResponse& response, const pb::Slot& slot,
                     int64_t window_start, int64_t window_end) {
  const auto by_place = practitioners_by_place(response);
  const auto place = by_place.find(slot.place_id());
  const std::string practitioner = place != by_place.end() ? place->second : std::string();

  json::object out;
  out["slot"] = slot.id();
  out["practitioner"] = practitioner.empty() ? json::value(nullptr) : json::value(practitioner);
  const auto instant = [](int64_t seconds) {
    const auto t = datetime::from_epoch_seconds(seconds);
    return t ? datetime::format_paris(*t, false) : std::to_string(seconds) + " (not a time)";
  };
  out["start"] = instant(slot.start());
  out["end"] = instant(slot.end());
  json::object agenda;
  agenda["status"] = slot.status() == pb::SLOT_FREE ? "free" : slot.status() == pb::SLOT_BUSY ? "busy" : "unspecified";
  agenda["audiences"] = names({slot.audiences().begin(), slot.audiences().end()});
  agenda["motives"] = strings({slot.motives().begin(), slot.motives().end()});
  out["agenda"] = std::move(agenda);

  std::vector<Step> steps;
  bool published = true;
  std::vector<int> audiences(slot.audiences().begin(), slot.audiences().end());
  std::vector<std::string> motives(slot.motives().begin(), slot.motives().end());
  // The Bundle builder's own checks first: what never leaves whatever the settings say.
  if (practitioner.empty()) {
    published = false;
    steps.push_back({"search", 0, "practitioner", "hidden", "the slot's place or practitioner is unknown or invalid",
                     "non publié : le lieu ou le praticien du créneau est inconnu ou invalide"});
  }
  if (slot.status() != pb::SLOT_FREE) {
    published = false;
    steps.push_back(
        {"search", 0, "status", "hidden", "the slot is not free", "non publié : le créneau n'est pas libre"});
  }
  if (slot.end() <= slot.start()) {
    published = false;
    steps.push_back({"search", 0, "end", "hidden", "the slot does not end after it starts",
                     "non publié : le créneau ne finit pas après son début"});
  }
  if ((window_start != 0 || window_end != 0) && (slot.start() < window_start || slot.start() > window_end)) {
    published = false;
    steps.push_back({"search", 0, "start", "hidden", "the slot starts outside the searched window",
                     "non publié : le créneau commence en dehors de la période demandée"});
  }
  if (!offered_to_sas(audiences)) {
    published = false;
    steps.push_back({"search", 0, "audiences", "hidden",
                     "the agenda offers the slot to no SAS audience (public, PRO or SNP): e.g. the doctor's own "
                     "patients only",
                     "non publié : l'agenda ne l'ouvre à aucun public du SAS (public, professionnels ou SNP), par "
                     "exemple à la patientèle du médecin seulement"});
  }
  if (!practitioner.empty()) {
    const Verdict v = decide(snapshot.find(practitioner), snapshot.policy, slot, true);
    steps.insert(steps.end(), v.steps.begin(), v.steps.end());
    if (v.hidden) published = false;
    audiences = v.audiences;
    if (v.motives_changed) motives = v.motives;
  }
  json::array step_list;
  for (const Step& s : steps) {
    json::object o;
    o["by"] = s.by;
    if (s.rule != 0) o["rule"] = s.rule;
    o["kind"] = s.kind;
    o["effect"] = s.effect;
    o["why"] = s.why;
    o["fr"] = s.fr;
    step_list.emplace_back(std::move(o));
  }
  out["published"] = published;
  json::array types;
  if (published) {
    for (int a : {pb::AUDIENCE_PUBLIC, pb::AUDIENCE_PROFESSIONALS, pb::AUDIENCE_SNP}) {
      if (has(audiences, a)) types.emplace_back(audience_name(a));
    }
  }
  out["types"] = std::move(types);
  out["motives"] = published ? strings(motives) : json::array();
  out["steps"] = std::move(step_list);
  return out;
}

}  // namespace sas::host::doctor_settings
