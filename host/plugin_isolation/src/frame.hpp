// The wire between the host and a runner process: a fixed 40-byte header, then `size` bytes of
// payload (serialized sas.plugin.v1 messages, or UTF-8 text). Little-endian, one stream socket,
// both directions multiplexed by call id. Internal: host and runner are built together, so the
// frame version only has to match itself; the plugin ABI behind it is negotiated as usual.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

namespace sas::host::plugin_isolation::wire {

inline constexpr uint32_t kMagic = 0x46534153;  // "SASF"
inline constexpr uint16_t kVersion = 1;
// The runner's end of the socket pair, in the runner process.
inline constexpr int kRunnerFd = 3;

enum class Kind : uint16_t {
  // host -> runner
  init = 1,         // payload: the plugin config; a = max answer bytes; b = 1 when the host's clock is its own
  invoke = 2,       // call_id; a = deadline (µs since the epoch, 0 none); payload: PluginRequest
  cancel = 3,       // call_id
  host_result = 4,  // call_id (the runner's); status; payload: HostResponse or message
  now_result = 5,   // call_id (the runner's); a = the host's clock, µs since the epoch
  shutdown = 6,     // stop the plugin and exit
  // runner -> host
  ready = 20,      // status; a = negotiated ABI version; b = threading; payload: refusal message
  result = 21,     // call_id; status; payload: PluginResponse or message
  host_call = 22,  // call_id (the runner's own); payload: HostRequest
  log = 23,        // a = level; payload: the line
  now = 24,        // call_id (the runner's own)
  bye = 25,        // the plugin is shut down
};

struct Header {
  uint32_t magic = kMagic;
  uint16_t version = kVersion;
  uint16_t kind = 0;
  uint32_t size = 0;  // payload bytes
  int32_t status = 0;
  uint64_t call_id = 0;
  int64_t a = 0;
  int64_t b = 0;
};
static_assert(sizeof(Header) == 40);

struct Frame {
  Header header;
  std::string payload;
  Kind kind() const { return static_cast<Kind>(header.kind); }
};

enum class ReadStatus { ok, closed, malformed, error };

struct ReadOutcome {
  ReadStatus status = ReadStatus::ok;
  std::string why;  // for malformed / error
};

// Reads one whole frame; refuses a header that is not ours or a payload above `max_payload`
// (before allocating it). Blocking; EINTR is retried.
ReadOutcome read_frame(int fd, std::size_t max_payload, Frame& frame);

// Writes frames whole, one writer at a time, never raising SIGPIPE. False once the peer is gone.
class Writer {
 public:
  explicit Writer(int fd) : fd_(fd) {}
  bool send(Kind kind, uint64_t call_id, int32_t status, int64_t a, int64_t b, std::string_view payload);

 private:
  int fd_;
  std::mutex mutex_;
};

}  // namespace sas::host::plugin_isolation::wire
