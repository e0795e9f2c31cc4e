#include "measure/id_block.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>

namespace igvmkit::measure {
namespace {

static_assert(std::is_trivially_copyable_v<SNP_ID_AUTH_INFO>);
static_assert(std::is_trivially_copyable_v<igvm::IGVM_VHS_SNP_ID_BLOCK>);

template <auto Fn>
struct Deleter {
  template <class T>
  void operator()(T* p) const {
    Fn(p);
  }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BN_free>>;
using SigPtr = std::unique_ptr<ECDSA_SIG, Deleter<ECDSA_SIG_free>>;
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, Deleter<OSSL_PARAM_BLD_free>>;
using ParamPtr = std::unique_ptr<OSSL_PARAM, Deleter<OSSL_PARAM_free>>;

// OpenSSL leaves failures on a thread-local queue; clear it so one failure never explains another.
Error keyError(std::string rule, std::string message) {
  ERR_clear_error();
  return invalid(std::move(rule), std::move(message));
}

Error signatureInvalid(std::string message) {
  ERR_clear_error();
  return Error{Code::kVerifyFailed, "id_block.signature_invalid", std::move(message), std::nullopt};
}

const unsigned char* uc(const std::byte* p) { return reinterpret_cast<const unsigned char*>(p); }
unsigned char* uc(std::byte* p) { return reinterpret_cast<unsigned char*>(p); }

// OpenSSL's default pass-phrase callback prompts on the terminal. A build pipeline must never
// block on a prompt: refuse, and let the caller say why (see isEncryptedPem).
int refusePassphrase(char*, int, int, void* asked) {
  *static_cast<bool*>(asked) = true;
  return -1;
}

Result<PkeyPtr> loadPem(std::string_view pem, bool want_private) {
  // BIO_new_mem_buf takes an int length.
  if (pem.size() > (1u << 20)) {
    return keyError("id_block.key_pem", "key file of " + hex(pem.size()) + " bytes is too large");
  }
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (bio == nullptr) {
    return internal("openssl could not allocate a buffer");
  }
  EVP_PKEY* key = nullptr;
  bool asked_passphrase = false;
  if (want_private) {
    key = PEM_read_bio_PrivateKey(bio.get(), nullptr, refusePassphrase, &asked_passphrase);
  } else {
    key = PEM_read_bio_PUBKEY(bio.get(), nullptr, refusePassphrase, &asked_passphrase);
    if (key == nullptr) {
      // A private key carries its public half; accept it where a public key is asked for.
      ERR_clear_error();
      BioPtr again(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
      key = again ? PEM_read_bio_PrivateKey(again.get(), nullptr, refusePassphrase,
                                            &asked_passphrase)
                  : nullptr;
    }
  }
  if (key == nullptr && asked_passphrase) {
    return keyError("id_block.key_encrypted",
                    "the pem key is encrypted and igvmkit never asks for a pass phrase: decrypt "
                    "it (openssl pkey -in KEY -out PLAIN), or sign with exec: or pkcs11:");
  }
  if (key == nullptr) {
    return keyError("id_block.key_pem",
                    want_private ? "not a pem private key" : "not a pem public or private key");
  }
  PkeyPtr owned(key);
  // SNP's only ID/author key algorithm is ECDSA P-384 (ALGO 1, CURVE 2).
  char group[64] = {};
  size_t group_len = 0;
  if (EVP_PKEY_is_a(key, "EC") != 1 ||
      EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                     &group_len) != 1 ||
      std::string_view(group, group_len) != "secp384r1") {
    return keyError("id_block.key_type", "the key is not an ecdsa p-384 key");
  }
  return owned;
}

// Writes a non-negative integer as `kP384Size` little-endian bytes into a 72-byte field.
Status bnToField(const BIGNUM* bn, std::byte* field) {
  std::memset(field, 0, kSnpEcdsaComponentSize);
  if (BN_is_negative(bn) || BN_bn2lebinpad(bn, uc(field), kP384Size) != kP384Size) {
    ERR_clear_error();
    return invalid("id_block.integer_size", "an ecdsa integer does not fit in 48 bytes");
  }
  return okStatus();
}

// Reads a 72-byte little-endian field; bytes 48..71 must be zero.
Result<BnPtr> fieldToBn(const std::byte* field, const char* what) {
  if (!allZero(Bytes(field + kP384Size, kSnpEcdsaComponentSize - kP384Size))) {
    return invalid("id_block.integer_size",
                   std::string(what) + " has nonzero bytes beyond the 48-byte p-384 integer");
  }
  BnPtr bn(BN_lebin2bn(uc(field), kP384Size, nullptr));
  if (bn == nullptr) {
    return internal("openssl could not allocate a bignum");
  }
  return bn;
}

Result<SNP_ECDSA_PUBLIC_KEY> publicKeyOf(const EVP_PKEY* key) {
  BIGNUM* x = nullptr;
  BIGNUM* y = nullptr;
  if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, &x) != 1 ||
      EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, &y) != 1) {
    BN_free(x);
    BN_free(y);
    return keyError("id_block.key_type", "the key has no public point");
  }
  BnPtr bx(x), by(y);
  SNP_ECDSA_PUBLIC_KEY out;
  std::memset(&out, 0, sizeof(out));
  out.curve = kSnpCurveP384;
  IGVMKIT_RETURN_IF_ERROR(bnToField(bx.get(), out.qx));
  IGVMKIT_RETURN_IF_ERROR(bnToField(by.get(), out.qy));
  return out;
}

