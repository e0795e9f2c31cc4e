// base/size.h: the one size grammar, for manifests ([memory] size) and command-line options
// (`--memory` of plan and run).
//
//   parseSize("512M")   == 512 << 20      parseSize("2GiB") == 2 << 30
//   parseSize("0x1000") == 0x1000         parseSize("4kb")  == 4096
//   parseSize("1_000")  == 1000           parseSize("1T")   == 1 << 40
//
// Decimal digits, or 0x and hex digits; underscores and spaces are ignored; any case. A decimal
// number may end in K, M, G or T (binary multiples, 2^10..2^40), optionally followed by B or iB.
// No suffix means bytes. Errors are kInvalidInput with rule "size.syntax" or "size.range" (too large
// for 64 bits); a command-line parser re-raises them as usage errors.
#pragma once

#include <cstdint>
#include <string_view>

#include "base/status.h"

namespace igvmkit {

Result<uint64_t> parseSize(std::string_view text);

}  // namespace igvmkit
