// The only translation unit that includes Beast (a Beast TLS TU is slow and memory-hungry to
// compile): acceptor, TLS/plain detection, HTTP/1.1 sessions, deadlines, graceful stop.
#include "sas/host/server/https_server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/core/detect_ssl.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <poll.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <cstdint>
#include <iterator>
#include <mutex>
#include <random>
#include <stdexcept>
#include <stop_token>
#include <thread>
#include <type_traits>
#include <unordered_map>

#include "tls.hpp"

namespace sas::host::server {
namespace detail {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;
using namespace std::chrono_literals;

// Room for a request line's method, spaces, version and CRLF around its target.
constexpr std::size_t kRequestLineSlack = 64;
// The first read of a request (then Beast reads what the header needs).
constexpr std::size_t kFirstRead = 4096;
// How long after a missed header or body deadline the connection is closed if even the 408
// cannot be written.
constexpr auto kReadTimeoutGrace = 1s;
// How long a closing connection keeps reading (and dropping) what its client still sends, so
// that the client reads the last answer rather than a reset (HttpSession::do_close): in all, and
// since the client last sent something.
constexpr auto kLingerTime = 5s;
constexpr auto kLingerIdle = 1s;

bool is_http_error(const beast::error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_target).category();
}

bool is_request_id_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' || c == ':' || c == '-';
}

std::string new_request_id() {
  thread_local std::mt19937_64 random{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(16, '0');
  uint64_t bits = random();
  for (char& c : id) {
    c = kHex[bits & 0xf];
    bits >>= 4;
  }
  return id;
}

// The client's X-Request-Id when it is safe to log and echo, else a new one.
std::string request_id(const http::request<http::string_body>& req) {
  const auto given = req["X-Request-Id"];
  if (!given.empty() && given.size() <= 64 && std::all_of(given.begin(), given.end(), is_request_id_char))
    return std::string(given);
  return new_request_id();
}

}  // namespace

class Server;

// A live connection, as seen by stop().
class SessionBase {
 public:
  virtual ~SessionBase() = default;
  virtual void shutdown() = 0;     // thread-safe: finish the current exchange, then close
  virtual void force_close() = 0;  // only once the I/O threads are gone
};

// One of the max_connections places (and of its client address's max_connections_per_client),
// held by the connection's session for its lifetime.
class Slot {
 public:
  Slot(Server* server, uint64_t id, std::string address) : server_(server), id_(id), address_(std::move(address)) {}
  Slot(Slot&& other) noexcept
      : server_(std::exchange(other.server_, nullptr)), id_(other.id_), address_(std::move(other.address_)) {}
  Slot& operator=(Slot&&) = delete;
  ~Slot();
  void attach(std::weak_ptr<SessionBase> session);

 private:
  Server* server_;
  uint64_t id_;
  std::string address_;
};

class Server {
 public:
  Server(ServerConfig config, Handler handler);
  ~Server() { stop(); }

  void start();
  void run();
  void stop();
  uint16_t port() const { return port_.load(); }
  bool reload_tls();
  std::size_t active_connections() const {
    std::lock_guard lock(sessions_mutex_);
    return sessions_.size();
  }
  std::size_t refused_connections() const { return refused_.load(); }

  // For the sessions.
  const ServerConfig& config() const { return config_; }
  const TlsPolicy& policy() const { return policy_; }
  void log(std::string_view message) const {
    if (config_.log) config_.log(message);
  }
  void handshake_failed(HandshakeFailure reason, std::string_view remote) const {
    if (config_.on_handshake_failure) config_.on_handshake_failure(reason, remote);
  }
  void exchanged(const Exchange& exchange) const {
    if (config_.on_exchange) config_.on_exchange(exchange);
  }
  void limit_refused(LimitRefusal limit, std::string_view remote) const {
    if (config_.on_limit_refusal) config_.on_limit_refusal(limit, remote);
  }
  std::size_t body_limit_of(std::string_view route) const {
    const auto it = config_.route_body_limits.find(route);
    return it != config_.route_body_limits.end() ? it->second : config_.max_body_bytes;
  }
  std::string route_of(std::string_view method, std::string_view target) const {
    std::string route;
    if (config_.route_of) {
      try {
        route = config_.route_of(method, target);
      } catch (...) {
        // A label is not worth a request.
      }
    }
    return route.empty() ? std::string("other") : route;
  }
  std::shared_ptr<ssl::context> tls_context();
  template <class F>
  void submit(F&& job) {
    net::post(*pool_, std::forward<F>(job));
  }
  Response call_handler(const Request& request) const;
  // An answer of the server's own, through config().render_error.
  Response error_response(int status, std::string_view message) const {
    if (config_.render_error) {
      try {
        return config_.render_error(status, message);
      } catch (...) {
        // A renderer that throws must not take the connection down: fall back to text.
      }
    }
    return plain_text_error(status, message);
  }
  void attach(uint64_t id, std::weak_ptr<SessionBase> session) {
    std::lock_guard lock(sessions_mutex_);
    if (auto it = sessions_.find(id); it != sessions_.end()) it->second = std::move(session);
  }
  void release(uint64_t id, const std::string& address) {
    std::lock_guard lock(sessions_mutex_);
    sessions_.erase(id);
    if (auto it = per_client_.find(address); it != per_client_.end() && --it->second == 0) per_client_.erase(it);
    if (sessions_.empty()) sessions_cv_.notify_all();
  }

