#include "attest/internal/crypto.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <ctime>

namespace igvmkit::attest::internal {
namespace {

const unsigned char* u8(Bytes b) { return reinterpret_cast<const unsigned char*>(b.data()); }

struct BnFree {
  void operator()(BIGNUM* p) const { BN_free(p); }
};
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;

ByteVector ecdsaFromBn(BnPtr r, BnPtr s) {
  ByteVector out;
  if (!r || !s) {
    return out;
  }
  ECDSA_SIG* sig = ECDSA_SIG_new();
  if (sig == nullptr) {
    return out;
  }
  if (ECDSA_SIG_set0(sig, r.get(), s.get()) != 1) {
    ECDSA_SIG_free(sig);
    return out;
  }
  r.release();
  s.release();
  unsigned char* der = nullptr;
  int len = i2d_ECDSA_SIG(sig, &der);
  if (len > 0) {
    out.assign(reinterpret_cast<std::byte*>(der), reinterpret_cast<std::byte*>(der) + len);
  }
  OPENSSL_free(der);
  ECDSA_SIG_free(sig);
  return out;
}

std::string asn1Time(const ASN1_TIME* t) {
  struct tm tm {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) {
    return "?";
  }
  return formatTm(tm);
}

}  // namespace

std::string opensslError() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) {
    return "unknown error";
  }
  char buf[256];
  ERR_error_string_n(code, buf, sizeof(buf));
  return buf;
}

Result<X509Ptr> parseCertificate(Bytes der) {
  const unsigned char* p = u8(der);
  if (der.size() > static_cast<size_t>(INT32_MAX)) {
    return invalid("certificate.parse", "certificate is too large");
  }
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!cert) {
    return invalid("certificate.parse", "not a DER certificate: " + opensslError());
  }
  if (p != u8(der) + der.size()) {
    return invalid("certificate.parse",
                   "trailing bytes after the certificate at offset " + hex(p - u8(der)));
  }
  return cert;
}

Result<CrlPtr> parseCrl(Bytes der) {
  const unsigned char* p = u8(der);
  if (der.size() > static_cast<size_t>(INT32_MAX)) {
    return invalid("crl.parse", "crl is too large");
  }
  CrlPtr crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(der.size())));
  if (!crl) {
    return invalid("crl.parse", "not a DER CRL: " + opensslError());
  }
  if (p != u8(der) + der.size()) {
    return invalid("crl.parse", "trailing bytes after the CRL at offset " + hex(p - u8(der)));
  }
  return crl;
}

ByteVector certificateDer(X509* cert) {
  unsigned char* der = nullptr;
  int len = i2d_X509(cert, &der);
  ByteVector out;
  if (len > 0) {
    out.assign(reinterpret_cast<std::byte*>(der), reinterpret_cast<std::byte*>(der) + len);
  }
  OPENSSL_free(der);
  return out;
}

ByteVector digest(const EVP_MD* md, Bytes data) {
  ByteVector out(EVP_MD_get_size(md));
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), reinterpret_cast<unsigned char*>(out.data()), &len, md,
                 nullptr) != 1) {
    out.clear();
  }
  return out;
}

ByteVector sha256(Bytes data) { return digest(EVP_sha256(), data); }
ByteVector sha384(Bytes data) { return digest(EVP_sha384(), data); }

std::string commonName(const X509_NAME* name) {
  if (name == nullptr) {
    return "";
  }
  int idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (idx < 0) {
    return "";
  }
  const ASN1_STRING* s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
  if (s == nullptr) {
    return "";
  }
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<size_t>(ASN1_STRING_length(s)));
}

std::string subjectCn(X509* cert) { return commonName(X509_get_subject_name(cert)); }
std::string issuerCn(X509* cert) { return commonName(X509_get_issuer_name(cert)); }

ByteVector ecdsaSignatureFromBigEndian(Bytes r, Bytes s) {
  return ecdsaFromBn(BnPtr(BN_bin2bn(u8(r), static_cast<int>(r.size()), nullptr)),
                     BnPtr(BN_bin2bn(u8(s), static_cast<int>(s.size()), nullptr)));
}

ByteVector ecdsaSignatureFromLittleEndian(Bytes r, Bytes s) {
  return ecdsaFromBn(BnPtr(BN_lebin2bn(u8(r), static_cast<int>(r.size()), nullptr)),
                     BnPtr(BN_lebin2bn(u8(s), static_cast<int>(s.size()), nullptr)));
}

Result<PkeyPtr> p256PublicKey(Bytes xy) {
  if (xy.size() != 64) {
    return invalid("key.p256", "a P-256 public key is 64 bytes, got " + hex(xy.size()));
  }
  unsigned char point[65];
  point[0] = 0x04;  // uncompressed point
  std::memcpy(point + 1, xy.data(), 64);
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, const_cast<char*>("prime256v1"),
                                       0),
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point)),
      OSSL_PARAM_construct_end(),
  };
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr);
  EVP_PKEY* key = nullptr;
  bool ok = ctx != nullptr && EVP_PKEY_fromdata_init(ctx) == 1 &&
            EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) == 1;
  EVP_PKEY_CTX_free(ctx);
  if (!ok || key == nullptr) {
    EVP_PKEY_free(key);
    return invalid("key.p256", "not a P-256 public key: " + opensslError());
  }
  PkeyPtr owned(key);
  EVP_PKEY_CTX* check = EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr);
  bool on_curve = check != nullptr && EVP_PKEY_public_check(check) == 1;
  EVP_PKEY_CTX_free(check);
  if (!on_curve) {
    return invalid("key.p256", "the point is not on the P-256 curve: " + opensslError());
  }
  return owned;
}

