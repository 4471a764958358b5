// A plugin built with the SDK that lets a test drive the ABI 1.4 host calls through the SDK's own
// Host methods, as a vendor's UI would: the test sends a search_slots request whose first
// practitioner id is a serialized HostRequest in hex; the plugin calls the matching Host method
// and answers one practitioner: id = the status code, family_name = its message, national_id =
// the HostResponse (the method's answer) in hex, given_names[0] = "has_doctor_settings=0|1".
#include <sas/sdk/plugin.hpp>
#include <string>

namespace {

namespace v1 = sas::sdk::v1;
using sas::sdk::Status;

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

int nibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

bool from_hex(const std::string& hex, std::string& out) {
  if (hex.size() % 2 != 0) return false;
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int hi = nibble(hex[i]);
    const int lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out += static_cast<char>(hi * 16 + lo);
  }
  return true;
}

class SettingsDriverPlugin final : public sas::sdk::AgendaPlugin {
 public:
  Status init(std::string_view, const sas::sdk::Host& host) override {
    host_ = &host;
    return Status::ok();
  }

  Status search_slots(const v1::SearchSlotsRequest& request, v1::SearchSlotsResponse& response,
                      const sas::sdk::CallContext&) override {
    std::string bytes;
    v1::HostRequest call;
    if (request.practitioner_national_ids_size() != 1 || !from_hex(request.practitioner_national_ids(0), bytes) ||
        !call.ParseFromString(bytes)) {
      return Status::invalid_argument("expected one hex-encoded HostRequest");
    }
    v1::HostResponse answer;
    Status status;
    switch (call.method_case()) {
      case v1::HostRequest::kGetDoctorSettings:
        status = host_->get_doctor_settings(call.get_doctor_settings(), *answer.mutable_get_doctor_settings());
        break;
      case v1::HostRequest::kSetDoctorSettings:
        status = host_->set_doctor_settings(call.set_doctor_settings(), *answer.mutable_set_doctor_settings());
        break;
      case v1::HostRequest::kListPublicationRules:
        status = host_->list_publication_rules(call.list_publication_rules(), *answer.mutable_list_publication_rules());
        break;
      case v1::HostRequest::kAddPublicationRule:
        status = host_->add_publication_rule(call.add_publication_rule(), *answer.mutable_add_publication_rule());
        break;
      case v1::HostRequest::kRemovePublicationRule:
        status =
            host_->remove_publication_rule(call.remove_publication_rule(), *answer.mutable_remove_publication_rule());
        break;
      case v1::HostRequest::kExplainPublication:
        status = host_->explain_publication(call.explain_publication(), *answer.mutable_explain_publication());
        break;
      default:
        return Status::invalid_argument("not a doctor settings method");
    }
    auto& out = *response.add_practitioners();
    out.set_id(std::to_string(status.code()));
    out.set_family_name(status.message());
    out.set_national_id(to_hex(answer.SerializeAsString()));
    out.add_given_names(host_->has_doctor_settings() ? "has_doctor_settings=1" : "has_doctor_settings=0");
    return Status::ok();
  }

 private:
  const sas::sdk::Host* host_ = nullptr;
};

}  // namespace

SAS_PLUGIN(SettingsDriverPlugin, "settings-driver", "tests", "1.4.0", "slot-search", free_threaded)
