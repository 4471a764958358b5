// A slot-search plugin built with the SDK that misbehaves on request, for the tests of
// `sas-host serve --plugin-isolation process` (issue #16): what it does is chosen by the first
// practitioner id of the INT_R01 search, so one host shows every fault.
//
// The id the plugin receives is prefixed (8 + RPPS), 12 digits: 81000 PPPPP BB, where BB is the
// behaviour and PPPPP an optional parameter (00000: the default given below).
//
//   8100000000 01  normal   one practitioner (the id asked for), one place, 3 free slots in the window
//   8100000000 02  crash    writes through a null pointer: SIGSEGV
//   8100000000 03  hang     sleeps forever, never polls should_stop()
//   81000PPPPP 04  leak     allocates and touches PPPPP MiB (default 64) that it never frees, then
//                           answers normally
//   81000PPPPP 05  flood    answers PPPPP thousand slots (default 2000: two million), far above
//                           the default --plugin-max-answer-bytes
//   8100000000 06  garbage  in a runner (sas-plugin-runner, whose socket to the host is fd 3):
//                           writes bytes that are no frame on fd 3, then answers normally;
//                           anywhere else it writes nothing and answers SAS_ERR_INTERNAL
//   81000PPPPP 07  slow     sleeps PPPPP ms (default 300) polling should_stop() every ms, then
//                           answers normally (SAS_ERR_DEADLINE_EXCEEDED if told to stop)
//   8100000000 08  spin     burns CPU forever, never polls should_stop() (for --plugin-cpu-seconds)
//   81000PPPPP 09  exit     ends the process with std::_Exit(PPPPP) (default 7)
//   81000PPPPP 10  fork     forks a child that keeps every descriptor (the runner's socket
//                           too) and sleeps PPPPP ms (default 4000), then crashes: the host must
//                           see the runner die although its socket stays open in the child
//
// Any other id answers like `normal`. --plugin-config: "" or "init=fail" (init refuses:
// SAS_ERR_INVALID_ARGUMENT "misbehaving told to fail at init") or "init=crash" (init writes
// through a null pointer).
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <sas/sdk/plugin.hpp>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace v1 = sas::sdk::v1;
using sas::sdk::Status;

enum Behaviour {
  kNormal = 1,
  kCrash = 2,
  kHang = 3,
  kLeak = 4,
  kFlood = 5,
  kGarbage = 6,
  kSlow = 7,
  kSpin = 8,
  kExit = 9,
  kForkThenCrash = 10,
};

struct Order {
  int behaviour = kNormal;
  long parameter = 0;  // 0: the behaviour's default
};

Order order_of(const std::string& id) {
  Order order;
  if (id.size() != 12 || id.rfind("81000", 0) != 0) return order;
  for (char c : id) {
    if (c < '0' || c > '9') return order;
  }
  order.parameter = std::stol(id.substr(5, 5));
  order.behaviour = std::stoi(id.substr(10, 2));
  return order;
}

// A pointer the compiler cannot prove null, so the write below is a real store (SIGSEGV), not a
// trap instruction the optimizer put in its place.
int* volatile null_pointer = nullptr;

// Sanitizer builds would turn the crash into their own report and exit: UBSan's null check is
// left out here and ASan's SIGSEGV handler put back to the default, so the runner dies of SIGSEGV
// as a plugin's crash does in a production build.
[[noreturn]] __attribute__((no_sanitize("undefined"))) void crash() {
  std::signal(SIGSEGV, SIG_DFL);
  *null_pointer = 42;
  std::abort();  // not reached
}

// What the leak behaviour took, kept reachable so that nothing frees or elides it.
std::mutex leaked_mutex;
std::vector<char*> leaked;

void leak(std::size_t mib) {
  const std::size_t bytes = mib << 20;
  char* block = new char[bytes];
  // Touch every page so that the memory is resident, not only reserved.
  for (std::size_t at = 0; at < bytes; at += 4096) block[at] = static_cast<char>(at >> 12);
  std::lock_guard lock(leaked_mutex);
  leaked.push_back(block);
}

// True in a plugin runner process, whose fd 3 is its socket to the host.
bool in_runner() {
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec || exe.filename() != "sas-plugin-runner") return false;
  struct stat st {};
  return ::fstat(3, &st) == 0 && S_ISSOCK(st.st_mode);
}

bool write_garbage() {
  if (!in_runner()) return false;
  // 0xFF bytes: a length of 0xFFFFFFFF in any byte order, an unknown type byte, an overlong
  // varint; then text. No frame format can take this for a frame.
  std::string garbage(64, '\xff');
  garbage += "this is not a frame of the runner protocol\n";
  const char* at = garbage.data();
  std::size_t left = garbage.size();
  while (left > 0) {
    const ssize_t n = ::send(3, at, left, MSG_NOSIGNAL);
    if (n <= 0) break;
    at += n;
    left -= static_cast<std::size_t>(n);
  }
  return true;
}

