#include "sas/pki/test_pki.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <fstream>
#include <memory>
#include <stdexcept>

namespace sas::pki {
namespace {

namespace fs = std::filesystem;

template <auto Free>
struct Deleter {
  template <class T>
  void operator()(T* p) const {
    Free(p);
  }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using CrlPtr = std::unique_ptr<X509_CRL, Deleter<X509_CRL_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free_all>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION_free>>;
using IntPtr = std::unique_ptr<ASN1_INTEGER, Deleter<ASN1_INTEGER_free>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BN_free>>;

[[noreturn]] void fail(const std::string& what) {
  std::string msg = "test PKI: " + what;
  if (unsigned long e = ERR_get_error(); e != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    msg += ": ";
    msg += buf;
  }
  ERR_clear_error();
  throw std::runtime_error(msg);
}

void check(int ok, const std::string& what) {
  if (ok <= 0) fail(what);
}

time_t reference_time(const TestPkiOptions& o) {
  return std::chrono::system_clock::to_time_t(o.now.value_or(std::chrono::system_clock::now()));
}

constexpr time_t kDay = 24 * 60 * 60;

PkeyPtr make_key(KeyType type) {
  EVP_PKEY* key = type == KeyType::rsa_2048 ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048))
                                            : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  if (key == nullptr) fail("key generation");
  return PkeyPtr(key);
}

// Random positive 127-bit serial: unique enough that certificates issued later never collide.
void set_random_serial(X509* cert) {
  unsigned char bytes[16];
  check(RAND_bytes(bytes, sizeof bytes), "RAND_bytes");
  bytes[0] &= 0x7f;
  bytes[0] |= 0x01;  // never zero, always 16 bytes long
  BnPtr bn(BN_bin2bn(bytes, sizeof bytes, nullptr));
  if (!bn || BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert)) == nullptr) fail("serial number");
}

void add_name_entry(X509_NAME* name, const char* field, const std::string& value) {
  if (value.empty()) return;
  check(X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(value.c_str()),
                                   -1, -1, 0),
        std::string("subject field ") + field);
}

void add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext) fail("extension " + value);
  check(X509_add_ext(cert, ext.get(), -1), "X509_add_ext");
}

struct Issuer {
  X509* cert;
  EVP_PKEY* key;
};

struct Validity {
  time_t not_before;
  time_t not_after;
};

// Builds and signs a certificate; `issuer` null means self-signed (a CA).
X509Ptr make_cert(EVP_PKEY* key, const std::string& cn, const std::string& ou, bool is_ca, const CertSpec* leaf,
                  const Issuer* issuer, Validity validity) {
  X509Ptr cert(X509_new());
  if (!cert) fail("X509_new");
  check(X509_set_version(cert.get(), X509_VERSION_3), "X509_set_version");
  set_random_serial(cert.get());
  if (ASN1_TIME_set(X509_getm_notBefore(cert.get()), validity.not_before) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(cert.get()), validity.not_after) == nullptr)
    fail("validity");
  X509_NAME* name = X509_get_subject_name(cert.get());
  add_name_entry(name, "C", "FR");
  add_name_entry(name, "O", "SAS SDK Test PKI");
  add_name_entry(name, "OU", ou);
  add_name_entry(name, "CN", cn);
  X509* issuer_cert = issuer ? issuer->cert : cert.get();
  EVP_PKEY* signing_key = issuer ? issuer->key : key;
  check(X509_set_issuer_name(cert.get(), X509_get_subject_name(issuer_cert)), "issuer name");
  check(X509_set_pubkey(cert.get(), key), "X509_set_pubkey");

  add_ext(cert.get(), issuer_cert, NID_subject_key_identifier, "hash");
  add_ext(cert.get(), issuer_cert, NID_authority_key_identifier, "keyid:always");
  if (is_ca) {
    add_ext(cert.get(), issuer_cert, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(cert.get(), issuer_cert, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_ext(cert.get(), issuer_cert, NID_basic_constraints, "critical,CA:FALSE");
    bool rsa = EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA;
    add_ext(cert.get(), issuer_cert, NID_key_usage,
            rsa ? "critical,digitalSignature,keyEncipherment" : "critical,digitalSignature");
    add_ext(cert.get(), issuer_cert, NID_ext_key_usage, leaf->server ? "serverAuth" : "clientAuth");
    std::string san;
    for (const auto& dns : leaf->dns_names) san += (san.empty() ? "DNS:" : ",DNS:") + dns;
    for (const auto& ip : leaf->ip_addresses) san += (san.empty() ? "IP:" : ",IP:") + ip;
    if (!san.empty()) add_ext(cert.get(), issuer_cert, NID_subject_alt_name, san);
  }
  if (X509_sign(cert.get(), signing_key, EVP_sha256()) <= 0) fail("X509_sign");
  return cert;
}

BioPtr open_write(const fs::path& path) {
  BioPtr bio(BIO_new_file(path.c_str(), "w"));
  if (!bio) fail("cannot write " + path.string());
  return bio;
}

void write_cert(const fs::path& path, X509* cert) {
  auto bio = open_write(path);
  check(PEM_write_bio_X509(bio.get(), cert), "writing " + path.string());
}

void write_key(const fs::path& path, EVP_PKEY* key) {
  {
    auto bio = open_write(path);
    check(PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr), "writing " + path.string());
  }
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
}