// An EVP public key from the SNP structure: curve 2, the point 04 || X || Y in big endian.
Result<PkeyPtr> pkeyFromSnp(const SNP_ECDSA_PUBLIC_KEY& key) {
  if (key.curve != kSnpCurveP384) {
    return invalid("id_block.key_invalid",
                   "public key curve " + hex(key.curve) + " is not p-384 (0x2)");
  }
  IGVMKIT_ASSIGN_OR_RETURN(BnPtr x, fieldToBn(key.qx, "public key qx"));
  IGVMKIT_ASSIGN_OR_RETURN(BnPtr y, fieldToBn(key.qy, "public key qy"));
  unsigned char point[1 + 2 * kP384Size];
  point[0] = 0x04;  // uncompressed point (SEC 1)
  if (BN_bn2binpad(x.get(), point + 1, kP384Size) != kP384Size ||
      BN_bn2binpad(y.get(), point + 1 + kP384Size, kP384Size) != kP384Size) {
    return keyError("id_block.key_invalid", "public key coordinates do not fit p-384");
  }
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (bld == nullptr ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "secp384r1", 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point)) !=
          1) {
    return internal("openssl could not build key parameters");
  }
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* pkey = nullptr;
  if (params == nullptr || ctx == nullptr || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return keyError("id_block.key_invalid", "public key is not a point on p-384");
  }
  PkeyPtr owned(pkey);
  // fromdata does not always check that the point lies on the curve; do it explicitly.
  PkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
  if (check == nullptr || EVP_PKEY_public_check(check.get()) != 1) {
    return keyError("id_block.key_invalid", "public key is not a point on p-384");
  }
  return owned;
}

// True when `der` verifies over `message` under `key` (ECDSA with SHA-384).
Result<bool> verifyDer(EVP_PKEY* key, Bytes message, Bytes der) {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (ctx == nullptr ||
      EVP_DigestVerifyInit_ex(ctx.get(), nullptr, "SHA384", nullptr, nullptr, key, nullptr) != 1) {
    ERR_clear_error();
    return internal("openssl could not start a signature check");
  }
  int rc =
      EVP_DigestVerify(ctx.get(), uc(der.data()), der.size(), uc(message.data()), message.size());
  ERR_clear_error();
  return rc == 1;
}

Result<SigPtr> parseDer(Bytes der) {
  const unsigned char* p = uc(der.data());
  if (der.size() > 256) {
    return keyError("id_block.signature_der", "signature is not a der ecdsa signature");
  }
  SigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  // Trailing bytes would mean the caller passed something other than one signature.
  if (sig == nullptr || p != uc(der.data()) + der.size()) {
    return keyError("id_block.signature_der", "signature is not a der ecdsa signature");
  }
  return sig;
}

void copyPublicKeyToIgvm(const SNP_ECDSA_PUBLIC_KEY& in,
                         igvm::IGVM_VHS_SNP_ID_BLOCK_PUBLIC_KEY& out) {
  out.curve = in.curve;
  out.reserved = 0;
  std::memcpy(out.qx, in.qx, sizeof(out.qx));
  std::memcpy(out.qy, in.qy, sizeof(out.qy));
}

void copyPublicKeyFromIgvm(const igvm::IGVM_VHS_SNP_ID_BLOCK_PUBLIC_KEY& in,
                           SNP_ECDSA_PUBLIC_KEY& out) {
  std::memset(&out, 0, sizeof(out));
  out.curve = in.curve;
  std::memcpy(out.qx, in.qx, sizeof(in.qx));
  std::memcpy(out.qy, in.qy, sizeof(in.qy));
}

}  // namespace