void answer_normally(const std::string& national_id, const v1::SearchSlotsRequest& request,
                     v1::SearchSlotsResponse& response) {
  const std::string doctor = "doc-" + national_id;
  v1::Practitioner& p = *response.add_practitioners();
  p.set_id(doctor);
  p.set_national_id(national_id);
  p.set_family_name("MARTIN");
  p.add_given_names("Claire");
  p.add_specialties()->set_code("SM54");
  p.set_phone("01 23 45 67 89");

  v1::Place& place = *response.add_places();
  place.set_id("cabinet-" + national_id);
  place.set_practitioner_id(doctor);
  place.add_address_lines("12 rue de la République");
  place.set_postal_code("69002");
  place.set_city("Lyon");
  place.set_siret("73282932000074");

  for (int i = 0; i < 3; ++i) {
    const int64_t start = request.start_from() + 3600 * (i + 1);
    if (start > request.start_to()) break;
    v1::Slot& s = *response.add_slots();
    s.set_id("slot-" + national_id + "-" + std::to_string(i));
    s.set_place_id(place.id());
    s.set_start(start);
    s.set_end(start + 20 * 60);
    s.set_status(v1::SLOT_FREE);
    s.add_audiences(v1::AUDIENCE_PUBLIC);
    s.add_audiences(v1::AUDIENCE_SNP);
    s.add_modes(v1::MODE_AT_PRACTICE);
    s.add_motives("Consultation");
    s.set_booking_url("https://agenda.example.fr/martin");
  }
}

void flood(const std::string& national_id, long thousands, const v1::SearchSlotsRequest& request,
           v1::SearchSlotsResponse& response) {
  answer_normally(national_id, request, response);
  const std::string place = response.places(0).id();
  // About 52 bytes per slot on the wire: two million slots are some 100 MB.
  const long count = thousands * 1000;
  response.mutable_slots()->Reserve(static_cast<int>(count));
  for (long i = 0; i < count; ++i) {
    v1::Slot& s = *response.add_slots();
    s.set_id("f" + std::to_string(i));
    s.set_place_id(place);
    s.set_start(request.start_from() + i % 86400);
    s.set_end(request.start_from() + i % 86400 + 1200);
    s.set_status(v1::SLOT_FREE);
    s.add_audiences(v1::AUDIENCE_PUBLIC);
  }
}

class MisbehavingPlugin final : public sas::sdk::AgendaPlugin {
 public:
  Status init(std::string_view config, const sas::sdk::Host&) override {
    if (config == "init=fail") return Status::invalid_argument("misbehaving told to fail at init");
    if (config == "init=crash") crash();
    if (!config.empty()) return Status::invalid_argument("unknown --plugin-config '" + std::string(config) + "'");
    return Status::ok();
  }

  Status search_slots(const v1::SearchSlotsRequest& request, v1::SearchSlotsResponse& response,
                      const sas::sdk::CallContext& context) override {
    const std::string first = request.practitioner_national_ids_size() > 0 ? request.practitioner_national_ids(0) : "";
    const Order order = order_of(first);
    switch (order.behaviour) {
      case kCrash:
        crash();
      case kHang:
        for (;;) std::this_thread::sleep_for(std::chrono::milliseconds(50));
      case kLeak:
        leak(order.parameter > 0 ? static_cast<std::size_t>(order.parameter) : 64);
        break;
      case kFlood:
        flood(first, order.parameter > 0 ? order.parameter : 2000, request, response);
        return Status::ok();
      case kGarbage:
        if (!write_garbage()) return Status::internal("garbage is only written in a plugin runner (fd 3)");
        break;
      case kSlow: {
        const auto until =
            std::chrono::steady_clock::now() + std::chrono::milliseconds(order.parameter > 0 ? order.parameter : 300);
        while (std::chrono::steady_clock::now() < until) {
          if (context.should_stop()) return Status::deadline_exceeded("slow search told to stop");
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        break;
      }
      case kSpin: {
        volatile unsigned long spins = 0;
        for (;;) spins = spins + 1;
      }
      case kExit:
        std::_Exit(order.parameter > 0 ? static_cast<int>(order.parameter) : 7);
      case kForkThenCrash:
        if (::fork() == 0) {
          ::usleep(static_cast<useconds_t>((order.parameter > 0 ? order.parameter : 4000) * 1000));
          std::_Exit(0);
        }
        crash();
      default:
        break;
    }
    for (const std::string& id : request.practitioner_national_ids()) answer_normally(id, request, response);
    return Status::ok();
  }
};

}  // namespace

SAS_PLUGIN(MisbehavingPlugin, "misbehaving", "tests", "1.0.0", "slot-search", free_threaded)