X509Ptr read_cert(const fs::path& path) {
  BioPtr bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) fail("cannot read " + path.string());
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) fail("no certificate in " + path.string());
  return cert;
}

PkeyPtr read_key(const fs::path& path) {
  BioPtr bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) fail("cannot read " + path.string());
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) fail("no private key in " + path.string());
  return key;
}

// Writes NAME.pem and NAME-key.pem; returns the certificate (and its key, for CAs).
struct Issued {
  X509Ptr cert;
  PkeyPtr key;
};

Issued issue(const fs::path& dir, const std::string& name, const std::string& cn, const std::string& ou, bool is_ca,
             const CertSpec* leaf, const Issuer* issuer, Validity validity, KeyType key_type) {
  Issued out{nullptr, make_key(key_type)};
  out.cert = make_cert(out.key.get(), cn, ou, is_ca, leaf, issuer, validity);
  write_cert(dir / (name + ".pem"), out.cert.get());
  write_key(dir / (name + "-key.pem"), out.key.get());
  return out;
}

long previous_crl_number(const fs::path& crl_path) {
  BioPtr bio(BIO_new_file(crl_path.c_str(), "r"));
  if (!bio) {
    ERR_clear_error();
    return 0;
  }
  CrlPtr crl(PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  if (!crl) return 0;
  IntPtr number(static_cast<ASN1_INTEGER*>(X509_CRL_get_ext_d2i(crl.get(), NID_crl_number, nullptr, nullptr)));
  return number ? ASN1_INTEGER_get(number.get()) : 0;
}

}  // namespace

void write_test_pki(const fs::path& dir, const TestPkiOptions& options) {
  fs::create_directories(dir);
  const time_t now = reference_time(options);
  const Validity valid{now - kDay, now + options.validity_days * kDay};
  const Validity expired{now - 60 * kDay, now - kDay};
  const KeyType kt = options.key_type;

  Issued ca = issue(dir, "ca", "SAS SDK Test CA", "", true, nullptr, nullptr, valid, kt);
  Issued other_ca = issue(dir, "other-ca", "SAS SDK Other Test CA", "", true, nullptr, nullptr, valid, kt);
  const Issuer by_ca{ca.cert.get(), ca.key.get()};
  const Issuer by_other_ca{other_ca.cert.get(), other_ca.key.get()};

  CertSpec server{"localhost", "", true, {"localhost"}, {"127.0.0.1"}};
  issue(dir, "server", server.cn, server.ou, false, &server, &by_ca, valid, kt);

  struct Client {
    const char* name;
    const char* cn;
    const char* ou;
    const Issuer* issuer;
    Validity validity;
  };
  const Client clients[] = {
      {"client", "sas.sante.fr", "SAS", &by_ca, valid},
      {"client-wrong-cn", "other.example.fr", "SAS", &by_ca, valid},
      {"client-wrong-ou", "sas.sante.fr", "OTHER", &by_ca, valid},
      {"client-expired", "sas.sante.fr", "SAS", &by_ca, expired},
      {"client-revoked", "sas.sante.fr", "SAS", &by_ca, valid},
      {"client-other-ca", "sas.sante.fr", "SAS", &by_other_ca, valid},
  };
  for (const Client& c : clients) {
    CertSpec spec{c.cn, c.ou, false, {}, {}};
    issue(dir, c.name, spec.cn, spec.ou, false, &spec, c.issuer, c.validity, kt);
  }
  fs::remove(dir / "crl.pem");  // a fresh CA restarts CRL numbering
  write_crl(dir, {}, options);
}

