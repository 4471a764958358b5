#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <sas/host/certificates/certificates.hpp>
#include <stdexcept>

namespace sas::host::certificates {

namespace {

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

BioPtr open_file(const std::filesystem::path& file) {
  ERR_clear_error();
  BioPtr bio(BIO_new_file(file.c_str(), "r"));
  if (!bio) throw std::runtime_error(file.string() + ": cannot be read: " + openssl_error());
  return bio;
}

// The PEM loops end on "no start line" at the end of the file; any other error is a broken object.
bool clean_end_of_pem() {
  const unsigned long last = ERR_peek_last_error();
  const bool clean = last == 0 || (ERR_GET_LIB(last) == ERR_LIB_PEM && ERR_GET_REASON(last) == PEM_R_NO_START_LINE);
  if (clean) ERR_clear_error();
  return clean;
}

std::string name_text(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || name == nullptr) return "?";
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len > 0 ? len : 0));
}

Clock::time_point to_time_point(const ASN1_TIME* time) {
  std::tm tm{};
  if (time == nullptr || ASN1_TIME_to_tm(time, &tm) != 1) return {};
  return Clock::from_time_t(timegm(&tm));
}

struct StoreFree {
  void operator()(X509_STORE* store) const { X509_STORE_free(store); }
};
struct StoreCtxFree {
  void operator()(X509_STORE_CTX* ctx) const { X509_STORE_CTX_free(ctx); }
};
struct StackFree {
  void operator()(STACK_OF(X509) * stack) const { sk_X509_free(stack); }
};

}  // namespace

std::string openssl_error() {
  std::string out;
  while (const unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

std::vector<CertificatePtr> read_certificates(const std::filesystem::path& file) {
  BioPtr bio = open_file(file);
  std::vector<CertificatePtr> out;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) out.emplace_back(cert);
  if (!clean_end_of_pem())
    throw std::runtime_error(file.string() + ": a certificate does not parse: " + openssl_error());
  if (out.empty()) throw std::runtime_error(file.string() + ": no PEM certificate in the file");
  return out;
}

KeyPtr read_private_key(const std::filesystem::path& file) {
  BioPtr bio = open_file(file);
  // A null password callback: an encrypted key fails here, as it would in the server.
  KeyPtr key(PEM_read_bio_PrivateKey(
      bio.get(), nullptr, [](char*, int, int, void*) { return 0; }, nullptr));
  if (!key) throw std::runtime_error(file.string() + ": no usable PEM private key: " + openssl_error());
  return key;
}

std::vector<CrlPtr> read_crls(const std::filesystem::path& file) {
  BioPtr bio = open_file(file);
  std::vector<CrlPtr> out;
  while (X509_CRL* crl = PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr)) out.emplace_back(crl);
  if (!clean_end_of_pem()) throw std::runtime_error(file.string() + ": a CRL does not parse: " + openssl_error());
  if (out.empty()) throw std::runtime_error(file.string() + ": no PEM CRL in the file");
  return out;
}

std::string subject_of(const X509* cert) { return name_text(X509_get_subject_name(cert)); }
std::string issuer_of(const X509* cert) { return name_text(X509_get_issuer_name(cert)); }
std::string issuer_of(const X509_CRL* crl) { return name_text(X509_CRL_get_issuer(crl)); }

Clock::time_point not_before(const X509* cert) { return to_time_point(X509_get0_notBefore(cert)); }
Clock::time_point not_after(const X509* cert) { return to_time_point(X509_get0_notAfter(cert)); }
Clock::time_point last_update(const X509_CRL* crl) { return to_time_point(X509_CRL_get0_lastUpdate(crl)); }
std::optional<Clock::time_point> next_update(const X509_CRL* crl) {
  const ASN1_TIME* next = X509_CRL_get0_nextUpdate(crl);
  if (next == nullptr) return std::nullopt;
  return to_time_point(next);
}

