// igvm/dump.h: a parsed IGVM file as JSON or text, every header in file order, decoded.
//
// Page data is summarised: consecutive PAGE_DATA headers with the same compatibility mask, flags
// and data type whose GPAs follow each other become one run with its GPA range, page counts and
// the SHA-256 of the run's contents (zero pages hashed as 4096 zero bytes). Raw file data is
// included only with DumpOptions::hex.
//
//   IGVMKIT_ASSIGN_OR_RETURN(igvm::File file, igvm::File::parse(mapped.bytes()));
//   cli::printJson(igvm::dumpJson(file));          // igvmkit dump FILE --json
//   std::cout << igvm::dumpText(file);              // igvmkit dump FILE
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "igvm/file.h"

namespace igvmkit::igvm {

struct DumpOptions {
  bool hex = false;  // include file data (pages, areas, contexts, CoRIM) as lowercase hex
};

// {"file": {...}, "platforms": [...], "initialization": [...], "directives": [...]}
nlohmann::ordered_json dumpJson(const File& file, const DumpOptions& opts = {});

// One line for the fixed header, then one line per header or page run.
std::string dumpText(const File& file, const DumpOptions& opts = {});

}  // namespace igvmkit::igvm
