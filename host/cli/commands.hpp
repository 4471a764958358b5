// The subcommands of sas-host. Each returns the process exit code.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace sas::host::billing {
class RuleBook;
}

namespace sas::host::cli {

using Args = std::vector<std::string>;  // the arguments after the subcommand name

int inspect_plugin(const Args& args);
int search(const Args& args);
int search_sos(const Args& args);  // search --sos: the SOS Médecins search
int serve(const Args& args);
int check_config(const Args& args);  // check-config FILE: serve's configuration checked, nothing started
int accounts(const Args& args);
int billing_command(const Args& args);  // billing explain
int report(const Args& args);           // report snp | report forfait
int report_forfait(const Args& args);   // the kind `forfait` of report (indicator 8)
int settings(const Args& args);         // settings get|set|history (doctor options)
int rules(const Args& args);            // rules list|add|remove|explain (publication rules)

// The rule file: `path`, or share/sas/billing/rules.json of this installation when empty.
std::shared_ptr<const sas::host::billing::RuleBook> load_rules(const std::string& path);
int appointment_event(const Args& args);  // INT_R03
int outbox(const Args& args);             // INT_R03
int store_command(const Args& args);      // store migrate (SQLite -> PostgreSQL)
int panel_token(const Args& args);        // a doctor's panel token (docs/doctor-panel.md)

}  // namespace sas::host::cli