std::optional<std::string> verifySignature(EVP_PKEY* key, const EVP_MD* md, Bytes message,
                                           Bytes der_signature) {
  if (key == nullptr) {
    return "no public key";
  }
  if (der_signature.empty()) {
    return "malformed signature";
  }
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  int rc = -1;
  if (ctx != nullptr && EVP_DigestVerifyInit(ctx, nullptr, md, nullptr, key) == 1) {
    rc =
        EVP_DigestVerify(ctx, u8(der_signature), der_signature.size(), u8(message), message.size());
  }
  EVP_MD_CTX_free(ctx);
  if (rc == 1) {
    ERR_clear_error();
    return std::nullopt;
  }
  std::string why = rc == 0 ? "signature does not verify" : "verification error: " + opensslError();
  ERR_clear_error();
  return why;
}

std::optional<std::string> verifyCertificateSignature(X509* cert, X509* issuer) {
  EVP_PKEY* key = X509_get0_pubkey(issuer);
  if (key == nullptr) {
    ERR_clear_error();
    return "issuer has no usable public key";
  }
  int rc = X509_verify(cert, key);
  if (rc == 1) {
    return std::nullopt;
  }
  std::string why = rc == 0 ? "signature does not verify" : "verification error: " + opensslError();
  ERR_clear_error();
  return why;
}

std::string formatTm(const struct tm& tm) {
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

std::string validityRange(X509* cert) {
  return asn1Time(X509_get0_notBefore(cert)) + ".." + asn1Time(X509_get0_notAfter(cert));
}

std::optional<std::string> checkValidity(X509* cert, int64_t at) {
  time_t t = static_cast<time_t>(at);
  int before = X509_cmp_time(X509_get0_notBefore(cert), &t);
  int after = X509_cmp_time(X509_get0_notAfter(cert), &t);
  if (before == 0 || after == 0) {
    ERR_clear_error();
    return "malformed validity time";
  }
  if (before > 0) {
    return "not yet valid";
  }
  if (after < 0) {
    return "expired";
  }
  return std::nullopt;
}

std::optional<std::string> verifyPath(X509* leaf, const std::vector<X509*>& intermediates,
                                      X509* root, int64_t at, const std::vector<X509_CRL*>& crls) {
  X509_STORE* store = X509_STORE_new();
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  STACK_OF(X509)* chain = sk_X509_new_null();
  STACK_OF(X509_CRL)* crl_stack = sk_X509_CRL_new_null();
  std::optional<std::string> result = "internal: out of memory";
  if (store != nullptr && ctx != nullptr && chain != nullptr && crl_stack != nullptr &&
      X509_STORE_add_cert(store, root) == 1) {
    for (X509* c : intermediates) {
      sk_X509_push(chain, c);
    }
    for (X509_CRL* c : crls) {
      sk_X509_CRL_push(crl_stack, c);
    }
    if (X509_STORE_CTX_init(ctx, store, leaf, chain) == 1) {
      X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx);
      X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(at));
      unsigned long flags = X509_V_FLAG_CHECK_SS_SIGNATURE;
      if (!crls.empty()) {
        X509_STORE_CTX_set0_crls(ctx, crl_stack);
        flags |= X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL;
      }
      X509_VERIFY_PARAM_set_flags(param, flags);
      if (X509_verify_cert(ctx) == 1) {
        result.reset();
      } else {
        int err = X509_STORE_CTX_get_error(ctx);
        result = std::string(X509_verify_cert_error_string(err)) + " (depth " +
                 std::to_string(X509_STORE_CTX_get_error_depth(ctx)) + ")";
      }
    }
  }
  ERR_clear_error();
  sk_X509_CRL_free(crl_stack);
  sk_X509_free(chain);
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  return result;
}

std::vector<std::pair<std::string, ByteVector>> extensions(X509* cert) {
  std::vector<std::pair<std::string, ByteVector>> out;
  int n = X509_get_ext_count(cert);
  for (int i = 0; i < n; ++i) {
    X509_EXTENSION* ext = X509_get_ext(cert, i);
    char oid[128];
    int len = OBJ_obj2txt(oid, sizeof(oid), X509_EXTENSION_get_object(ext),
                          /*no_name=*/1);
    if (len <= 0 || static_cast<size_t>(len) >= sizeof(oid)) {
      continue;
    }
    const ASN1_OCTET_STRING* data = X509_EXTENSION_get_data(ext);
    const auto* p = reinterpret_cast<const std::byte*>(ASN1_STRING_get0_data(data));
    out.emplace_back(std::string(oid, static_cast<size_t>(len)),
                     ByteVector(p, p + ASN1_STRING_length(data)));
  }
  return out;
}

std::string fingerprint(X509* cert) { return hexBytes(sha256(certificateDer(cert))); }

bool selfIssued(X509* c) {
  return X509_NAME_cmp(X509_get_subject_name(c), X509_get_issuer_name(c)) == 0;
}

// Verifies a signer chain (leaf first, root optional) to the trust anchor.
std::optional<std::string> verifyChainTo(const std::vector<X509Ptr>& chain, X509* anchor,
                                         int64_t at) {
  if (chain.empty()) {
    return "empty chain";
  }
  if (anchor == nullptr) {
    return "no trusted root";
  }
  std::vector<X509*> intermediates;
  for (size_t i = 1; i < chain.size(); ++i) {
    if (!selfIssued(chain[i].get())) {
      intermediates.push_back(chain[i].get());
    } else if (X509_cmp(chain[i].get(), anchor) != 0) {
      return "chain ends in " + subjectCn(chain[i].get()) + " " + fingerprint(chain[i].get()) +
             ", not the trusted root";
    }
  }
  return verifyPath(chain[0].get(), intermediates, anchor, at, {});
}

}  // namespace igvmkit::attest::internal
