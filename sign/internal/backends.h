// sign/internal/backends.h: the Signer kinds behind openSigner(). Only signer.cc includes this.
#pragma once

#include <memory>
#include <string_view>

#include "sign/signer.h"

namespace igvmkit::sign::internal {

// Lets the backends construct a Signer (its constructor is protected).
class Backend : public Signer {
 protected:
  using Signer::Signer;
};

// `uri` is the whole "pkcs11:..." spec (pkcs11.cc).
Result<std::unique_ptr<Signer>> openPkcs11(std::string_view uri, const SignerOptions& options);

// `command` is the spec after "exec:" (exec.cc); `public_key` is the key it must sign with.
Result<std::unique_ptr<Signer>> openExec(std::string_view command,
                                         const measure::SNP_ECDSA_PUBLIC_KEY& public_key,
                                         const SignerOptions& options);

}  // namespace igvmkit::sign::internal
