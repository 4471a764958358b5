// The host's HTTPS server: HTTP/1.1 over mutual TLS, as the SAS platform requires (TLS 1.2 or
// later, and in TLS 1.2 only ECDHE suites with AES-GCM or ChaCha20-Poly1305; client certificate
// from a trusted CA, not revoked, subject CN/OU on an allow-list).
// A client that fails any of these checks is refused during the TLS handshake; the handler
// only ever sees authenticated requests (or plain-HTTP ones, if explicitly allowed).
//
// Limits (ServerConfig): connections in all and per client address, the request target, the
// header fields, the body per route, the time to send headers and body; each refusal is
// answered where HTTP can still be spoken (408, 413, 414, 431) and reported to on_limit_refusal.
//
// Threads: network I/O runs on `io_threads` threads; the handler runs on a separate pool of
// `worker_threads`, so a slow handler never stalls other connections and the server can answer
// 503 when the handler overruns `request_deadline`.
//
// TLS material reload: on a new connection, at most once a second, the server compares the
// modification time and size of the certificate, key, client CA and CRL files with those of
// the last load. On a change it builds a new SSL_CTX and swaps it in atomically; connections
// already established keep the old one, new ones get the new one. A file that fails to load
// (e.g. half written) keeps the previous context in service and is retried a second later.
// reload_tls() forces a reload (e.g. on SIGHUP). TLS session resumption is disabled, so every
// new connection is checked against the current CRL and allow-list.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sas::host::server {

// The authenticated client, from its certificate's subject (empty for plain HTTP).
struct ClientSubject {
  std::string cn;
  std::string ou;  // the OU that matched the allow-list
};

struct Request {
  // The request's id, in logs and in the X-Request-Id header of the answer: the client's own
  // X-Request-Id when it is 1 to 64 characters of [A-Za-z0-9._:-] (so the platform's logs and
  // ours share it), else 16 random hex digits.
  std::string id;
  std::string route;                                         // ServerConfig::route_of's label ("other" without one)
  std::string method;                                        // "GET", "POST", ...
  std::string target;                                        // as received: path + query, not percent-decoded
  std::vector<std::pair<std::string, std::string>> headers;  // in order, names as received
  std::string body;
  bool tls = true;       // false only for plain HTTP (allow_plain_http)
  ClientSubject client;  // from the verified certificate
  std::string remote;    // "ip:port" of the peer, for logs
  // Requested when the request's deadline passes or the client disconnects: long work (a
  // plugin call) stops early, since nobody will read its answer.
  std::stop_token stop;

