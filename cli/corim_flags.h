// cli/corim_flags.h: --corim OUT.cbor [--corim-key KEY [--corim-pubkey PUB.pem]], shared by
// `build` and `measure` (corim/README.md).
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <optional>
#include <string>

#include "base/status.h"
#include "corim/corim.h"
#include "measure/reference.h"

namespace igvmkit::cli {

struct CorimFlags {
  std::string out, key, pubkey;
};

void addCorimFlags(CLI::App* cmd, CorimFlags& flags);

// A failure and the input it names (the key or the public key file, or "" for the values).
struct CorimFailure {
  std::string subject;
  Error error;
};

// The CoRIM of `ref`, signed when --corim-key was given. `id` names the CoRIM.
std::optional<CorimFailure> makeCorim(const CorimFlags& flags, const measure::ReferenceValues& ref,
                                      const std::string& id, std::chrono::milliseconds timeout,
                                      corim::CorimFiles& out);

}  // namespace igvmkit::cli
