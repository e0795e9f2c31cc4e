// sign/signer.h: an ECDSA P-384 / SHA-384 key wherever it lives, behind one interface.
//
// A key is named by a spec string, as `--id-key`, `--author-key` and the manifest take it:
//
//   id.pem                                       a PEM private key file (never decrypted: an
//                                                encrypted key is an error, not a prompt)
//   pkcs11:token=igvm;object=id?pin-value=1234   a key on a PKCS#11 token (RFC 7512), through
//                                                p11-kit; the public key is read from the token
//   exec:/usr/local/bin/kms-sign --key id        an external signer (protocol in README.md); its
//                                                public key must be given as PEM
//
//   IGVMKIT_ASSIGN_OR_RETURN(std::unique_ptr<Signer> id, openSigner("pkcs11:...", {}, readFile));
//   IGVMKIT_ASSIGN_OR_RETURN(measure::SNP_ECDSA_SIGNATURE sig, id->sign(message));
//
// Every signature a Signer returns has been verified under its public key first, so a token or
// program that signs with another key, or returns garbage, is caught before anything is written.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/status.h"
#include "measure/id_block.h"

namespace igvmkit::sign {

class Signer {
 public:
  virtual ~Signer() = default;

  // The key in the form the SNP ID_AUTH_INFO holds it.
  const measure::SNP_ECDSA_PUBLIC_KEY& publicKey() const { return public_key_; }

  // Where the key lives, for messages: the PEM path, the PKCS#11 URI without its PIN, or the
  // exec: command.
  const std::string& name() const { return name_; }

  // ECDSA P-384/SHA-384 over `message`, checked under publicKey() before it is returned
  // ("id_block.signature_invalid" when it does not verify).
  Result<measure::SNP_ECDSA_SIGNATURE> sign(Bytes message);

 protected:
  Signer(std::string name, const measure::SNP_ECDSA_PUBLIC_KEY& public_key)
      : name_(std::move(name)), public_key_(public_key) {}

  // The signature as the key's holder gives it: X9.62 DER or 96 raw bytes r || s.
  virtual Result<ByteVector> signatureOver(Bytes message) = 0;

 private:
  std::string name_;
  measure::SNP_ECDSA_PUBLIC_KEY public_key_;
};

enum class KeyKind { kPemFile, kPkcs11, kExec };

// Which kind of key a spec names (by its "pkcs11:" or "exec:" prefix; anything else is a path).
KeyKind keyKind(std::string_view spec);

struct SignerOptions {
  // The public key as PEM. Required for exec:, where it is the only source; for a PEM file or a
  // token it must match the key found there ("sign.public_key_mismatch").
  std::optional<std::string> public_key_pem;
  // exec: only: how long the program may take before it is killed ("sign.exec_timeout").
  std::chrono::milliseconds timeout{60'000};
  // exec: only: "id" or "author", passed to the program as IGVMKIT_SIGN_ROLE.
  std::string role;
};

// Reads a PEM key file (the CLI reads the filesystem; the builder reads relative to its manifest).
using ReadKeyFile = std::function<Result<ByteVector>(const std::string& path)>;

// Opens the key `spec` names. Errors: the PEM errors of measure/id_block.h; "sign.pkcs11_*"
// (uri, module, token, key, pin, sign: see README.md), "sign.exec_*" (command, start, status,
// timeout, output), "sign.public_key_required", "sign.public_key_mismatch". An unreachable token
// or a program that cannot be started is kUnreadable; a failed signing step is kInvalidInput.
Result<std::unique_ptr<Signer>> openSigner(std::string_view spec, const SignerOptions& options,
                                           const ReadKeyFile& read);

// A signature made elsewhere and imported: sign(message) returns it if it verifies over exactly
// `message` under `public_key`, so imported signatures go through the same checks as any other.
std::unique_ptr<Signer> importedSignature(const measure::SNP_ECDSA_PUBLIC_KEY& public_key,
                                          ByteVector signature, std::string name);

}  // namespace igvmkit::sign
