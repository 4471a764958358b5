#include "tls.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <cctype>
#include <sas/host/certificates/certificates.hpp>
#include <sas/host/text/text.hpp>
#include <stdexcept>
#include <system_error>

namespace sas::host::server {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
  });
}

using sas::host::text::trim;

}  // namespace

std::optional<std::string_view> Request::header(std::string_view name) const {
  for (const auto& [key, value] : headers)
    if (iequals(key, name)) return std::string_view(value);
  return std::nullopt;
}

AllowedSubject AllowedSubject::parse(std::string_view text) {
  // Splits on unescaped commas, unescaping as it goes.
  std::vector<std::string> parts(1);
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\') {
      if (++i == text.size()) throw std::invalid_argument("allowed subject ends with '\\': " + std::string(text));
      parts.back() += text[i];
    } else if (text[i] == ',') {
      parts.emplace_back();
    } else {
      parts.back() += text[i];
    }
  }
  std::optional<std::string> cn, ou;
  for (const std::string& part : parts) {
    auto eq = part.find('=');
    if (eq == std::string::npos)
      throw std::invalid_argument("allowed subject: expected KEY=VALUE in: " + std::string(text));
    std::string_view key = trim(std::string_view(part).substr(0, eq));
    std::string value(trim(std::string_view(part).substr(eq + 1)));
    std::optional<std::string>* slot = iequals(key, "CN") ? &cn : iequals(key, "OU") ? &ou : nullptr;
    if (slot == nullptr)
      throw std::invalid_argument("allowed subject: only CN and OU are supported: " + std::string(text));
    if (slot->has_value())
      throw std::invalid_argument("allowed subject: duplicate " + std::string(key) + ": " + std::string(text));
    if (value.empty())
      throw std::invalid_argument("allowed subject: empty " + std::string(key) + ": " + std::string(text));
    *slot = std::move(value);
  }
  if (!cn || !ou) throw std::invalid_argument("allowed subject needs both CN and OU: " + std::string(text));
  return {std::move(*cn), std::move(*ou)};
}

std::string_view to_string(HandshakeFailure reason) {
  switch (reason) {
    case HandshakeFailure::no_certificate:
      return "no_certificate";
    case HandshakeFailure::unknown_ca:
      return "unknown_ca";
    case HandshakeFailure::subject_refused:
      return "subject_refused";
    case HandshakeFailure::revoked:
      return "revoked";
    case HandshakeFailure::expired:
      return "expired";
    case HandshakeFailure::not_yet_valid:
      return "not_yet_valid";
    case HandshakeFailure::bad_certificate:
      return "bad_certificate";
    case HandshakeFailure::protocol:
      return "protocol";
    case HandshakeFailure::timeout:
      return "timeout";
    case HandshakeFailure::plain_http:
      return "plain_http";
    case HandshakeFailure::closed:
      return "closed";
  }
  return "protocol";
}

std::string_view to_string(LimitRefusal limit) {
  switch (limit) {
    case LimitRefusal::target_length:
      return "target_length";
    case LimitRefusal::header_size:
      return "header_size";
    case LimitRefusal::header_count:
      return "header_count";
    case LimitRefusal::body_size:
      return "body_size";
    case LimitRefusal::header_timeout:
      return "header_timeout";
    case LimitRefusal::body_timeout:
      return "body_timeout";
    case LimitRefusal::connections:
      return "connections";
    case LimitRefusal::connections_per_client:
      return "connections_per_client";
  }
  return "connections";
}

namespace detail {
namespace {

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error("TLS setup: " + what + ": " + certificates::openssl_error());
}

std::vector<std::string> name_entries(X509_NAME* name, int nid) {
  std::vector<std::string> out;
  for (int i = X509_NAME_get_index_by_NID(name, nid, -1); i >= 0; i = X509_NAME_get_index_by_NID(name, nid, i)) {
    ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
    unsigned char* utf8 = nullptr;
    int len = ASN1_STRING_to_UTF8(&utf8, data);
    if (len < 0) continue;
    out.emplace_back(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(len));
    OPENSSL_free(utf8);
  }
  return out;
}

std::string describe(X509* cert) { return cert == nullptr ? "(no certificate)" : certificates::subject_of(cert); }

constexpr const char* kTls12Ciphers = "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL";

int policy_index() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

// Runs for every certificate of the client's chain during the handshake; returning 0 aborts
// the handshake with an alert, so a refused client never gets to send an HTTP byte.
int verify_callback(int preverified, X509_STORE_CTX* store) {
  auto* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  const auto* policy =
      ssl ? static_cast<const TlsPolicy*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), policy_index())) : nullptr;
  const int depth = X509_STORE_CTX_get_error_depth(store);
  X509* cert = X509_STORE_CTX_get_current_cert(store);
  if (!preverified) {
    if (policy && policy->log)
      policy->log("client certificate refused (" + describe(cert) + ", depth " + std::to_string(depth) +
                  "): " + X509_verify_cert_error_string(X509_STORE_CTX_get_error(store)));
    return 0;
  }
  if (depth != 0) return 1;
  // Certificate optional and no allow-list: a verified chain is all that is asked.
  if (policy != nullptr && !policy->require_certificate && policy->allowed.empty()) return 1;
  if (policy == nullptr || !match_subject(cert, policy->allowed)) {
    X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
    if (policy && policy->log) policy->log("client certificate refused (" + describe(cert) + "): subject not allowed");
    return 0;
  }
  return 1;
}

