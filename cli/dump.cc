#include <iostream>
#include <memory>

#include "base/file.h"
#include "cli/command.h"
#include "cli/compat.h"
#include "corim/corim.h"
#include "igvm/dump.h"
#include "igvm/file.h"

namespace igvmkit::cli {

RunFn addDump(CLI::App& app) {
  auto* cmd = app.add_subcommand("dump", "print every header of an IGVM file, decoded");
  auto path = std::make_shared<std::string>();
  cmd->add_option("FILE", *path, "IGVM file")->required();
  auto json_flag = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json_flag, "one JSON document on stdout");
  auto hex_flag = std::make_shared<bool>(false);
  cmd->add_flag("--hex", *hex_flag, "include page contents as hex");
  return [path, json_flag, hex_flag] {
    Result<MappedFile> mapped = MappedFile::open(*path);
    if (!mapped.ok()) {
      return fail("", mapped.error());  // the message names the path
    }
    Result<igvm::File> file = parseForUse(*path, mapped->bytes());  // cli/compat.h
    if (!file.ok()) {
      if (Status s = settled(*mapped); !s.ok()) {
        return fail("", s.error());
      }
      return fail(*path, file.error());
    }
    igvm::DumpOptions opts;
    opts.hex = *hex_flag;
    // Embedded CoRIM (CORIM_DOCUMENT / CORIM_SIGNATURE payloads) decoded (corim/README.md).
    // Rendered first, printed once the file is known not to have changed under the dump.
    const auto corims = corim::embedded(*file);
    std::string text;
    if (*json_flag) {
      nlohmann::ordered_json doc = igvm::dumpJson(*file, opts);
      for (auto& h : doc["initialization"]) {
        for (const auto& [index, decoded] : corims) {
          if (h.value("index", UINT32_MAX) == index) {
            h["corim"] = decoded;
          }
        }
      }
      text = doc.dump(2) + "\n";
    } else {
      text = igvm::dumpText(*file, opts);
      for (const auto& [index, decoded] : corims) {
        text += "corim of header #" + std::to_string(index) + ": " + decoded.dump() + "\n";
      }
    }
    if (Status s = settled(*mapped); !s.ok()) {
      return fail("", s.error());
    }
    std::cout << text;
    return kExitOk;
  };
}

}  // namespace igvmkit::cli
