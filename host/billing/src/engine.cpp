#include <algorithm>
#include <cctype>
#include <sas/host/billing/calendar.hpp>
#include <sas/host/billing/engine.hpp>

namespace sas::host::billing {
namespace {

using namespace std::chrono;

std::string upper(std::string text) {
  for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

// "47 h 59 min"
std::string duration_text(milliseconds d) {
  const auto total = duration_cast<minutes>(d).count();
  std::string text = std::to_string(total / 60) + " h";
  if (total % 60 != 0) text += " " + std::to_string(total % 60) + " min";
  return text;
}

std::string date_text(local_days day) {
  const year_month_day d{day};
  char text[16];
  std::snprintf(text, sizeof(text), "%02u/%02u/%04d", static_cast<unsigned>(d.day()), static_cast<unsigned>(d.month()),
                static_cast<int>(d.year()));
  return text;
}

std::string ordinal_fr(int n) { return std::to_string(n) + (n == 1 ? "er" : "e"); }
std::string ordinal_en(int n) {
  const int tens = n % 100;
  const char* suffix = (tens >= 11 && tens <= 13) ? "th"
                       : n % 10 == 1              ? "st"
                       : n % 10 == 2              ? "nd"
                       : n % 10 == 3              ? "rd"
                                                  : "th";
  return std::to_string(n) + suffix;
}

Reason delay_reason(const Majoration& m, const Consultation& c) {
  Reason r{"delay", false, "", "", m.reference};
  const milliseconds delay = c.consulted_at - c.regulated_at;
  const std::string limit = duration_text(m.max_delay);
  if (delay < milliseconds(0)) {
    r.fr = "La consultation est datée avant la régulation : elle ne peut pas en découler.";
    r.en = "The consultation is dated before the regulation, so it cannot follow from it.";
  } else if (delay <= m.max_delay) {
    r.met = true;
    r.fr = "Consultation " + duration_text(delay) + " après la régulation : dans le délai de " + limit + ".";
    r.en = "Consultation " + duration_text(delay) + " after the regulation: within the " + limit + " limit.";
  } else {
    r.fr = "Consultation " + duration_text(delay) + " après la régulation : au-delà du délai de " + limit + ".";
    r.en = "Consultation " + duration_text(delay) + " after the regulation: beyond the " + limit + " limit.";
  }
  return r;
}

Reason medecin_traitant_reason(const Majoration& m, const Consultation& c, bool snp) {
  Reason r{"medecin_traitant", true, "", "", m.reference};
  if (snp) {
    r.met = !c.medecin_traitant;
    r.fr = r.met ? "Vous n'êtes pas le médecin traitant du patient : c'est le cas du " + m.code + "."
                 : "Vous êtes le médecin traitant du patient : le " + m.code + " est réservé aux autres médecins.";
    r.en = r.met ? "You are not the patient's regular doctor (médecin traitant): this is what " + m.code + " is for."
                 : "You are the patient's regular doctor (médecin traitant): " + m.code + " is for other doctors.";
  } else {
    r.met = c.medecin_traitant;
    r.fr = r.met
               ? "Vous êtes le médecin traitant du patient et le recevez à la demande de la régulation : c'est le cas "
                 "de la " +
                     m.code + "."
               : "Vous n'êtes pas le médecin traitant du patient : la " + m.code + " lui est réservée.";
    r.en = r.met ? "You are the patient's regular doctor (médecin traitant), seeing them at the regulation's request: "
                   "this is what " +
                       m.code + " is for."
                 : "You are not the patient's regular doctor (médecin traitant): " + m.code + " is reserved to them.";
  }
  return r;
}

Reason specialty_reason(const Majoration& m, const Consultation& c) {
  Reason r{"specialty", true, "", "", m.reference};
  const bool excluded = std::find(m.excluded_specialties.begin(), m.excluded_specialties.end(), upper(c.specialty)) !=
                        m.excluded_specialties.end();
  r.met = !excluded;
  const std::string shown = c.specialty.empty() ? "non précisée" : c.specialty;
  const std::string shown_en = c.specialty.empty() ? "not given" : c.specialty;
  r.fr = excluded ? "Votre spécialité (" + shown +
                        ") a sa propre valorisation (c'est le cas de la psychiatrie) : pas de " + m.code + "."
                  : "Votre spécialité (" + shown + ") permet le " + m.code + ".";
  r.en = excluded ? "Your specialty (" + shown_en + ") has its own valuation (as psychiatry does): no " + m.code + "."
                  : "Your specialty (" + shown_en + ") allows " + m.code + ".";
  return r;
}

Reason tariff_reason(const Majoration& m, const Consultation& c) {
  Reason r{"opposable_tariff", c.opposable_tariff, "", "", m.reference};
  r.fr = c.opposable_tariff ? "Consultation au tarif opposable : condition remplie pour la " + m.code + "."
                            : "Consultation hors tarif opposable (dépassement) : la " + m.code +
                                  " n'est possible qu'au tarif opposable.";
  r.en = c.opposable_tariff
             ? "Consultation at the agreed (opposable) tariff: as " + m.code + " requires."
             : "Consultation above the agreed (opposable) tariff: " + m.code + " is only for the agreed tariff.";
  return r;
}

Reason pdsa_reason(const RuleSet& rules, const Majoration& m, const Consultation& c, local_time<minutes> paris_time) {
  Reason r{"pdsa", true, "", "", rules.pdsa.reference};
  if (auto period = pdsa_period(rules, c.region, paris_time)) {
    r.met = false;
    r.fr = "La consultation a eu lieu pendant les heures de permanence des soins (PDSA) : " + period->fr + ". Pas de " +
           m.code + " ; les majorations de la PDSA s'appliquent.";
    r.en = "The consultation took place during out-of-hours service (PDSA) hours: " + period->en + ". No " + m.code +
           "; the PDSA majorations apply instead.";
  } else {
    r.fr = "La consultation a eu lieu en dehors des heures de permanence des soins (PDSA).";
    r.en = "The consultation took place outside out-of-hours service (PDSA) hours.";
  }
  return r;
}

Reason exclusions_reason(const Majoration& m, const Consultation& c) {
  Reason r{"exclusions", true, "", "", m.reference};
  std::string found_fr;
  std::string found_en;
  for (const auto& other : c.other_codes) {
    const std::string code = upper(other);
    for (const auto& exclusion : m.exclusions) {
      if (std::find(exclusion.codes.begin(), exclusion.codes.end(), code) == exclusion.codes.end()) continue;
      found_fr += (found_fr.empty() ? "" : ", ") + code + " (" + exclusion.fr + ")";
      found_en += (found_en.empty() ? "" : ", ") + code + " (" + exclusion.en + ")";
      break;
    }
  }
  if (found_fr.empty()) {
    r.fr = "Aucun des autres codes facturés n'interdit le cumul avec le " + m.code + ".";
    r.en = "None of the other codes billed forbids combining with " + m.code + ".";
  } else {
    r.met = false;
    r.fr = "Le " + m.code + " ne se cumule pas avec : " + found_fr + ".";
    r.en = m.code + " cannot be combined with: " + found_en + ".";
  }
  return r;
}

Reason weekly_cap_reason(const Majoration& m, int before, local_days week) {
  Reason r{"weekly_cap", true, "", "", m.reference};
  const int cap = *m.max_per_week;
  const int rank = before + 1;
  const std::string week_text = date_text(week);
  r.met = rank <= cap;
  if (r.met) {
    r.fr = ordinal_fr(rank) + " " + m.code + " de la semaine du lundi " + week_text + " (au plus " +
           std::to_string(cap) + " par semaine).";
    r.en = ordinal_en(rank) + " " + m.code + " of the week starting Monday " + week_text + " (at most " +
           std::to_string(cap) + " a week).";
  } else {
    r.fr = "Ce serait le " + ordinal_fr(rank) + " " + m.code + " de la semaine du lundi " + week_text + " : au plus " +
           std::to_string(cap) + " par médecin et par semaine.";
    r.en = "This would be the " + ordinal_en(rank) + " " + m.code + " of the week starting Monday " + week_text +
           ": at most " + std::to_string(cap) + " per doctor per week.";
  }
  return r;
}

}  // namespace

std::string format_euros(int64_t cents) {
  const bool negative = cents < 0;
  const int64_t magnitude = negative ? -cents : cents;
  const int64_t rest = magnitude % 100;
  return (negative ? "-" : "") + std::to_string(magnitude / 100) + "." + (rest < 10 ? "0" : "") + std::to_string(rest);
}

Decision decide(const RuleBook& book, const Consultation& c, int snp_before) {
  const local_time<minutes> paris_time = floor<minutes>(sas::sdk::datetime::to_paris_local(c.consulted_at));
  const RuleSet& rules = book.in_force(year_month_day{floor<days>(paris_time)});
  const bool snp = !c.medecin_traitant;
  const Majoration& m = snp ? rules.snp : rules.mrt;

  Decision decision;
  decision.candidate = m.code;
  decision.rule_set = rules.id;
  decision.snp_count_this_week = snp_before;
  decision.reasons.push_back(delay_reason(m, c));
  decision.reasons.push_back(medecin_traitant_reason(m, c, snp));
  if (!m.excluded_specialties.empty()) decision.reasons.push_back(specialty_reason(m, c));
  if (m.requires_opposable_tariff) decision.reasons.push_back(tariff_reason(m, c));
  decision.reasons.push_back(pdsa_reason(rules, m, c, paris_time));
  decision.reasons.push_back(exclusions_reason(m, c));
  if (m.max_per_week) decision.reasons.push_back(weekly_cap_reason(m, snp_before, week_start(paris_time)));

  const bool all_met =
      std::all_of(decision.reasons.begin(), decision.reasons.end(), [](const Reason& r) { return r.met; });
  if (all_met) {
    decision.code = m.code;
    decision.parcours_indicator = m.parcours_indicator;
    decision.amount_cents = m.amount_cents;
  }
  return decision;
}

}  // namespace sas::host::billing