 private:
  enum class State { idle, running, stopped };

  void start_locked();
  // A place for a connection from `address`, or none and the limit that refused it.
  std::optional<Slot> acquire(const std::string& address, LimitRefusal& refused);
  bool reload_locked(bool force);
  void do_accept();
  void on_accept(beast::error_code ec, tcp::socket socket);
  std::vector<std::shared_ptr<SessionBase>> live_sessions();

  const ServerConfig config_;
  const Handler handler_;
  TlsPolicy policy_;  // referenced by every SSL_CTX built below

  // Declared before io_: sessions still queued in io_ when it is destroyed release here.
  mutable std::mutex sessions_mutex_;
  std::condition_variable sessions_cv_;
  std::unordered_map<uint64_t, std::weak_ptr<SessionBase>> sessions_;
  std::unordered_map<std::string, std::size_t> per_client_;  // open connections by client IP address
  uint64_t next_id_ = 0;
  std::atomic<std::size_t> refused_{0};

  std::mutex tls_mutex_;
  std::shared_ptr<ssl::context> tls_;  // null: plain HTTP only
  std::vector<FileState> tls_files_;
  std::chrono::steady_clock::time_point tls_checked_{};

  std::mutex state_mutex_;  // held by start() and stop() throughout
  std::condition_variable state_cv_;
  State state_ = State::idle;
  std::atomic<bool> stopping_{false};
  std::atomic<uint16_t> port_{0};

  net::io_context io_;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work_;
  tcp::acceptor acceptor_;
  net::steady_timer accept_retry_;
  std::optional<net::thread_pool> pool_;
  std::vector<std::thread> io_threads_;
};

Slot::~Slot() {
  if (server_) server_->release(id_, address_);
}

void Slot::attach(std::weak_ptr<SessionBase> session) {
  if (server_) server_->attach(id_, std::move(session));
}

// HTTP/1.1 over TLS (Stream = TlsStream) or, in development, over plain TCP.
template <class Stream>
class HttpSession : public SessionBase, public std::enable_shared_from_this<HttpSession<Stream>> {
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

 public:
  HttpSession(Server& server, beast::tcp_stream&& tcp, std::shared_ptr<ssl::context> ctx, beast::flat_buffer&& buffer,
              Slot&& slot, std::string remote, std::chrono::steady_clock::time_point handshake_deadline)
      : server_(server),
        config_(server.config()),
        ctx_(std::move(ctx)),
        stream_(make_stream(std::move(tcp), ctx_.get())),
        ex_(stream_.get_executor()),
        buffer_(std::move(buffer)),
        slot_(std::move(slot)),
        deadline_(ex_),
        read_timer_(ex_),
        watch_timer_(ex_),
        remote_(std::move(remote)),
        handshake_deadline_(handshake_deadline) {}

  void run() {
    slot_.attach(this->weak_from_this());
    if constexpr (kTls) {
      lowest().expires_at(handshake_deadline_);  // one budget for detection + handshake
      // The bytes already read by the TLS detection are the start of the ClientHello.
      stream_.async_handshake(ssl::stream_base::server, buffer_.data(),
                              beast::bind_front_handler(&HttpSession::on_handshake, this->shared_from_this()));
    } else {
      do_read();
    }
  }

  void shutdown() override {
    net::post(ex_, [self = this->shared_from_this()] {
      self->closing_ = true;
      if (self->lingering_) return self->lowest().close();  // its answer is out: no need to wait
      // Idle between requests: close now. Otherwise the current response carries
      // "Connection: close".
      if (self->reading_ && self->phase_ == Phase::idle) self->lowest().cancel();
    });
  }

  void force_close() override { lowest().close(); }

 private:
  static Stream make_stream(beast::tcp_stream&& tcp, ssl::context* ctx) {
    if constexpr (kTls)
      return Stream(std::move(tcp), *ctx);
    else
      return std::move(tcp);
  }

  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  HandshakeFailure handshake_failure(const beast::error_code& ec) {
    if (ec == beast::error::timeout) return HandshakeFailure::timeout;
    if (ec.category() == net::error::get_ssl_category())
      return classify_handshake_failure(stream_.native_handle(), static_cast<unsigned long>(ec.value()));
    if (ec == ssl::error::stream_truncated || ec == net::error::eof || ec == net::error::connection_reset)
      return HandshakeFailure::closed;
    return HandshakeFailure::protocol;
  }

