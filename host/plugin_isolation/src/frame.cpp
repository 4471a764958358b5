#include "frame.hpp"

#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cstring>

namespace sas::host::plugin_isolation::wire {

static_assert(std::endian::native == std::endian::little, "the frame header is written as the host's memory");

namespace {

// Reads exactly `size` bytes; 0 at a clean EOF before the first byte, -1 on a read error (errno
// set), -2 at an EOF in the middle.
ssize_t read_exactly(int fd, char* data, std::size_t size) {
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = ::read(fd, data + done, size - done);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
    } else if (n == 0) {
      return done == 0 ? 0 : -2;
    } else if (errno != EINTR) {
      return -1;
    }
  }
  return static_cast<ssize_t>(done);
}

}  // namespace

ReadOutcome read_frame(int fd, std::size_t max_payload, Frame& frame) {
  const ssize_t got = read_exactly(fd, reinterpret_cast<char*>(&frame.header), sizeof(Header));
  if (got == 0) return {ReadStatus::closed, {}};
  if (got == -2) return {ReadStatus::error, "truncated header"};
  if (got < 0) return {ReadStatus::error, std::strerror(errno)};
  const Header& h = frame.header;
  if (h.magic != kMagic) return {ReadStatus::malformed, "bad magic"};
  if (h.version != kVersion) return {ReadStatus::malformed, "frame version " + std::to_string(h.version)};
  if (h.size > max_payload) {
    return {ReadStatus::malformed,
            "a payload of " + std::to_string(h.size) + " bytes, above the limit of " + std::to_string(max_payload)};
  }
  frame.payload.resize(h.size);
  if (h.size > 0 && read_exactly(fd, frame.payload.data(), h.size) != static_cast<ssize_t>(h.size)) {
    return {ReadStatus::error, "truncated payload"};
  }
  return {};
}

bool Writer::send(Kind kind, uint64_t call_id, int32_t status, int64_t a, int64_t b, std::string_view payload) {
  if (payload.size() > UINT32_MAX) return false;
  Header header;
  header.kind = static_cast<uint16_t>(kind);
  header.size = static_cast<uint32_t>(payload.size());
  header.status = status;
  header.call_id = call_id;
  header.a = a;
  header.b = b;
  iovec parts[2] = {{&header, sizeof(header)}, {const_cast<char*>(payload.data()), payload.size()}};
  std::lock_guard lock(mutex_);
  std::size_t index = 0;
  while (index < 2) {
    msghdr message{};
    message.msg_iov = parts + index;
    message.msg_iovlen = 2 - index;
    const ssize_t n = ::sendmsg(fd_, &message, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    auto left = static_cast<std::size_t>(n);
    while (index < 2 && left >= parts[index].iov_len) {
      left -= parts[index].iov_len;
      ++index;
    }
    if (index < 2) {
      parts[index].iov_base = static_cast<char*>(parts[index].iov_base) + left;
      parts[index].iov_len -= left;
    }
  }
  return true;
}

}  // namespace sas::host::plugin_isolation::wire
