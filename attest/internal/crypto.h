// attest/internal/crypto.h: the OpenSSL 3 EVP calls the verifiers make, wrapped
// so that every OpenSSL object has an owner and every failure becomes a value.
// No cryptography is implemented here: digests, signatures and certificate
// checks are OpenSSL's.
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cstdint>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"

namespace igvmkit::attest::internal {

struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct CrlFree {
  void operator()(X509_CRL* p) const { X509_CRL_free(p); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using CrlPtr = std::unique_ptr<X509_CRL, CrlFree>;

// The most recent OpenSSL error as text (and clears the queue); "unknown error"
// when empty.
std::string opensslError();

// A DER certificate; the whole input must be one certificate.
Result<X509Ptr> parseCertificate(Bytes der);
// A DER CRL; the whole input must be one CRL.
Result<CrlPtr> parseCrl(Bytes der);
ByteVector certificateDer(X509* cert);

ByteVector digest(const EVP_MD* md, Bytes data);
ByteVector sha256(Bytes data);
ByteVector sha384(Bytes data);

// Common name of a subject or issuer ("" when absent).
std::string commonName(const X509_NAME* name);
std::string subjectCn(X509* cert);
std::string issuerCn(X509* cert);

// DER ECDSA-Sig-Value from big-endian or little-endian r and s.
ByteVector ecdsaSignatureFromBigEndian(Bytes r, Bytes s);
ByteVector ecdsaSignatureFromLittleEndian(Bytes r, Bytes s);

// A P-256 public key from raw X||Y (64 bytes); error when not a point on the
// curve.
Result<PkeyPtr> p256PublicKey(Bytes xy);

// Verifies a DER ECDSA signature over `message` with digest `md`. nullopt on
// success, else why.
std::optional<std::string> verifySignature(EVP_PKEY* key, const EVP_MD* md, Bytes message,
                                           Bytes der_signature);

// Whether issuer's key verifies cert's signature (any algorithm OpenSSL knows,
// incl. RSA-PSS).
std::optional<std::string> verifyCertificateSignature(X509* cert, X509* issuer);

// Validity of one certificate at `at` (Unix seconds).
std::optional<std::string> checkValidity(X509* cert, int64_t at);
std::string validityRange(X509* cert);
std::string formatTm(const struct tm& tm);  // "2030-01-24T17:58:26Z"  //
                                            // "2023-01-24T17:58:26Z..2030-01-24T17:58:26Z"

// Full path validation with OpenSSL's X509_verify_cert: leaf, intermediates,
// the trusted root (its self-signature checked too), validity at `at`, CA
// constraints, and CRLs when given (then every certificate in the path must be
// covered by one). nullopt when the path verifies.
std::optional<std::string> verifyPath(X509* leaf, const std::vector<X509*>& intermediates,
                                      X509* root, int64_t at, const std::vector<X509_CRL*>& crls);

// Every extension of `cert` as (dotted OID, extnValue contents).
std::vector<std::pair<std::string, ByteVector>> extensions(X509* cert);

// SHA-256 of the certificate's DER, lowercase hex.
std::string fingerprint(X509* cert);
bool selfIssued(X509* cert);
// Verifies a signer chain (leaf first, root optional; a root other than
// `anchor` fails) to the trust anchor at time `at`. nullopt when it verifies,
// else why not.
std::optional<std::string> verifyChainTo(const std::vector<X509Ptr>& chain, X509* anchor,
                                         int64_t at);

}  // namespace igvmkit::attest::internal