  void on_handshake(beast::error_code ec, std::size_t used) {
    if (ec) {
      if (ec == net::error::operation_aborted) return;  // stop()
      server_.log("TLS handshake with " + remote_ + " failed: " + ec.message());
      if constexpr (kTls) server_.handshake_failed(handshake_failure(ec), remote_);
      return;
    }
    buffer_.consume(used);
    if constexpr (kTls) {
      auto subject = peer_subject(stream_.native_handle(), server_.policy().allowed);
      if (subject) {
        client_ = std::move(*subject);
      } else if (server_.policy().require_certificate) {
        return;  // cannot happen: the verify callback checked it
      }
    }
    do_read();
  }

  // Waits for the next request: its first byte within idle_timeout (unless pipelined bytes are
  // already here), its header fields within header_timeout of that byte.
  void do_read() {
    if (closing_) return do_close();
    head_ = false;
    route_.clear();
    parser_.emplace();
    // Room for the longest request line and header fields allowed; which one overflowed is
    // told apart in read_ok, the limits themselves are checked in on_header.
    parser_->header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(kRequestLineSlack + config_.max_target_bytes + config_.max_header_bytes, UINT32_MAX)));
    parser_->body_limit(boost::none);  // the route's, once the header names the route
    reading_ = true;
    if (buffer_.size() != 0) return read_header();
    phase_ = Phase::idle;
    lowest().expires_after(config_.idle_timeout);
    stream_.async_read_some(buffer_.prepare(kFirstRead),
                            beast::bind_front_handler(&HttpSession::on_first_bytes, this->shared_from_this()));
  }

  void on_first_bytes(beast::error_code ec, std::size_t n) {
    if (ec) {
      reading_ = false;
      // The client closed a kept-alive connection: close our side too. Silent past
      // idle_timeout, reset, stop(): nothing to answer.
      if (ec == net::error::eof) do_close();
      return;
    }
    buffer_.commit(n);
    read_header();
  }

  void read_header() {
    phase_ = Phase::header;
    arm_read_timer(config_.header_timeout, LimitRefusal::header_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&HttpSession::on_header, this->shared_from_this()));
  }

  // The header or body deadline: when it passes first, the read is cancelled and read_ok
  // answers 408. The stream's own timeout, a little later, closes a connection that cannot
  // even take the 408.
  void arm_read_timer(std::chrono::milliseconds timeout, LimitRefusal limit) {
    lowest().expires_after(timeout + kReadTimeoutGrace);
    read_timer_.expires_after(timeout);
    read_timer_.async_wait([self = this->shared_from_this(), limit, armed = ++read_timer_armed_](beast::error_code ec) {
      // `armed`: an expiry queued just before a cancel() belongs to an earlier read.
      if (ec || !self->reading_ || armed != self->read_timer_armed_) return;
      self->timed_out_ = limit;
      self->lowest().cancel();
    });
  }

  // Sorts out read errors; true if the request can go on.
  bool read_ok(const beast::error_code& ec) {
    reading_ = false;
    read_timer_.cancel();
    const auto timed_out = std::exchange(timed_out_, std::nullopt);
    if (!ec) return true;
    const auto ms = [](std::chrono::milliseconds t) { return std::to_string(t.count()) + " ms"; };
    if (timed_out && ec == net::error::operation_aborted) {
      if (*timed_out == LimitRefusal::header_timeout)
        refuse(*timed_out, 408, "the request's header fields did not arrive within " + ms(config_.header_timeout));
      else
        refuse(*timed_out, 408, "the request body did not arrive within " + ms(config_.body_timeout));
    } else if (ec == http::error::end_of_stream) {
      do_close();
    } else if (ec == beast::error::timeout) {
      server_.log("incomplete request from " + remote_ + " timed out; closing");
    } else if (ec == http::error::body_limit) {  // a chunked body past the route's limit
      refuse(LimitRefusal::body_size, 413, body_too_large());
    } else if (ec == http::error::header_limit) {
      if (request_line_too_long())
        refuse(LimitRefusal::target_length, 414, target_too_long());
      else
        refuse(LimitRefusal::header_size, 431, header_too_large());
    } else if (is_http_error(ec)) {
      server_.log("malformed request from " + remote_ + ": " + ec.message());
      unread_request();
      send(server_.error_response(400, "malformed HTTP request"), true);
    }
    // Otherwise reset, aborted by stop(), TLS truncation: nothing to answer.
    return false;
  }

  std::string target_too_long() const {
    return "the request target is longer than " + std::to_string(config_.max_target_bytes) + " bytes";
  }
  std::string header_too_large() const {
    return "the request's header fields take more than " + std::to_string(config_.max_header_bytes) + " bytes";
  }
  std::string body_too_large() const {
    return "the request body is larger than " + std::to_string(server_.body_limit_of(route_)) +
           " bytes, the limit of this route";
  }

  // Whether the header overflowed the parser's limit in its request line (Beast fills the
  // target once the line is parsed) or with a target already too long.
  bool request_line_too_long() const {
    const auto target = parser_->get().target();
    return target.empty() || target.size() > config_.max_target_bytes;
  }

  // Answers a request that went past a limit, and closes the connection: the rest of the
  // request is not read. Neither the log nor the exchange carries the oversized part.
  void refuse(LimitRefusal limit, int status, const std::string& message) {
    unread_request();
    if (limit == LimitRefusal::target_length) exchange_.target.clear();
    server_.log("request from " + remote_ + " refused: " + message);
    server_.limit_refused(limit, remote_);
    send(server_.error_response(status, message), true);
  }

  // What the exchange records of a request the server answers without reading it whole.
  void unread_request() {
    exchange_ = {};
    exchange_.id = new_request_id();
    exchange_.route = route_.empty() ? std::string("other") : route_;
    // The request line, when it was read (Beast fills it once the whole header is in).
    exchange_.method = std::string(parser_->get().method_string());
    exchange_.target = std::string(parser_->get().target());
    exchange_.start = std::chrono::steady_clock::now();
  }

  void on_header(beast::error_code ec, std::size_t header_bytes) {
    if (!read_ok(ec)) return;
    const auto& req = parser_->get();
    if (req.target().size() > config_.max_target_bytes)
      return refuse(LimitRefusal::target_length, 414, target_too_long());
    // The request line: METHOD SP TARGET SP HTTP/1.x CRLF.
    const std::size_t request_line = req.method_string().size() + req.target().size() + 12;
    if (header_bytes > request_line && header_bytes - request_line > config_.max_header_bytes)
      return refuse(LimitRefusal::header_size, 431, header_too_large());
    if (static_cast<std::size_t>(std::distance(req.begin(), req.end())) > config_.max_header_fields)
      return refuse(LimitRefusal::header_count, 431,
                    "the request has more than " + std::to_string(config_.max_header_fields) + " header fields");
    route_ = server_.route_of(req.method_string(), req.target());
    const std::size_t body_limit = server_.body_limit_of(route_);
    if (const auto length = parser_->content_length(); length && *length > body_limit)
      return refuse(LimitRefusal::body_size, 413, body_too_large());
    parser_->body_limit(body_limit);
    if (parser_->is_done()) return on_read({}, 0);
    if (beast::iequals(parser_->get()[http::field::expect], "100-continue")) {
      // Such a client waits for this before sending the body (curl does, for large bodies).
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      net::async_write(stream_, net::buffer(kContinue.data(), kContinue.size()),
                       [self = this->shared_from_this()](beast::error_code write_ec, std::size_t) {
                         if (!write_ec) self->read_body();
                       });
      return;
    }
    read_body();
  }

  void read_body() {
    reading_ = true;
    phase_ = Phase::body;
    arm_read_timer(config_.body_timeout, LimitRefusal::body_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&HttpSession::on_read, this->shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (!read_ok(ec)) return;

    auto& req = parser_->get();
    Request request;
    request.id = request_id(req);
    request.method = std::string(req.method_string());
    request.target = std::string(req.target());
    request.route = route_;
    exchange_ = {request.id, request.route, request.method, request.target, std::chrono::steady_clock::now()};
    for (const auto& field : req)
      request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    request.body = std::move(req.body());
    request.tls = kTls;
    request.client = client_;
    request.remote = remote_;
    keep_alive_ = req.keep_alive();
    version_ = req.version();
    head_ = req.method() == http::verb::head;

    // The handler runs on the worker pool; whichever of its answer and the deadline comes
    // first is sent, the other is dropped (seq_ tells stale answers apart).
    lowest().expires_never();
    const uint64_t seq = ++seq_;
    awaiting_ = true;
    deadline_.expires_after(config_.request_deadline);
    deadline_.async_wait([self = this->shared_from_this(), seq](beast::error_code wait_ec) {
      if (!wait_ec) self->on_deadline(seq);
    });
    // The handler learns through its stop token that nobody will read its answer: the deadline
    // passed, or the client went away (the plugin's should_stop()).
    stop_source_ = std::stop_source{};
    request.stop = stop_source_.get_token();
    watch_client(seq);
    server_.submit([self = this->shared_from_this(), seq, request = std::move(request)] {
      Response response = self->server_.call_handler(request);
      net::post(self->ex_, [self, seq, response = std::move(response)]() mutable {
        self->on_handler_done(seq, std::move(response));
      });
    });
  }

  // Nothing reads the socket while the handler runs: wait for it to become readable, without
  // consuming a byte (a pipelined request stays in the kernel for do_read), and ask the kernel
  // whether the peer hung up (POLLRDHUP: its FIN, even behind unread bytes).
  void watch_client(uint64_t seq) {
    lowest().socket().async_wait(tcp::socket::wait_read, [self = this->shared_from_this(), seq](beast::error_code ec) {
      if (ec || !self->awaiting_ || seq != self->seq_) return;
      if (self->peer_hung_up()) {
        self->server_.log("client " + self->remote_ + " went away; stopping its request");
        self->stop_source_.request_stop();
        return;
      }
      // Readable but still there (bytes of a next request): look again shortly rather than spin.
      self->watch_timer_.expires_after(10ms);
      self->watch_timer_.async_wait([self, seq](beast::error_code wait_ec) {
        if (!wait_ec) self->watch_client(seq);
      });
    });
  }

  bool peer_hung_up() {
    pollfd fd{lowest().socket().native_handle(), static_cast<short>(POLLRDHUP), 0};
    return ::poll(&fd, 1, 0) > 0 && (fd.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
  }

  void stop_watching() {
    watch_timer_.cancel();
    beast::error_code ignored;
    lowest().socket().cancel(ignored);  // only the readiness wait is pending while awaiting
  }

  void on_deadline(uint64_t seq) {
    if (!awaiting_ || seq != seq_) return;
    awaiting_ = false;
    stop_source_.request_stop();
    stop_watching();
    server_.log("handler missed the " + std::to_string(config_.request_deadline.count()) + " ms deadline for " +
                remote_ + "; answering 503");
    send(server_.error_response(503, "the server could not answer in time"), false);
  }

  void on_handler_done(uint64_t seq, Response response) {
    if (!awaiting_ || seq != seq_) return;
    awaiting_ = false;
    deadline_.cancel();
    stop_watching();
    send(std::move(response), false);
  }

  void send(Response r, bool close_after) {
    if (r.status < 100 || r.status > 999) r = server_.error_response(500, "invalid status from handler");
    res_ = {};
    res_.version(version_ != 0 ? version_ : 11);
    res_.result(static_cast<unsigned>(r.status));
    if (!r.content_type.empty()) res_.set(http::field::content_type, r.content_type);
    res_.set("X-Request-Id", exchange_.id);
    for (const auto& [name, value] : r.headers) {
      if (name.find_first_of("\r\n:") != std::string::npos || value.find_first_of("\r\n") != std::string::npos) {
        server_.log("dropping response header with CR/LF: " + name);
        continue;
      }
      res_.insert(std::string_view(name), std::string_view(value));
    }
    res_.keep_alive(keep_alive_ && !close_after && !closing_);
    if (head_) {
      // HEAD: the headers the GET would have, Content-Length included, and no body (RFC 9110).
      res_.content_length(r.body.size());
    } else {
      res_.body() = std::move(r.body);
      res_.prepare_payload();
    }
    lowest().expires_after(config_.request_deadline);
    if constexpr (kTls) {
      if (!res_.chunked()) return write_sealed();
    }
    http::async_write(stream_, res_, beast::bind_front_handler(&HttpSession::on_write, this->shared_from_this()));
  }

  // The whole answer encrypted at once and sent in one socket write: through Asio's TLS stream,
  // each 16 KB record is its own write and its own trip through the event loop.
  void write_sealed() {
    std::string head;
    http::response_serializer<http::string_body> serializer{res_};
    serializer.split(true);
    beast::error_code ec;
    while (!ec && !serializer.is_header_done()) {
      serializer.next(ec, [&](beast::error_code&, const auto& buffers) {
        for (const auto buffer : beast::buffers_range_ref(buffers))
          head.append(static_cast<const char*>(buffer.data()), buffer.size());
        serializer.consume(beast::buffer_bytes(buffers));
      });
    }
    if (ec || !seal_application_data(stream_.native_handle(), head, res_.body(), sealed_)) {
      server_.log("could not encrypt the answer to " + remote_ + "; closing the connection");
      return on_write(ec ? ec : beast::error_code(net::error::fault), 0);
    }
    net::async_write(lowest(), net::buffer(sealed_),
                     beast::bind_front_handler(&HttpSession::on_write, this->shared_from_this()));
  }

  void on_write(beast::error_code ec, std::size_t) {
    sealed_ = std::string();  // kept buffers (per connection or pooled) measured no faster
    Exchange exchange;
    exchange.id = exchange_.id;
    exchange.route = exchange_.route;
    exchange.method = exchange_.method;
    exchange.target = exchange_.target;
    exchange.status = static_cast<int>(res_.result_int());
    exchange.duration = std::chrono::steady_clock::now() - exchange_.start;
    exchange.body_bytes = head_ ? 0 : res_.body().size();
    exchange.written = !ec;
    exchange.client = &client_;
    exchange.remote = remote_;
    server_.exchanged(exchange);
    if (ec) return;
    if (!res_.keep_alive()) return do_close();
    do_read();
  }

  // Closes without losing the last answer (RFC 9112, 9.6): close_notify, then our half of TCP,
  // then what the client still sends (a refused request's body) is read and dropped until it
  // closes, falls silent for kLingerIdle, or kLingerTime passes. Closing with unread bytes would
  // make the kernel send a reset, which can destroy the answer in the client's buffer before the
  // client reads it.
  void do_close() {
    if (lingering_) return;
    lingering_ = true;
    linger_until_ = std::chrono::steady_clock::now() + kLingerTime;
    if constexpr (kTls) {
      // OpenSSL ends the shutdown with an error at the first application data: drain takes over.
      expire_lingering();
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) { self->drain(); });
    } else {
      drain();
    }
  }

  void drain() {
    if (!lowest().socket().is_open()) return;  // silent or past kLingerTime (closed), or stop()
    beast::error_code ignored;
    lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
    drained_.resize(kFirstRead);
    drain_more();
  }

  void drain_more() {
    expire_lingering();
    lowest().async_read_some(net::buffer(drained_),
                             [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                               if (!ec) self->drain_more();
                             });
  }

  void expire_lingering() {
    lowest().expires_at(std::min(std::chrono::steady_clock::now() + kLingerIdle, linger_until_));
  }

  Server& server_;
  const ServerConfig& config_;
  std::shared_ptr<ssl::context> ctx_;  // before stream_: the SSL object must die first
  Stream stream_;
  net::any_io_executor ex_;  // the connection's strand
  beast::flat_buffer buffer_;
  Slot slot_;
  net::steady_timer deadline_;
  net::steady_timer read_timer_;   // the header or body deadline (arm_read_timer)
  net::steady_timer watch_timer_;  // re-arms watch_client when the socket holds unread bytes
  std::stop_source stop_source_;   // of the request in the handler
  std::string remote_;
  std::chrono::steady_clock::time_point handshake_deadline_;
  ClientSubject client_;
  // The request being answered, for the X-Request-Id header and ServerConfig::on_exchange.
  struct {
    std::string id, route, method, target;
    std::chrono::steady_clock::time_point start;
  } exchange_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string route_;  // route_of's label of the request being read, once its header is in
  // What is being read: the next request's first byte, its header fields, its body.
  enum class Phase { idle, header, body } phase_ = Phase::idle;
  std::optional<LimitRefusal> timed_out_;  // set by the read timer before it cancels the read
  uint64_t read_timer_armed_ = 0;
  http::response<http::string_body> res_;
  std::string sealed_;  // the encrypted answer being written (write_sealed)
  uint64_t seq_ = 0;
  unsigned version_ = 11;
  bool head_ = false;  // the request being answered is a HEAD
  bool keep_alive_ = false;
  bool awaiting_ = false;
  bool reading_ = false;
  bool closing_ = false;
  bool lingering_ = false;  // do_close has begun
  std::chrono::steady_clock::time_point linger_until_;
  std::vector<char> drained_;  // what the client sends while lingering, dropped
};