SNP_ID_BLOCK makeIdBlock(const IdBlockParams& params) {
  SNP_ID_BLOCK b;
  std::memset(&b, 0, sizeof(b));
  std::memcpy(b.ld, params.ld.data(), sizeof(b.ld));
  std::memcpy(b.family_id, params.family_id.data(), sizeof(b.family_id));
  std::memcpy(b.image_id, params.image_id.data(), sizeof(b.image_id));
  b.version = params.version;
  b.guest_svn = params.guest_svn;
  b.policy = params.policy;
  return b;
}

ByteVector bytesToSign(const SNP_ID_BLOCK& id_block) {
  Bytes b = asBytes(id_block);
  return ByteVector(b.begin(), b.end());
}

ByteVector bytesToSign(const SNP_ECDSA_PUBLIC_KEY& id_key) {
  Bytes b = asBytes(id_key);
  return ByteVector(b.begin(), b.end());
}

Result<SNP_ECDSA_PUBLIC_KEY> publicKeyFromPem(std::string_view pem) {
  IGVMKIT_ASSIGN_OR_RETURN(PkeyPtr key, loadPem(pem, /*want_private=*/false));
  return publicKeyOf(key.get());
}

Result<SNP_ECDSA_PUBLIC_KEY> publicKeyFromPoint(Bytes point) {
  if (point.size() != 1 + 2 * kP384Size || point[0] != std::byte{0x04}) {
    return invalid("id_block.key_invalid",
                   "public key is not an uncompressed p-384 point (0x61 bytes starting 04)");
  }
  SNP_ECDSA_PUBLIC_KEY key;
  std::memset(&key, 0, sizeof(key));
  key.curve = kSnpCurveP384;
  for (size_t i = 0; i < kP384Size; ++i) {  // big endian in, little endian out
    key.qx[i] = point[kP384Size - i];
    key.qy[i] = point[2 * kP384Size - i];
  }
  IGVMKIT_RETURN_IF_ERROR(pkeyFromSnp(key).status());  // on the curve
  return key;
}

Result<Sha384Digest> keyDigest(const SNP_ECDSA_PUBLIC_KEY& key) { return sha384(asBytes(key)); }

Result<ImportedSignature> importSignature(Bytes signed_bytes, Bytes signature,
                                          std::string_view public_key_pem) {
  IGVMKIT_ASSIGN_OR_RETURN(SNP_ECDSA_PUBLIC_KEY key, publicKeyFromPem(public_key_pem));
  return importSignature(signed_bytes, signature, key);
}

Result<SNP_ECDSA_SIGNATURE> parseSignature(Bytes signature) {
  SNP_ECDSA_SIGNATURE out;
  std::memset(&out, 0, sizeof(out));
  if (Result<SigPtr> der = parseDer(signature); der.ok()) {
    const BIGNUM* r = nullptr;
    const BIGNUM* s = nullptr;
    ECDSA_SIG_get0(der->get(), &r, &s);
    IGVMKIT_RETURN_IF_ERROR(bnToField(r, out.r));
    IGVMKIT_RETURN_IF_ERROR(bnToField(s, out.s));
    return out;
  }
  // Raw r || s, big endian (PKCS#11 CKM_ECDSA, JOSE ES384): exactly two 48-byte integers.
  if (signature.size() != 2 * kP384Size) {
    return keyError("id_block.signature_der",
                    "signature of " + hex(signature.size()) +
                        " bytes is neither a der ecdsa signature nor 0x60 bytes of raw r||s");
  }
  for (size_t i = 0; i < kP384Size; ++i) {  // big endian in, little endian out
    out.r[i] = signature[kP384Size - 1 - i];
    out.s[i] = signature[2 * kP384Size - 1 - i];
  }
  return out;
}

Result<ImportedSignature> importSignature(Bytes signed_bytes, Bytes signature,
                                          const SNP_ECDSA_PUBLIC_KEY& public_key) {
  IGVMKIT_ASSIGN_OR_RETURN(SNP_ECDSA_SIGNATURE sig, parseSignature(signature));
  IGVMKIT_RETURN_IF_ERROR(verifySnpSignature(signed_bytes, sig, public_key));
  return ImportedSignature{sig, public_key};
}

