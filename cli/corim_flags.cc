#include "cli/corim_flags.h"

#include <memory>

#include "base/file.h"
#include "sign/signer.h"

namespace igvmkit::cli {

void addCorimFlags(CLI::App* cmd, CorimFlags& flags) {
  cmd->add_option("--corim", flags.out,
                  "write the reference values as a CoRIM per platform (CBOR; COSE_Sign1 with --corim-key)");
  cmd->add_option("--corim-key", flags.key,
                  "sign the CoRIM: PEM file, pkcs11:URI or exec:PROGRAM (ECDSA P-384, ES384)");
  cmd->add_option("--corim-pubkey", flags.pubkey, "public key (PEM) of --corim-key");
}

std::optional<CorimFailure> makeCorim(const CorimFlags& flags, const measure::ReferenceValues& ref,
                                      const std::string& id, std::chrono::milliseconds timeout,
                                      corim::CorimFiles& out) {
  std::unique_ptr<sign::Signer> signer;
  if (!flags.key.empty()) {
    sign::SignerOptions o;
    o.role = "corim";
    o.timeout = timeout;
    if (!flags.pubkey.empty()) {
      Result<std::string> pem = readTextFile(flags.pubkey);
      if (!pem.ok()) {
        return CorimFailure{flags.pubkey, pem.error()};
      }
      o.public_key_pem = *pem;
    }
    Result<std::unique_ptr<sign::Signer>> s =
        sign::openSigner(flags.key, o, [](const std::string& p) { return readFile(p); });
    if (!s.ok()) {
      return CorimFailure{flags.key.substr(0, flags.key.find('?')), s.error()};
    }
    signer = std::move(s).value();
  }
  Result<corim::CorimFiles> c = corim::makeCorim(ref, id, signer.get());
  if (!c.ok()) {
    return CorimFailure{signer ? signer->name() : "", c.error()};
  }
  out = std::move(c).value();
  return std::nullopt;
}

}  // namespace igvmkit::cli