// Reads the first bytes of a new connection to tell a TLS ClientHello from plain HTTP.
class Detector : public SessionBase, public std::enable_shared_from_this<Detector> {
 public:
  Detector(Server& server, tcp::socket&& socket, Slot&& slot)
      : server_(server), stream_(std::move(socket)), ex_(stream_.get_executor()), slot_(std::move(slot)) {
    beast::error_code ec;
    auto ep = stream_.socket().remote_endpoint(ec);
    remote_ = ec ? std::string("?") : ep.address().to_string() + ":" + std::to_string(ep.port());
  }

  void run() {
    slot_.attach(weak_from_this());
    handshake_deadline_ = std::chrono::steady_clock::now() + server_.config().handshake_timeout;
    stream_.expires_at(handshake_deadline_);
    beast::async_detect_ssl(stream_, buffer_, beast::bind_front_handler(&Detector::on_detect, shared_from_this()));
  }

  void shutdown() override {
    net::post(ex_, [self = shared_from_this()] {
      if (!self->handed_off_) self->stream_.cancel();
    });
  }

  void force_close() override {
    if (!handed_off_) stream_.close();
  }

 private:
  void on_detect(beast::error_code ec, bool is_tls) {
    if (ec == beast::error::timeout) return server_.handshake_failed(HandshakeFailure::timeout, remote_);
    if (ec) {
      // Gone after a few bytes, too few to tell TLS from HTTP: a client that gave up. Gone
      // before any byte (a balancer's TCP health check) or stopped: nothing to count.
      if (ec != net::error::operation_aborted && buffer_.size() != 0)
        server_.handshake_failed(HandshakeFailure::closed, remote_);
      return;
    }
    if (is_tls) {
      auto ctx = server_.tls_context();
      if (!ctx) return server_.log("TLS connection from " + remote_ + " refused: TLS is not configured");
      handed_off_ = true;
      std::make_shared<HttpSession<TlsStream>>(server_, std::move(stream_), std::move(ctx), std::move(buffer_),
                                               std::move(slot_), remote_, handshake_deadline_)
          ->run();
    } else if (server_.config().allow_plain_http) {
      handed_off_ = true;
      std::make_shared<HttpSession<beast::tcp_stream>>(server_, std::move(stream_), nullptr, std::move(buffer_),
                                                       std::move(slot_), remote_, handshake_deadline_)
          ->run();
    } else {
      server_.log("plain HTTP connection from " + remote_ + " refused");
      server_.handshake_failed(HandshakeFailure::plain_http, remote_);
    }
  }