Result<ByteVector> signatureToDer(const SNP_ECDSA_SIGNATURE& signature) {
  IGVMKIT_ASSIGN_OR_RETURN(BnPtr r, fieldToBn(signature.r, "signature r"));
  IGVMKIT_ASSIGN_OR_RETURN(BnPtr s, fieldToBn(signature.s, "signature s"));
  SigPtr sig(ECDSA_SIG_new());
  if (sig == nullptr || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) {
    return internal("openssl could not build a signature");
  }
  r.release();  // owned by sig now
  s.release();
  int len = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (len <= 0) {
    return internal("openssl could not encode a signature");
  }
  ByteVector der(static_cast<size_t>(len));
  unsigned char* p = uc(der.data());
  if (i2d_ECDSA_SIG(sig.get(), &p) != len) {
    return internal("openssl could not encode a signature");
  }
  return der;
}

Status verifySnpSignature(Bytes message, const SNP_ECDSA_SIGNATURE& signature,
                          const SNP_ECDSA_PUBLIC_KEY& key) {
  IGVMKIT_ASSIGN_OR_RETURN(PkeyPtr pkey, pkeyFromSnp(key));
  IGVMKIT_ASSIGN_OR_RETURN(ByteVector der, signatureToDer(signature));
  IGVMKIT_ASSIGN_OR_RETURN(bool good, verifyDer(pkey.get(), message, Bytes(der)));
  if (!good) {
    return signatureInvalid("the signature does not verify over the " + hex(message.size()) +
                            " signed bytes");
  }
  return okStatus();
}

Result<ByteVector> signDer(std::string_view private_key_pem, Bytes message) {
  IGVMKIT_ASSIGN_OR_RETURN(PkeyPtr key, loadPem(private_key_pem, /*want_private=*/true));
  MdCtxPtr ctx(EVP_MD_CTX_new());
  size_t len = 0;
  if (ctx == nullptr ||
      EVP_DigestSignInit_ex(ctx.get(), nullptr, "SHA384", nullptr, nullptr, key.get(), nullptr) !=
          1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, uc(message.data()), message.size()) != 1) {
    ERR_clear_error();
    return internal("openssl could not start signing");
  }
  ByteVector der(len);
  if (EVP_DigestSign(ctx.get(), uc(der.data()), &len, uc(message.data()), message.size()) != 1) {
    ERR_clear_error();
    return internal("openssl could not sign");
  }
  der.resize(len);
  return der;
}

Result<SignedIdBlock> assembleIdBlock(const SNP_ID_BLOCK& id_block, const ImportedSignature& id,
                                      const std::optional<ImportedSignature>& author) {
  // Each signature must cover exactly what firmware checks it against (§2.4).
  IGVMKIT_RETURN_IF_ERROR(verifySnpSignature(asBytes(id_block), id.signature, id.public_key));
  if (author) {
    IGVMKIT_RETURN_IF_ERROR(
        verifySnpSignature(asBytes(id.public_key), author->signature, author->public_key));
  }
  SignedIdBlock out;
  out.id_block = id_block;
  std::memset(&out.auth_info, 0, sizeof(out.auth_info));
  out.auth_info.id_key_algo = kSnpAlgoEcdsaP384Sha384;
  out.auth_info.id_block_sig = id.signature;
  out.auth_info.id_key = id.public_key;
  if (author) {
    out.author_key_enabled = true;
    out.auth_info.auth_key_algo = kSnpAlgoEcdsaP384Sha384;
    out.auth_info.id_key_sig = author->signature;
    out.auth_info.author_key = author->public_key;
  }
  return out;
}

Status verifyIdBlock(const SignedIdBlock& block) {
  IGVMKIT_RETURN_IF_ERROR(verifySnpSignature(asBytes(block.id_block), block.auth_info.id_block_sig,
                                             block.auth_info.id_key));
  if (!block.author_key_enabled) {
    return okStatus();
  }
  return verifySnpSignature(asBytes(block.auth_info.id_key), block.auth_info.id_key_sig,
                            block.auth_info.author_key);
}

