// The host <-> runner wire (host/plugin_isolation/src/frame.hpp) over a real socket pair: frames
// arrive whole and in order from many writers, big payloads survive partial writes, and what is
// not a frame is refused before any payload is allocated.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <random>
#include <thread>
#include <vector>

#include "frame.hpp"

namespace wire = sas::host::plugin_isolation::wire;

namespace {

struct SocketPair {
  int a = -1;
  int b = -1;
  SocketPair() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    a = fds[0];
    b = fds[1];
  }
  ~SocketPair() {
    if (a >= 0) ::close(a);
    if (b >= 0) ::close(b);
  }
};

TEST(Wire, FramesFromManyWritersArriveWholeAndInOrderPerWriter) {
  SocketPair pair;
  wire::Writer writer(pair.a);
  constexpr int kWriters = 8;
  constexpr int kFrames = 200;
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      std::mt19937 random(static_cast<unsigned>(w));
      for (int i = 0; i < kFrames; ++i) {
        // Sizes above the socket buffer force partial writes.
        const std::size_t size = random() % 3 == 0 ? 300000 + random() % 1000 : random() % 100;
        const std::string payload(size, static_cast<char>('a' + w));
        ASSERT_TRUE(writer.send(wire::Kind::result, static_cast<uint64_t>(w) << 32 | static_cast<uint64_t>(i), w, i, -i,
                                payload));
      }
    });
  }
  std::map<int, int> next;  // writer -> next frame index expected
  wire::Frame frame;
  for (int n = 0; n < kWriters * kFrames; ++n) {
    ASSERT_EQ(wire::read_frame(pair.b, 1 << 20, frame).status, wire::ReadStatus::ok);
    const int w = static_cast<int>(frame.header.call_id >> 32);
    const int i = static_cast<int>(frame.header.call_id & 0xffffffffu);
    EXPECT_EQ(frame.kind(), wire::Kind::result);
    EXPECT_EQ(frame.header.status, w);
    EXPECT_EQ(frame.header.a, i);
    EXPECT_EQ(frame.header.b, -i);
    EXPECT_EQ(i, next[w]++);
    EXPECT_EQ(frame.payload.find_first_not_of(static_cast<char>('a' + w)), std::string::npos);
  }
  for (auto& t : writers) t.join();
}

TEST(Wire, GarbageIsMalformed) {
  SocketPair pair;
  const std::string garbage = "GET / HTTP/1.1\r\nHost: x\r\n\r\nthis is not a frame at all.......";
  ASSERT_EQ(::write(pair.a, garbage.data(), garbage.size()), static_cast<ssize_t>(garbage.size()));
  wire::Frame frame;
  const auto read = wire::read_frame(pair.b, 1 << 20, frame);
  EXPECT_EQ(read.status, wire::ReadStatus::malformed);
  EXPECT_EQ(read.why, "bad magic");
}

TEST(Wire, AnOversizedPayloadIsRefusedFromItsHeader) {
  SocketPair pair;
  wire::Header header;
  header.kind = static_cast<uint16_t>(wire::Kind::result);
  header.size = 0xFFFFFFF0u;  // 4 GiB announced, nothing sent
  ASSERT_EQ(::write(pair.a, &header, sizeof(header)), static_cast<ssize_t>(sizeof(header)));
  wire::Frame frame;
  const auto read = wire::read_frame(pair.b, 1 << 20, frame);
  EXPECT_EQ(read.status, wire::ReadStatus::malformed);
  EXPECT_NE(read.why.find("above the limit of 1048576"), std::string::npos) << read.why;
  EXPECT_LT(frame.payload.capacity(), std::size_t{1} << 20);
}

TEST(Wire, AnotherFrameVersionIsMalformed) {
  SocketPair pair;
  wire::Header header;
  header.version = 2;
  ASSERT_EQ(::write(pair.a, &header, sizeof(header)), static_cast<ssize_t>(sizeof(header)));
  wire::Frame frame;
  EXPECT_EQ(wire::read_frame(pair.b, 1 << 20, frame).status, wire::ReadStatus::malformed);
}

TEST(Wire, ATruncatedFrameIsAnErrorAndACleanCloseIsClosed) {
  {
    SocketPair pair;
    wire::Writer writer(pair.a);
    ASSERT_TRUE(writer.send(wire::Kind::log, 0, 0, 1, 0, "a whole line"));
    ::close(pair.a);
    pair.a = -1;
    wire::Frame frame;
    ASSERT_EQ(wire::read_frame(pair.b, 1 << 20, frame).status, wire::ReadStatus::ok);
    EXPECT_EQ(frame.payload, "a whole line");
    EXPECT_EQ(wire::read_frame(pair.b, 1 << 20, frame).status, wire::ReadStatus::closed);
  }
  {
    SocketPair pair;
    wire::Header header;
    header.size = 100;
    ASSERT_EQ(::write(pair.a, &header, sizeof(header)), static_cast<ssize_t>(sizeof(header)));
    ASSERT_EQ(::write(pair.a, "short", 5), 5);
    ::close(pair.a);
    pair.a = -1;
    wire::Frame frame;
    const auto read = wire::read_frame(pair.b, 1 << 20, frame);
    EXPECT_EQ(read.status, wire::ReadStatus::error);
    EXPECT_EQ(read.why, "truncated payload");
  }
}

TEST(Wire, SendingToAGonePeerFailsWithoutSigpipe) {
  SocketPair pair;
  ::close(pair.b);
  pair.b = -1;
  wire::Writer writer(pair.a);
  EXPECT_FALSE(writer.send(wire::Kind::invoke, 1, 0, 0, 0, std::string(1000, 'x')));
}

}  // namespace