  Server& server_;
  beast::tcp_stream stream_;
  net::any_io_executor ex_;
  beast::flat_buffer buffer_;
  Slot slot_;
  std::string remote_;
  std::chrono::steady_clock::time_point handshake_deadline_;
  bool handed_off_ = false;
};

Server::Server(ServerConfig config, Handler handler)
    : config_(std::move(config)),
      handler_(std::move(handler)),
      acceptor_(net::make_strand(io_)),
      accept_retry_(acceptor_.get_executor()) {
  if (!handler_) throw std::invalid_argument("HttpsServer: no handler");
  if (config_.cert_file.empty() && !config_.allow_plain_http)
    throw std::invalid_argument("HttpsServer: cert_file is required unless allow_plain_http is set");
  if (!config_.cert_file.empty() && (config_.key_file.empty() || config_.client_ca_file.empty()))
    throw std::invalid_argument("HttpsServer: key_file and client_ca_file are required with cert_file");
  if (config_.max_connections == 0) throw std::invalid_argument("HttpsServer: max_connections must be positive");
  if (config_.max_connections_per_client == 0)
    throw std::invalid_argument("HttpsServer: max_connections_per_client must be positive");
  for (const auto& entry : config_.allowed_subjects) policy_.allowed.push_back(AllowedSubject::parse(entry));
  policy_.require_certificate = config_.require_client_certificate;
  policy_.log = config_.log;
}