void issue_certificate(const fs::path& dir, const std::string& name, const CertSpec& spec,
                       const TestPkiOptions& options) {
  X509Ptr ca = read_cert(dir / "ca.pem");
  PkeyPtr ca_key = read_key(dir / "ca-key.pem");
  const Issuer by_ca{ca.get(), ca_key.get()};
  const time_t now = reference_time(options);
  issue(dir, name, spec.cn, spec.ou, false, &spec, &by_ca, {now - kDay, now + options.validity_days * kDay},
        options.key_type);
}

void write_crl(const fs::path& dir, const std::vector<fs::path>& extra_revoked, const TestPkiOptions& options) {
  X509Ptr ca = read_cert(dir / "ca.pem");
  PkeyPtr ca_key = read_key(dir / "ca-key.pem");
  const time_t now = reference_time(options);
  const fs::path crl_path = dir / "crl.pem";

  CrlPtr crl(X509_CRL_new());
  if (!crl) fail("X509_CRL_new");
  check(X509_CRL_set_version(crl.get(), X509_CRL_VERSION_2), "CRL version");
  check(X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(ca.get())), "CRL issuer");
  using TimePtr = std::unique_ptr<ASN1_TIME, Deleter<ASN1_TIME_free>>;
  TimePtr last(ASN1_TIME_set(nullptr, now - kDay));
  TimePtr next(ASN1_TIME_set(nullptr, now + options.validity_days * kDay));
  TimePtr revoked_at(ASN1_TIME_set(nullptr, now - kDay / 2));
  if (!last || !next || !revoked_at) fail("CRL times");
  check(X509_CRL_set1_lastUpdate(crl.get(), last.get()), "CRL lastUpdate");
  check(X509_CRL_set1_nextUpdate(crl.get(), next.get()), "CRL nextUpdate");

  std::vector<fs::path> revoked{dir / "client-revoked.pem"};
  revoked.insert(revoked.end(), extra_revoked.begin(), extra_revoked.end());
  for (const auto& path : revoked) {
    X509Ptr cert = read_cert(path);
    X509_REVOKED* entry = X509_REVOKED_new();
    if (entry == nullptr) fail("X509_REVOKED_new");
    if (X509_REVOKED_set_serialNumber(entry, X509_get_serialNumber(cert.get())) <= 0 ||
        X509_REVOKED_set_revocationDate(entry, revoked_at.get()) <= 0 || X509_CRL_add0_revoked(crl.get(), entry) <= 0) {
      X509_REVOKED_free(entry);
      fail("revoking " + path.string());
    }
  }

  IntPtr number(ASN1_INTEGER_new());
  if (!number || ASN1_INTEGER_set(number.get(), previous_crl_number(crl_path) + 1) <= 0) fail("CRL number");
  check(X509_CRL_add1_ext_i2d(crl.get(), NID_crl_number, number.get(), 0, 0), "CRL number extension");
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, ca.get(), nullptr, nullptr, crl.get(), 0);
  ExtPtr aki(X509V3_EXT_conf_nid(nullptr, &ctx, NID_authority_key_identifier, "keyid:always"));
  if (!aki) fail("CRL authority key identifier");
  check(X509_CRL_add_ext(crl.get(), aki.get(), -1), "X509_CRL_add_ext");
  check(X509_CRL_sort(crl.get()), "X509_CRL_sort");
  if (X509_CRL_sign(crl.get(), ca_key.get(), EVP_sha256()) <= 0) fail("X509_CRL_sign");

  // Written to a temporary file and renamed, so a server polling crl.pem never reads half of it.
  const fs::path tmp = dir / "crl.pem.tmp";
  {
    auto bio = open_write(tmp);
    check(PEM_write_bio_X509_CRL(bio.get(), crl.get()), "writing " + tmp.string());
  }
  fs::rename(tmp, crl_path);
}

}  // namespace sas::pki
