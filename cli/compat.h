// cli/compat.h: how the consuming subcommands (dump, measure, plan, run) read an IGVM file.
//
// They accept every file microsoft/igvm's parser accepts (igvm::Conformance::kCompat); each of
// igvmkit's stricter rules the file breaks is printed as one warning line on stderr,
//   warning: FILE: header #2 (GUEST_POLICY 0x101) at offset 0x48: ... [mask.undeclared]
// and the command goes on. `igvmkit check` stays strict (check --compat asks what the reference
// would say).
#pragma once

#include <string>

#include "base/bytes.h"
#include "base/status.h"
#include "igvm/file.h"

namespace igvmkit::cli {

Result<igvm::File> parseForUse(const std::string& path, Bytes bytes);

// Prints the warnings of a lenient parse of `path`.
void printWarnings(const std::string& path, const igvm::File& file);

}  // namespace igvmkit::cli