void Server::start() {
  std::lock_guard state_lock(state_mutex_);
  if (state_ != State::idle) throw std::logic_error("HttpsServer::start: already started");
  start_locked();
}

void Server::start_locked() {
  if (!config_.cert_file.empty()) {
    std::lock_guard lock(tls_mutex_);
    tls_files_ = tls_file_states(config_);
    tls_ = std::make_shared<ssl::context>(make_server_context(config_, policy_).release());
    tls_checked_ = std::chrono::steady_clock::now();
  }
  try {
    tcp::resolver resolver(io_);
    auto results = resolver.resolve(config_.host, std::to_string(config_.port), tcp::resolver::passive);
    const tcp::endpoint endpoint = results.begin()->endpoint();
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(net::socket_base::max_listen_connections);
    port_ = acceptor_.local_endpoint().port();
  } catch (const boost::system::system_error& e) {
    throw std::runtime_error("HttpsServer: cannot listen on " + config_.host + ":" + std::to_string(config_.port) +
                             ": " + e.code().message());
  }
  work_.emplace(io_.get_executor());
  const unsigned workers =
      config_.worker_threads != 0 ? config_.worker_threads : std::max(1u, std::thread::hardware_concurrency());
  pool_.emplace(workers);
  net::post(acceptor_.get_executor(), [this] { do_accept(); });
  for (unsigned i = 0; i < std::max(1u, config_.io_threads); ++i)
    io_threads_.emplace_back([this] {
      for (;;) {
        try {
          io_.run();
          return;
        } catch (const std::exception& e) {
          log(std::string("I/O thread: unexpected exception: ") + e.what());
        }
      }
    });
  state_ = State::running;
}