void load_crls(SSL_CTX* ctx, const std::filesystem::path& file) {
  BIO* bio = BIO_new_file(file.c_str(), "r");
  if (bio == nullptr) fail("cannot read CRL file " + file.string());
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  int count = 0;
  while (X509_CRL* crl = PEM_read_bio_X509_CRL(bio, nullptr, nullptr, nullptr)) {
    const int ok = X509_STORE_add_crl(store, crl);
    X509_CRL_free(crl);
    if (!ok) {
      BIO_free(bio);
      fail("CRL file " + file.string());
    }
    ++count;
  }
  BIO_free(bio);
  // The loop ends on "no start line" at the end of the file; anything else is a broken CRL.
  const unsigned long last = ERR_peek_last_error();
  if (count == 0 || ERR_GET_LIB(last) != ERR_LIB_PEM || ERR_GET_REASON(last) != PEM_R_NO_START_LINE)
    fail("CRL file " + file.string());
  ERR_clear_error();
  X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
}

}  // namespace

SslCtxPtr make_server_context(const ServerConfig& config, const TlsPolicy& policy) {
  ERR_clear_error();
  SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) fail("SSL_CTX_new");
  SSL_CTX* c = ctx.get();
  if (!SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION)) fail("minimum TLS version");
  // TLS 1.2: forward secrecy (ECDHE) and authenticated encryption (GCM, ChaCha20-Poly1305)
  // only, with RSA or ECDSA certificates; no CBC/SHA-1 suite, no RSA key exchange. TLS 1.3's
  // suites are all of that kind already (OpenSSL's default list).
  if (!SSL_CTX_set_cipher_list(c, kTls12Ciphers)) fail("cipher list");
  SSL_CTX_set_options(
      c, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_TICKET);
  // No resumption: every connection is a full handshake, checked against the current CRL and
  // allow-list (a ticket from before a revocation would otherwise skip the check).
  SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_num_tickets(c, 0);

  if (SSL_CTX_use_certificate_chain_file(c, config.cert_file.c_str()) != 1)
    fail("certificate file " + config.cert_file.string());
  if (SSL_CTX_use_PrivateKey_file(c, config.key_file.c_str(), SSL_FILETYPE_PEM) != 1)
    fail("key file " + config.key_file.string());
  if (SSL_CTX_check_private_key(c) != 1) fail("key does not match certificate " + config.cert_file.string());

  if (SSL_CTX_load_verify_locations(c, config.client_ca_file.c_str(), nullptr) != 1)
    fail("client CA file " + config.client_ca_file.string());
  // Tells clients which CAs are accepted (helps a client holding several certificates).
  if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(config.client_ca_file.c_str()))
    SSL_CTX_set_client_CA_list(c, names);
  ERR_clear_error();
  if (!config.crl_file.empty()) load_crls(c, config.crl_file);

  // Not SSL_CTX app data: Asio's context destructor interprets that as its own callback.
  if (!SSL_CTX_set_ex_data(c, policy_index(), const_cast<TlsPolicy*>(&policy))) fail("SSL_CTX_set_ex_data");
  SSL_CTX_set_verify(c,
                     policy.require_certificate ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT : SSL_VERIFY_PEER,
                     verify_callback);
  return ctx;
}

std::optional<ClientSubject> match_subject(X509* cert, const std::vector<AllowedSubject>& allowed) {
  if (cert == nullptr) return std::nullopt;
  X509_NAME* name = X509_get_subject_name(cert);
  const auto cns = name_entries(name, NID_commonName);
  if (cns.size() != 1) return std::nullopt;
  const auto ous = name_entries(name, NID_organizationalUnitName);
  for (const AllowedSubject& a : allowed)
    if (a.cn == cns.front() && std::find(ous.begin(), ous.end(), a.ou) != ous.end()) return ClientSubject{a.cn, a.ou};
  return std::nullopt;
}

std::optional<ClientSubject> peer_subject(SSL* ssl, const std::vector<AllowedSubject>& allowed) {
  return match_subject(SSL_get0_peer_certificate(ssl), allowed);
}

