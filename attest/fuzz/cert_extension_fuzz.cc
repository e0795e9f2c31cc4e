// libFuzzer target: the certificate extension readers (AMD VCEK/VLEK extensions, the Intel PCK
// SGX extension, whole certificates), the collateral JSON span scanner and the TDX collateral
// checks (the input as collateral for a synthetic quote). The first byte picks the reader; the
// rest is its input.
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "attest/internal/crypto.h"
#include "attest/internal/der.h"
#include "attest/internal/json_span.h"
#include "attest/snp.h"
#include "attest/tdx.h"

namespace {

// A structurally valid quote whose PCK chain is one throwaway self-signed certificate, built once.
const igvmkit::ByteVector& syntheticQuote() {
  static const igvmkit::ByteVector quote = [] {
    using igvmkit::ByteVector;
    EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
    X509* cert = X509_new();
    X509_set_version(cert, 2);
    X509_gmtime_adj(X509_getm_notBefore(cert), 0);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("fuzz"), -1, -1, 0);
    X509_set_issuer_name(cert, X509_get_subject_name(cert));
    X509_set_pubkey(cert, key);
    X509_sign(cert, key, EVP_sha256());
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(bio, cert);
    char* pem_data = nullptr;
    long pem_len = BIO_get_mem_data(bio, &pem_data);
    std::string pem(pem_data, static_cast<size_t>(pem_len));
    BIO_free(bio);
    X509_free(cert);
    EVP_PKEY_free(key);
    ByteVector q(48 + 584);
    q[0] = std::byte{4};
    q[2] = std::byte{2};
    q[4] = std::byte{0x81};
    ByteVector cert_data(384 + 64);
    igvmkit::appendStruct(cert_data, uint16_t{0});
    igvmkit::appendStruct(cert_data, uint16_t{5});
    igvmkit::appendStruct(cert_data, static_cast<uint32_t>(pem.size()));
    igvmkit::Bytes p = igvmkit::toBytes(pem);
    cert_data.insert(cert_data.end(), p.begin(), p.end());
    igvmkit::appendStruct(q, static_cast<uint32_t>(134 + cert_data.size()));
    q.resize(q.size() + 128);
    igvmkit::appendStruct(q, uint16_t{6});
    igvmkit::appendStruct(q, static_cast<uint32_t>(cert_data.size()));
    q.insert(q.end(), cert_data.begin(), cert_data.end());
    return q;
  }();
  return quote;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace igvmkit;
  if (size == 0) {
    return 0;
  }
  Bytes input(reinterpret_cast<const std::byte*>(data + 1), size - 1);
  switch (data[0] % 6) {
    case 0: {
      Result<attest::PckExtensions> ext = attest::parsePckExtension(input);
      (void)ext;
      break;
    }
    case 1: {
      // A list of (AMD OID, value) pairs: each value's first byte picks the OID.
      static const char* kOids[] = {"1.3.6.1.4.1.3704.1.1",   "1.3.6.1.4.1.3704.1.2",
                                    "1.3.6.1.4.1.3704.1.3.1", "1.3.6.1.4.1.3704.1.3.8",
                                    "1.3.6.1.4.1.3704.1.3.9", "1.3.6.1.4.1.3704.1.4",
                                    "1.3.6.1.4.1.3704.1.5"};
      std::vector<std::pair<std::string, ByteVector>> pairs;
      while (input.size() >= 2) {
        size_t n = std::min<size_t>(static_cast<uint8_t>(input[1]), input.size() - 2);
        pairs.emplace_back(kOids[static_cast<uint8_t>(input[0]) % 7],
                           ByteVector(input.begin() + 2, input.begin() + 2 + n));
        input = input.subspan(2 + n);
      }
      Result<attest::AmdCertExtensions> ext = attest::parseAmdExtensions(pairs);
      (void)ext;
      break;
    }
    case 2: {
      Result<attest::internal::X509Ptr> cert = attest::internal::parseCertificate(input);
      if (cert.ok()) {
        auto exts = attest::internal::extensions(cert->get());
        Result<attest::AmdCertExtensions> amd = attest::parseAmdExtensions(exts);
        (void)amd;
        for (const auto& [oid, value] : exts) {
          Result<attest::PckExtensions> pck = attest::parsePckExtension(value);
          (void)pck;
        }
      }
      break;
    }
    case 3: {
      std::string_view text(reinterpret_cast<const char*>(input.data()), input.size());
      Result<std::string_view> member = attest::internal::rawJsonMember(text, "tcbInfo");
      if (member.ok() && (member->data() < text.data() ||
                          member->data() + member->size() > text.data() + text.size())) {
        __builtin_trap();
      }
      break;
    }
    case 5: {
      attest::TdxEvidence ev{.quote = syntheticQuote(), .root = {}, .collateral = {},
                             .tcb_signing_chain = {}, .crls = {}, .at = 1700000000};
      ev.collateral.assign(reinterpret_cast<const char*>(input.data()), input.size());
      Result<attest::Verdict> v = attest::verifyTdxQuote(ev);
      if (v.ok() && v->passed()) {
        __builtin_trap();  // a self-signed PCK can never pass
      }
      break;
    }
    case 4: {
      Result<std::vector<ByteVector>> certs = attest::splitCertificates(input);
      Result<std::vector<attest::internal::Tlv>> tlvs = attest::internal::readAll(input);
      (void)certs;
      (void)tlvs;
      break;
    }
  }
  return 0;
}
