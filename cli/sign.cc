#include <memory>
#include <tuple>

#include "cli/command.h"

namespace igvmkit::cli {

RunFn addSign(CLI::App& app) {
  auto* cmd = app.add_subcommand("sign", "add or replace the SNP ID block for the file's digest");
  auto path = std::make_shared<std::string>();
  auto id_key = std::make_shared<std::string>();
  auto author_key = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  cmd->add_option("FILE", *path, "IGVM file")->required();
  cmd->add_option("--id-key", *id_key, "ID key (PEM, ECDSA P-384)");
  cmd->add_option("--author-key", *author_key, "author key (PEM, ECDSA P-384)");
  cmd->add_option("-o,--output", *out, "output IGVM file");
  return notImplemented("sign", std::make_shared<std::tuple<decltype(path), decltype(id_key), decltype(author_key), decltype(out)>>(path, id_key, author_key, out));
}

}  // namespace igvmkit::cli