void Server::run() {
  std::unique_lock lock(state_mutex_);
  if (state_ == State::idle) start_locked();
  state_cv_.wait(lock, [this] { return state_ == State::stopped; });
}

std::vector<std::shared_ptr<SessionBase>> Server::live_sessions() {
  std::vector<std::shared_ptr<SessionBase>> out;
  std::lock_guard lock(sessions_mutex_);
  for (auto& [id, weak] : sessions_)
    if (auto session = weak.lock()) out.push_back(std::move(session));
  return out;
}

void Server::stop() {
  std::unique_lock state_lock(state_mutex_);
  if (state_ != State::running) {
    state_ = State::stopped;
    state_cv_.notify_all();
    return;
  }
  stopping_ = true;
  net::post(acceptor_.get_executor(), [this] {
    beast::error_code ignored;
    acceptor_.close(ignored);
    accept_retry_.cancel();
  });
  for (auto& session : live_sessions()) session->shutdown();
  {
    std::unique_lock lock(sessions_mutex_);
    sessions_cv_.wait_for(lock, config_.request_deadline + 1s, [this] { return sessions_.empty(); });
  }
  work_.reset();
  io_.stop();
  for (auto& t : io_threads_) t.join();
  io_threads_.clear();
  // Whatever is left waits in io_'s queue until destruction; its sockets close now.
  for (auto& session : live_sessions()) session->force_close();
  pool_->stop();
  pool_->join();
  state_ = State::stopped;
  state_cv_.notify_all();
}