  // First header with this name (case-insensitive).
  std::optional<std::string_view> header(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/fhir+json";        // no Content-Type header when empty
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers, e.g. Location
  std::string body;
};

// Why a connection ended before its TLS handshake did (one per connection), for metrics.
enum class HandshakeFailure {
  no_certificate,   // the client sent none where one is required
  unknown_ca,       // its chain does not lead to a trusted CA
  subject_refused,  // a trusted certificate whose CN/OU is not on the allow-list
  revoked,          // listed in the CRL
  expired,          // past its notAfter (or a CRL past its nextUpdate)
  not_yet_valid,    // before its notBefore
  bad_certificate,  // any other verification error (signature, CRL missing, purpose...)
  protocol,         // TLS version, cipher or malformed handshake (e.g. TLS 1.0, no shared cipher)
  timeout,          // no complete handshake within handshake_timeout
  plain_http,       // plain HTTP where TLS is required
  closed,           // the client closed or reset the connection
};
std::string_view to_string(HandshakeFailure reason);  // "no_certificate", ...

// A request or connection the server refused because it went past one of its limits
// (ServerConfig), one per refusal, for metrics and logs.
enum class LimitRefusal {
  target_length,           // 414: the request target is longer than max_target_bytes
  header_size,             // 431: the header fields take more than max_header_bytes
  header_count,            // 431: more than max_header_fields header fields
  body_size,               // 413: the body is larger than its route's limit
  header_timeout,          // 408: headers incomplete header_timeout after the request's first byte
  body_timeout,            // 408: body incomplete body_timeout after the end of the headers
  connections,             // a new connection closed at once: max_connections open
  connections_per_client,  // a new connection closed at once: max_connections_per_client from its address
};
std::string_view to_string(LimitRefusal limit);  // "target_length", ...

// One answer, as sent: the handler's or the server's own (400, 408, 413, 414, 431, 500, 503). For logs and
// metrics; the views are valid during the call only.
struct Exchange {
  std::string_view id;      // Request::id (a new one when the request could not be read)
  std::string_view route;   // Request::route ("other" when the request could not be read)
  std::string_view method;  // empty when the request could not be read
  std::string_view target;  // as received, query included
  int status = 0;
  // From the request's last byte received to the answer's last byte written.
  std::chrono::steady_clock::duration duration{};
  std::size_t body_bytes = 0;
  bool written = true;            // false: the client was gone before the answer was
  const ClientSubject* client{};  // never null
  std::string_view remote;        // "ip:port"
};

// Called on a worker thread, possibly concurrently: must be thread-safe. An exception becomes
// a 500, rendered by ServerConfig::render_error.
using Handler = std::function<Response(const Request&)>;

// The body of an answer the server gives itself, not the handler: 400 malformed request, 408
// request too slow, 413 body too large, 414 target too long, 431 header fields too large,
// 503 handler past its deadline, 500 handler failure or invalid status. The
// server knows no format: a FHIR listener renders OperationOutcomes (fhir::render_server_error),
// the admin API its JSON errors. Called on server threads; must not throw.
using ErrorRenderer = std::function<Response(int status, std::string_view message)>;

// The default: the message as text/plain.
Response plain_text_error(int status, std::string_view message);

// One allow-list entry. Written "CN=sas.sante.fr,OU=SAS": both CN and OU are required, in any
// order, keys case-insensitive, values compared exactly (case-sensitive, no wildcards); a value
// containing ',' or '\' escapes it with '\'. A certificate matches when it has exactly one CN,
// equal to `cn`, and one of its OUs equals `ou`.
struct AllowedSubject {
  std::string cn;
  std::string ou;

  // Throws std::invalid_argument on a malformed entry.
  static AllowedSubject parse(std::string_view text);
  friend bool operator==(const AllowedSubject&, const AllowedSubject&) = default;
};

struct ServerConfig {
  std::string host = "127.0.0.1";  // address or name to listen on
  uint16_t port = 0;               // 0 = ephemeral; see HttpsServer::port()

  std::filesystem::path cert_file;       // server certificate chain (PEM)
  std::filesystem::path key_file;        // its private key (PEM, unencrypted)
  std::filesystem::path client_ca_file;  // CAs trusted for client certificates (PEM bundle)
  // Optional CRLs (PEM, one or more). When set, every client certificate's issuer must have a
  // CRL in this file, otherwise the certificate is refused ("unable to get certificate CRL"),
  // and a CRL past its nextUpdate refuses everyone: keep the file fresh (it is reloaded live).
  std::filesystem::path crl_file;
  std::vector<std::string> allowed_subjects;  // AllowedSubject syntax; empty = refuse everyone
  // true (the SAS endpoint): a client without a certificate is refused during the handshake.
  // false (the admin API, whose clients may use a bearer token instead): a certificate is
  // requested but optional; one that is presented must still verify (CA, CRL) and, when
  // allowed_subjects is not empty, match it. Request::client is empty for a client without one
  // (or, with an empty allow-list, whose subject was not checked).
  bool require_client_certificate = true;

  // Development only: also serve plain HTTP on the same port (detected from the first bytes);
  // plain requests carry no client identity. When false, a plain HTTP connection is closed
  // without an answer. With no cert_file, allow_plain_http gives a plain-HTTP-only server.
  bool allow_plain_http = false;