bool key_matches(X509* cert, EVP_PKEY* key) {
  const bool matches = X509_check_private_key(cert, key) == 1;
  ERR_clear_error();
  return matches;
}

std::string verify_chain(const std::vector<CertificatePtr>& chain, const std::vector<CertificatePtr>* anchors,
                         Purpose purpose) {
  if (chain.empty()) return "no certificate";
  ERR_clear_error();
  std::unique_ptr<X509_STORE, StoreFree> store(X509_STORE_new());
  std::unique_ptr<X509_STORE_CTX, StoreCtxFree> ctx(X509_STORE_CTX_new());
  std::unique_ptr<STACK_OF(X509), StackFree> untrusted(sk_X509_new_null());
  if (!store || !ctx || !untrusted) return "out of memory";
  if (anchors != nullptr) {
    for (const auto& anchor : *anchors) X509_STORE_add_cert(store.get(), anchor.get());
  } else if (X509_STORE_set_default_paths(store.get()) != 1) {
    return "the system's certificate store cannot be read: " + openssl_error();
  }
  for (std::size_t i = 1; i < chain.size(); ++i) sk_X509_push(untrusted.get(), chain[i].get());
  if (X509_STORE_CTX_init(ctx.get(), store.get(), chain.front().get(), untrusted.get()) != 1)
    return "cannot verify: " + openssl_error();
  X509_STORE_CTX_set_purpose(ctx.get(),
                             purpose == Purpose::tls_server ? X509_PURPOSE_SSL_SERVER : X509_PURPOSE_SSL_CLIENT);
  if (X509_verify_cert(ctx.get()) == 1) return {};
  const int error = X509_STORE_CTX_get_error(ctx.get());
  const int depth = X509_STORE_CTX_get_error_depth(ctx.get());
  X509* at = X509_STORE_CTX_get_current_cert(ctx.get());
  ERR_clear_error();
  return std::string(X509_verify_cert_error_string(error)) + " (depth " + std::to_string(depth) +
         (at != nullptr ? ", " + subject_of(at) : std::string()) + ")";
}

const X509* crl_signer(X509_CRL* crl, const std::vector<CertificatePtr>& cas) {
  for (const auto& ca : cas) {
    if (X509_NAME_cmp(X509_get_subject_name(ca.get()), X509_CRL_get_issuer(crl)) != 0) continue;
    EVP_PKEY* key = X509_get0_pubkey(ca.get());
    if (key != nullptr && X509_CRL_verify(crl, key) == 1) return ca.get();
  }
  ERR_clear_error();
  return nullptr;
}

bool names_host(X509* cert, const std::string& host) {
  const bool matches =
      X509_check_ip_asc(cert, host.c_str(), 0) == 1 || X509_check_host(cert, host.data(), host.size(), 0, nullptr) == 1;
  ERR_clear_error();
  return matches;
}

std::string names_of(X509* cert) {
  std::string out;
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    std::string entry;
    if (name->type == GEN_DNS) {
      const ASN1_IA5STRING* dns = name->d.dNSName;
      entry = "DNS:" + std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(dns)),
                                   static_cast<std::size_t>(ASN1_STRING_length(dns)));
    } else if (name->type == GEN_IPADD) {
      const ASN1_OCTET_STRING* ip = name->d.iPAddress;
      const unsigned char* bytes = ASN1_STRING_get0_data(ip);
      if (ASN1_STRING_length(ip) == 4) {
        entry = "IP:" + std::to_string(bytes[0]) + "." + std::to_string(bytes[1]) + "." + std::to_string(bytes[2]) +
                "." + std::to_string(bytes[3]);
      } else {
        entry = "IP:(IPv6)";
      }
    }
    if (entry.empty()) continue;
    if (!out.empty()) out += ", ";
    out += entry;
  }
  GENERAL_NAMES_free(names);
  return out.empty() ? "no subjectAltName; subject " + subject_of(cert) : out;
}

}  // namespace sas::host::certificates
