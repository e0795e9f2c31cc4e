// attest/internal/json_span.h: the exact text of a top-level member of a JSON object. Intel
// signs the bytes of the "tcbInfo" / "enclaveIdentity" value as served, so the verifier must
// check those bytes, never a re-serialisation.
#pragma once

#include <string_view>

#include "base/status.h"

namespace igvmkit::attest::internal {

// The raw text of member `key` of the top-level object in `json` (a view into `json`). Errors
// (rule "collateral.json") for malformed text or a missing member.
Result<std::string_view> rawJsonMember(std::string_view json, std::string_view key);

}  // namespace igvmkit::attest::internal