  std::size_t max_connections = 256;  // beyond this, new connections are closed at once
  // From one client IP address (a balancer that hides the clients' addresses counts as one
  // client); beyond this its new connections are closed at once. Positive; above
  // max_connections it is never reached.
  std::size_t max_connections_per_client = 64;
  // Time the handler has to produce a response before the client gets a 503; well under the
  // SAS platform's 7 s timeout. Also bounds writing the response.
  std::chrono::milliseconds request_deadline{5000};
  // A connection waiting for a request (after its handshake, or kept alive after an answer)
  // with no byte of one received is closed after this, without an answer.
  std::chrono::milliseconds idle_timeout{15000};
  // From a request's first byte to the end of its header fields; past it the client gets a
  // 408 and the connection is closed (a client trickling its headers holds no place for long).
  std::chrono::milliseconds header_timeout{10000};
  // From the end of the header fields to the body's last byte; past it: 408 and closed.
  std::chrono::milliseconds body_timeout{10000};
  std::chrono::milliseconds handshake_timeout{5000};  // TCP accept to end of TLS handshake

  // Request sizes. Longer targets get 414; more or larger header fields (the request line not
  // counted) 431; larger bodies 413, before the body is read when Content-Length announces it.
  std::size_t max_target_bytes = 8192;
  std::size_t max_header_bytes = 16384;
  std::size_t max_header_fields = 100;
  // The body limit of a route without one in route_body_limits (keyed by route_of's labels).
  std::size_t max_body_bytes = 1024 * 1024;
  std::map<std::string, std::size_t, std::less<>> route_body_limits;

  unsigned worker_threads = 0;  // handler threads; 0 = std::thread::hardware_concurrency()
  unsigned io_threads = 1;      // network threads (TLS handshakes are cheap at SAS volumes)

  // Diagnostics (refused certificates, reloads, timeouts); called from server threads.
  std::function<void(std::string_view)> log;

  // Observers, called from server threads; they must be cheap, thread-safe and not throw.
  // A label for the request (e.g. "INT_R01 search"), from its method and target before the
  // handler runs, so that even an answer the server gives itself (503 past the deadline) is
  // counted under its route; none: "other". Keep the set of labels small (metrics).
  std::function<std::string(std::string_view method, std::string_view target)> route_of;
  std::function<void(const Exchange&)> on_exchange;  // after each answer
  std::function<void(HandshakeFailure, std::string_view remote)> on_handshake_failure;
  // Each limit refusal (also answered, for the request limits, and seen by on_exchange).
  std::function<void(LimitRefusal, std::string_view remote)> on_limit_refusal;

  // How the server's own error answers look; empty: plain_text_error.
  ErrorRenderer render_error;
};

class HttpsServer {
 public:
  // Validates the configuration (throws std::invalid_argument); does not bind yet.
  HttpsServer(ServerConfig config, Handler handler);
  HttpsServer(const HttpsServer&) = delete;
  HttpsServer& operator=(const HttpsServer&) = delete;
  ~HttpsServer();  // stop()

  // Loads the TLS material, binds, listens and starts the threads; returns at once. Throws
  // std::runtime_error if the files cannot be loaded or the address cannot be bound.
  void start();
  // start() if needed, then blocks until stop() is called from another thread.
  void run();
  // Graceful stop: stops accepting, closes idle connections, lets in-flight requests finish
  // (for at most request_deadline + 1 s), then stops the threads. Idempotent; blocks until
  // done. Must not be called from a handler. A handler that never returns blocks it. The
  // server cannot be restarted.
  void stop();

  uint16_t port() const;  // the bound port, after start()
  bool reload_tls();      // rebuilds the SSL_CTX now; false (and the old one kept) on error

  std::size_t active_connections() const;
  // Closed at once because of max_connections or max_connections_per_client.
  std::size_t refused_connections() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sas::host::server
