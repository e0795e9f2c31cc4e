#include "sign/signer.h"

#include <cstring>
#include <string>
#include <utility>

#include "sign/internal/backends.h"

namespace igvmkit::sign {
namespace {

std::string_view text(const ByteVector& bytes) {
  return std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

bool sameKey(const measure::SNP_ECDSA_PUBLIC_KEY& a, const measure::SNP_ECDSA_PUBLIC_KEY& b) {
  return std::memcmp(&a, &b, sizeof(a)) == 0;
}

class PemSigner final : public internal::Backend {
 public:
  PemSigner(std::string path, std::string pem, const measure::SNP_ECDSA_PUBLIC_KEY& key)
      : Backend(std::move(path), key), pem_(std::move(pem)) {}

 private:
  Result<ByteVector> signatureOver(Bytes message) override {
    return measure::signDer(pem_, message);
  }
  std::string pem_;
};

class ImportedSigner final : public internal::Backend {
 public:
  ImportedSigner(std::string name, const measure::SNP_ECDSA_PUBLIC_KEY& key, ByteVector signature)
      : Backend(std::move(name), key), signature_(std::move(signature)) {}

 private:
  Result<ByteVector> signatureOver(Bytes) override { return signature_; }
  ByteVector signature_;
};

Error publicKeyMismatch(std::string_view spec) {
  return invalid("sign.public_key_mismatch",
                 "the given public key is not the public half of " + std::string(spec));
}

}  // namespace

Result<measure::SNP_ECDSA_SIGNATURE> Signer::sign(Bytes message) {
  IGVMKIT_ASSIGN_OR_RETURN(ByteVector given, signatureOver(message));
  IGVMKIT_ASSIGN_OR_RETURN(measure::ImportedSignature checked,
                           measure::importSignature(message, Bytes(given), public_key_));
  return checked.signature;
}

KeyKind keyKind(std::string_view spec) {
  if (spec.starts_with("pkcs11:")) {
    return KeyKind::kPkcs11;
  }
  if (spec.starts_with("exec:")) {
    return KeyKind::kExec;
  }
  return KeyKind::kPemFile;
}

Result<std::unique_ptr<Signer>> openSigner(std::string_view spec, const SignerOptions& options,
                                           const ReadKeyFile& read) {
  std::optional<measure::SNP_ECDSA_PUBLIC_KEY> given;
  if (options.public_key_pem) {
    IGVMKIT_ASSIGN_OR_RETURN(given, measure::publicKeyFromPem(*options.public_key_pem));
  }
  std::unique_ptr<Signer> signer;
  switch (keyKind(spec)) {
    case KeyKind::kPemFile: {
      IGVMKIT_ASSIGN_OR_RETURN(ByteVector pem, read(std::string(spec)));
      // Load the private key now, so a wrong or encrypted key fails before any work.
      IGVMKIT_ASSIGN_OR_RETURN(ByteVector probe, measure::signDer(text(pem), toBytes("probe")));
      (void)probe;
      IGVMKIT_ASSIGN_OR_RETURN(measure::SNP_ECDSA_PUBLIC_KEY key,
                               measure::publicKeyFromPem(text(pem)));
      signer = std::make_unique<PemSigner>(std::string(spec), std::string(text(pem)), key);
      break;
    }
    case KeyKind::kPkcs11: {
      IGVMKIT_ASSIGN_OR_RETURN(signer, internal::openPkcs11(spec, options));
      break;
    }
    case KeyKind::kExec: {
      if (!given) {
        return Error{Code::kUsage, "sign.public_key_required",
                     std::string(spec) +
                         ": an exec: signer needs its public key (--id-pubkey / --author-pubkey, "
                         "or id_pubkey / author_pubkey in the manifest)",
                     std::nullopt};
      }
      return internal::openExec(spec.substr(5), *given, options);
    }
  }
  if (given && !sameKey(*given, signer->publicKey())) {
    return publicKeyMismatch(spec);
  }
  return signer;
}

std::unique_ptr<Signer> importedSignature(const measure::SNP_ECDSA_PUBLIC_KEY& public_key,
                                          ByteVector signature, std::string name) {
  return std::make_unique<ImportedSigner>(std::move(name), public_key, std::move(signature));
}

}  // namespace igvmkit::sign