HandshakeFailure classify_handshake_failure(SSL* ssl, unsigned long openssl_error) {
  switch (ssl != nullptr ? SSL_get_verify_result(ssl) : X509_V_OK) {
    case X509_V_OK:
      break;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
      return HandshakeFailure::unknown_ca;
    case X509_V_ERR_APPLICATION_VERIFICATION:  // set by verify_callback for the allow-list
      return HandshakeFailure::subject_refused;
    case X509_V_ERR_CERT_REVOKED:
      return HandshakeFailure::revoked;
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CRL_HAS_EXPIRED:
      return HandshakeFailure::expired;
    case X509_V_ERR_CERT_NOT_YET_VALID:
    case X509_V_ERR_CRL_NOT_YET_VALID:
      return HandshakeFailure::not_yet_valid;
    default:
      return HandshakeFailure::bad_certificate;
  }
  if (ERR_GET_LIB(openssl_error) == ERR_LIB_SSL) {
    const int reason = ERR_GET_REASON(openssl_error);
    if (reason == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE) return HandshakeFailure::no_certificate;
    if (reason == SSL_R_UNEXPECTED_EOF_WHILE_READING) return HandshakeFailure::closed;
  }
  return HandshakeFailure::protocol;
}

std::vector<FileState> tls_file_states(const ServerConfig& config) {
  std::vector<FileState> out;
  for (const auto* path : {&config.cert_file, &config.key_file, &config.client_ca_file, &config.crl_file}) {
    FileState state;
    std::error_code ec;
    if (!path->empty()) {
      state.mtime = std::filesystem::last_write_time(*path, ec);
      if (!ec) state.size = std::filesystem::file_size(*path, ec);
      state.exists = !ec;
    }
    out.push_back(state);
  }
  return out;
}

namespace {

// A write-only BIO appending to the std::string set as its data.
int append_write(BIO* bio, const char* data, int size) {
  if (size <= 0) return 0;
  try {
    static_cast<std::string*>(BIO_get_data(bio))->append(data, static_cast<std::size_t>(size));
  } catch (...) {
    return -1;  // no exception through OpenSSL's frames; SSL_write then fails
  }
  return size;
}

long append_ctrl(BIO*, int command, long, void*) { return command == BIO_CTRL_FLUSH ? 1 : 0; }

int append_create(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

// Null if OpenSSL could not make it (out of memory): BIO_new then fails, and so does the seal.
const BIO_METHOD* append_method() {
  static BIO_METHOD* const method = []() -> BIO_METHOD* {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "sas answer buffer");
    if (m == nullptr) return nullptr;
    if (BIO_meth_set_write(m, append_write) != 1 || BIO_meth_set_ctrl(m, append_ctrl) != 1 ||
        BIO_meth_set_create(m, append_create) != 1) {
      BIO_meth_free(m);
      return nullptr;
    }
    return m;
  }();
  return method;
}

// Asio sets SSL_MODE_ENABLE_PARTIAL_WRITE: each SSL_write_ex may stop after one record.
bool write_all(SSL* ssl, std::string_view data) {
  while (!data.empty()) {
    std::size_t written = 0;
    if (SSL_write_ex(ssl, data.data(), data.size(), &written) != 1 || written == 0) return false;
    data.remove_prefix(written);
  }
  return true;
}

}  // namespace

bool seal_application_data(SSL* ssl, std::string_view head, std::string_view body, std::string& out) {
  constexpr std::size_t kRecord = 16 * 1024;
  constexpr std::size_t kRecordOverhead = 64;  // header, tag, content type and padding: 22 to 29 bytes
  // Everything that allocates is done before the SSL's write BIO is swapped.
  const std::size_t plain = head.size() + body.size();
  out.reserve(out.size() + plain + (plain / kRecord + 2) * kRecordOverhead);
  // A first record as full as the ones after it: the head and the start of the body together.
  std::string first_record;
  if (head.size() < kRecord) {
    const std::size_t taken = std::min(body.size(), kRecord - head.size());
    first_record.reserve(head.size() + taken);
    first_record.append(head).append(body.substr(0, taken));
    head = first_record;
    body.remove_prefix(taken);
  }
  const BIO_METHOD* method = append_method();
  BIO* sink = method != nullptr ? BIO_new(method) : nullptr;
  if (sink == nullptr) return false;
  BIO_set_data(sink, &out);
  BIO* original = SSL_get_wbio(ssl);
  // SSL_set0_wbio takes one reference and drops the SSL's reference to the BIO it replaces:
  // ours keeps Asio's BIO alive and goes back to the SSL with it; the sink is freed on return.
  BIO_up_ref(original);
  SSL_set0_wbio(ssl, sink);
  const bool ok = write_all(ssl, head) && write_all(ssl, body);
  SSL_set0_wbio(ssl, original);
  if (!ok) ERR_clear_error();
  return ok;
}

}  // namespace detail
}  // namespace sas::host::server
