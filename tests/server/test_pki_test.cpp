// The test PKI itself, checked with OpenSSL's own verifier (CRL checking on).
#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include "sas/pki/test_pki.hpp"
#include "sas_test/support.hpp"

namespace {

namespace fs = std::filesystem;

struct X509Deleter {
  void operator()(X509* x) const { X509_free(x); }
};
using X509Ptr = std::unique_ptr<X509, X509Deleter>;

X509Ptr load(const fs::path& path) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) return nullptr;
  X509Ptr cert(PEM_read_X509(f, nullptr, nullptr, nullptr));
  std::fclose(f);
  return cert;
}

std::string field(X509* cert, int nid) {
  char buf[256] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), nid, buf, sizeof buf);
  return buf;
}

// X509_V_OK or the verification error of dir/NAME.pem against dir/ca.pem + dir/crl.pem.
int verify(const fs::path& dir, const std::string& name) {
  X509_STORE* store = X509_STORE_new();
  X509_STORE_load_file(store, (dir / "ca.pem").c_str());
  FILE* f = std::fopen((dir / "crl.pem").c_str(), "r");
  X509_CRL* crl = PEM_read_X509_CRL(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  X509_STORE_add_crl(store, crl);
  X509_CRL_free(crl);
  X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
  X509_STORE_set_purpose(store, X509_PURPOSE_SSL_CLIENT);
  X509Ptr cert = load(dir / (name + ".pem"));
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, cert.get(), nullptr);
  const int ok = X509_verify_cert(ctx);
  const int error = ok == 1 ? X509_V_OK : X509_STORE_CTX_get_error(ctx);
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  return error;
}

class TestPki : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = sas::test::make_temp_dir("sas-pki"); }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(TestPki, WritesEveryFile) {
  sas::pki::write_test_pki(dir_);
  for (const char* name : {"ca", "other-ca", "server", "client", "client-wrong-cn", "client-wrong-ou", "client-expired",
                           "client-revoked", "client-other-ca"}) {
    EXPECT_TRUE(fs::exists(dir_ / (std::string(name) + ".pem"))) << name;
    EXPECT_TRUE(fs::exists(dir_ / (std::string(name) + "-key.pem"))) << name;
    EXPECT_EQ(fs::status(dir_ / (std::string(name) + "-key.pem")).permissions() & fs::perms::others_read,
              fs::perms::none);
  }
  EXPECT_TRUE(fs::exists(dir_ / "crl.pem"));
}

TEST_F(TestPki, SubjectsAndVerification) {
  sas::pki::write_test_pki(dir_);
  auto client = load(dir_ / "client.pem");
  EXPECT_EQ(field(client.get(), NID_commonName), "sas.sante.fr");
  EXPECT_EQ(field(client.get(), NID_organizationalUnitName), "SAS");
  auto wrong_cn = load(dir_ / "client-wrong-cn.pem");
  EXPECT_EQ(field(wrong_cn.get(), NID_commonName), "other.example.fr");
  EXPECT_EQ(field(wrong_cn.get(), NID_organizationalUnitName), "SAS");
  auto wrong_ou = load(dir_ / "client-wrong-ou.pem");
  EXPECT_EQ(field(wrong_ou.get(), NID_organizationalUnitName), "OTHER");
  auto server = load(dir_ / "server.pem");
  EXPECT_EQ(X509_check_host(server.get(), "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(server.get(), "127.0.0.1", 0), 1);

  EXPECT_EQ(verify(dir_, "client"), X509_V_OK);
  EXPECT_EQ(verify(dir_, "client-wrong-cn"), X509_V_OK);  // valid; only the allow-list refuses it
  EXPECT_EQ(verify(dir_, "client-revoked"), X509_V_ERR_CERT_REVOKED);
  EXPECT_EQ(verify(dir_, "client-expired"), X509_V_ERR_CERT_HAS_EXPIRED);
  EXPECT_EQ(verify(dir_, "client-other-ca"), X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
}

TEST_F(TestPki, CrlRewriteRevokesMoreAndIssueAddsCertificates) {
  sas::pki::TestPkiOptions options;
  options.key_type = sas::pki::KeyType::rsa_2048;
  sas::pki::write_test_pki(dir_, options);
  sas::pki::CertSpec spec;
  spec.cn = "sas.sante.fr";
  spec.ou = "SAS";
  sas::pki::issue_certificate(dir_, "client2", spec, options);
  EXPECT_EQ(verify(dir_, "client2"), X509_V_OK);
  sas::pki::write_crl(dir_, {dir_ / "client2.pem"});
  EXPECT_EQ(verify(dir_, "client2"), X509_V_ERR_CERT_REVOKED);
  EXPECT_EQ(verify(dir_, "client-revoked"), X509_V_ERR_CERT_REVOKED);
  EXPECT_EQ(verify(dir_, "client"), X509_V_OK);
}

TEST_F(TestPki, FixedNowSetsValidity) {
  const auto now = std::chrono::sys_days{std::chrono::year{2030} / 1 / 1};
  sas::pki::TestPkiOptions options;
  options.now = now;
  options.validity_days = 10;
  sas::pki::write_test_pki(dir_, options);
  auto client = load(dir_ / "client.pem");
  const time_t t = std::chrono::system_clock::to_time_t(now);
  int days = 0, secs = 0;
  ASN1_TIME* reference = ASN1_TIME_set(nullptr, t);
  ASN1_TIME_diff(&days, &secs, reference, X509_get0_notBefore(client.get()));
  EXPECT_EQ(days, -1);
  ASN1_TIME_diff(&days, &secs, reference, X509_get0_notAfter(client.get()));
  EXPECT_EQ(days, 10);
  ASN1_TIME_free(reference);
}

}  // namespace