igvm::IGVM_VHS_SNP_ID_BLOCK toIgvmIdBlock(const SignedIdBlock& block,
                                               uint32_t compatibility_mask) {
  igvm::IGVM_VHS_SNP_ID_BLOCK d;
  std::memset(&d, 0, sizeof(d));
  d.compatibility_mask = compatibility_mask;
  d.author_key_enabled = block.author_key_enabled ? 1 : 0;
  std::memcpy(d.ld, block.id_block.ld, sizeof(d.ld));
  std::memcpy(d.family_id, block.id_block.family_id, sizeof(d.family_id));
  std::memcpy(d.image_id, block.id_block.image_id, sizeof(d.image_id));
  d.version = block.id_block.version;
  d.guest_svn = block.id_block.guest_svn;
  d.id_key_algorithm = block.auth_info.id_key_algo;
  d.author_key_algorithm = block.author_key_enabled ? block.auth_info.auth_key_algo : 0;
  // The IGVM signature holds only r and s; the AMD structure's reserved tail is zero.
  std::memcpy(d.id_key_signature.r_comp, block.auth_info.id_block_sig.r, 72);
  std::memcpy(d.id_key_signature.s_comp, block.auth_info.id_block_sig.s, 72);
  copyPublicKeyToIgvm(block.auth_info.id_key, d.id_public_key);
  if (block.author_key_enabled) {
    std::memcpy(d.author_key_signature.r_comp, block.auth_info.id_key_sig.r, 72);
    std::memcpy(d.author_key_signature.s_comp, block.auth_info.id_key_sig.s, 72);
    copyPublicKeyToIgvm(block.auth_info.author_key, d.author_public_key);
  }
  return d;
}

Result<SignedIdBlock> fromIgvmIdBlock(const igvm::IGVM_VHS_SNP_ID_BLOCK& directive,
                                      uint64_t policy) {
  // author_key_enabled is a boolean; with it clear, author fields must be zero (igvm-format §6).
  if (directive.author_key_enabled > 1) {
    return invalid("id_block.author_fields",
                   "author_key_enabled " + hex(directive.author_key_enabled) + " is not 0 or 1");
  }
  if (directive.author_key_enabled == 0 && (!allZero(asBytes(directive.author_key_signature)) ||
                                            !allZero(asBytes(directive.author_public_key)))) {
    return invalid("id_block.author_fields",
                   "author key fields are set but author_key_enabled is 0");
  }
  // ECDSA P-384 with SHA-384 is the only algorithm SNP defines (§2.2); firmware rejects others.
  if (directive.id_key_algorithm != kSnpAlgoEcdsaP384Sha384) {
    return invalid("id_block.algorithm", "id_key_algorithm " + hex(directive.id_key_algorithm) +
                                             " is not ecdsa p-384 with sha-384 (0x1)");
  }
  if (directive.author_key_enabled == 1 &&
      directive.author_key_algorithm != kSnpAlgoEcdsaP384Sha384) {
    return invalid("id_block.algorithm", "author_key_algorithm " +
                                             hex(directive.author_key_algorithm) +
                                             " is not ecdsa p-384 with sha-384 (0x1)");
  }
  // Without an author key, 0 (OpenVMM) and 1 (SVSM) are both in use (igvm-format.md §6).
  if (directive.author_key_enabled == 0 && directive.author_key_algorithm > 1) {
    return invalid(
        "id_block.algorithm",
        "author_key_algorithm " + hex(directive.author_key_algorithm) + " is neither 0 nor 0x1");
  }
  SignedIdBlock out;
  std::memset(&out.id_block, 0, sizeof(out.id_block));
  std::memset(&out.auth_info, 0, sizeof(out.auth_info));
  std::memcpy(out.id_block.ld, directive.ld, sizeof(directive.ld));
  std::memcpy(out.id_block.family_id, directive.family_id, sizeof(directive.family_id));
  std::memcpy(out.id_block.image_id, directive.image_id, sizeof(directive.image_id));
  out.id_block.version = 1;  // QEMU forces VERSION to 1 (measurement.md §2.6)
  out.id_block.guest_svn = directive.guest_svn;
  out.id_block.policy = policy;
  out.auth_info.id_key_algo = directive.id_key_algorithm;
  out.auth_info.auth_key_algo = directive.author_key_enabled == 1 ? kSnpAlgoEcdsaP384Sha384 : 0;
  std::memcpy(out.auth_info.id_block_sig.r, directive.id_key_signature.r_comp, 72);
  std::memcpy(out.auth_info.id_block_sig.s, directive.id_key_signature.s_comp, 72);
  copyPublicKeyFromIgvm(directive.id_public_key, out.auth_info.id_key);
  out.author_key_enabled = directive.author_key_enabled == 1;
  if (out.author_key_enabled) {
    std::memcpy(out.auth_info.id_key_sig.r, directive.author_key_signature.r_comp, 72);
    std::memcpy(out.auth_info.id_key_sig.s, directive.author_key_signature.s_comp, 72);
    copyPublicKeyFromIgvm(directive.author_public_key, out.auth_info.author_key);
  }
  return out;
}

}  // namespace igvmkit::measure