std::optional<Slot> Server::acquire(const std::string& address, LimitRefusal& refused) {
  std::lock_guard lock(sessions_mutex_);
  if (sessions_.size() >= config_.max_connections) {
    refused = LimitRefusal::connections;
    return std::nullopt;
  }
  std::size_t& from_client = per_client_[address];
  if (from_client >= config_.max_connections_per_client) {
    refused = LimitRefusal::connections_per_client;
    return std::nullopt;
  }
  ++from_client;
  const uint64_t id = ++next_id_;
  sessions_.emplace(id, std::weak_ptr<SessionBase>{});
  return std::optional<Slot>(std::in_place, this, id, address);
}

void Server::do_accept() {
  acceptor_.async_accept(net::make_strand(io_), beast::bind_front_handler(&Server::on_accept, this));
}

void Server::on_accept(beast::error_code ec, tcp::socket socket) {
  if (stopping_ || !acceptor_.is_open()) return;
  if (ec) {
    // E.g. out of file descriptors: retry shortly instead of spinning.
    log("accept failed: " + ec.message());
    accept_retry_.expires_after(100ms);
    accept_retry_.async_wait([this](beast::error_code wait_ec) {
      if (!wait_ec) do_accept();
    });
    return;
  }
  beast::error_code endpoint_ec;
  const auto peer = socket.remote_endpoint(endpoint_ec);
  const std::string address = endpoint_ec ? std::string("?") : peer.address().to_string();
  LimitRefusal refusal{};
  if (auto slot = acquire(address, refusal)) {
    // Responses are written whole; Nagle would hold their last TLS record back for the
    // client's delayed ACK (~40 ms).
    beast::error_code nodelay_ec;
    socket.set_option(tcp::no_delay(true), nodelay_ec);
    std::make_shared<Detector>(*this, std::move(socket), std::move(*slot))->run();
  } else {
    ++refused_;
    const std::string remote = endpoint_ec ? address : address + ":" + std::to_string(peer.port());
    if (refusal == LimitRefusal::connections)
      log("connection from " + remote + " refused: max_connections (" + std::to_string(config_.max_connections) +
          ") reached");
    else
      log("connection from " + remote + " refused: max_connections_per_client (" +
          std::to_string(config_.max_connections_per_client) + ") reached for " + address);
    limit_refused(refusal, remote);
    beast::error_code ignored;
    socket.close(ignored);
  }
  do_accept();
}

std::shared_ptr<ssl::context> Server::tls_context() {
  std::lock_guard lock(tls_mutex_);
  if (!tls_) return nullptr;
  const auto now = std::chrono::steady_clock::now();
  if (now - tls_checked_ >= 1s) {
    tls_checked_ = now;
    reload_locked(false);
  }
  return tls_;
}

bool Server::reload_tls() {
  std::lock_guard lock(tls_mutex_);
  if (config_.cert_file.empty()) return false;
  return reload_locked(true);
}

bool Server::reload_locked(bool force) {
  // Stamped before loading: a change during the load is seen at the next check.
  auto files = tls_file_states(config_);
  if (!force && files == tls_files_) return true;
  try {
    tls_ = std::make_shared<ssl::context>(make_server_context(config_, policy_).release());
    tls_files_ = std::move(files);
    log("TLS material reloaded");
    return true;
  } catch (const std::exception& e) {
    log(std::string("TLS reload failed, keeping the previous configuration: ") + e.what());
    return false;
  }
}

Response Server::call_handler(const Request& request) const {
  // The path, not the query: queries carry identifiers (a regulator's, practitioners').
  const auto failed = [&request] {
    return "handler failed on " + request.method + " " + request.target.substr(0, request.target.find('?')) +
           " (request " + request.id + ")";
  };
  try {
    return handler_(request);
  } catch (const std::exception& e) {
    log(failed() + ": " + e.what());
  } catch (...) {
    log(failed());
  }
  return error_response(500, "internal server error");
}

}  // namespace detail

Response plain_text_error(int status, std::string_view message) {
  Response r;
  r.status = status;
  r.content_type = "text/plain; charset=utf-8";
  r.body = std::string(message) + "\n";
  return r;
}

struct HttpsServer::Impl : detail::Server {
  using Server::Server;
};

HttpsServer::HttpsServer(ServerConfig config, Handler handler)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(handler))) {}
HttpsServer::~HttpsServer() = default;
void HttpsServer::start() { impl_->start(); }
void HttpsServer::run() { impl_->run(); }
void HttpsServer::stop() { impl_->stop(); }
uint16_t HttpsServer::port() const { return impl_->port(); }
bool HttpsServer::reload_tls() { return impl_->reload_tls(); }
std::size_t HttpsServer::active_connections() const { return impl_->active_connections(); }
std::size_t HttpsServer::refused_connections() const { return impl_->refused_connections(); }

}  // namespace sas::host::server
