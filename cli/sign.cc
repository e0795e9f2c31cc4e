#include <cstring>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "base/file.h"
#include "cli/command.h"
#include "igvm/file.h"
#include "igvm/writer.h"
#include "measure/id_block.h"
#include "measure/measure.h"

namespace igvmkit::cli {
namespace {

struct SignArgs {
  std::string path;
  std::string id_key;
  std::string author_key;
  std::string out;
  std::string host = "kvm";
  uint32_t vcpus = 1;
  std::string export_tbs;
  std::string id_pubkey;
  std::string id_signature;
};

Result<std::string> readText(const std::string& path) {
  IGVMKIT_ASSIGN_OR_RETURN(ByteVector bytes, readFile(path));
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

// The ID block for the file's own SNP launch digest and its GUEST_POLICY.
struct Unsigned {
  measure::SNP_ID_BLOCK block;
  uint32_t mask;
};

Result<Unsigned> unsignedBlock(const igvm::File& file, const SignArgs& args) {
  IGVMKIT_ASSIGN_OR_RETURN(measure::HostModel host, measure::parseHostModel(args.host));
  measure::MeasureOptions opts;
  opts.platform = measure::Platform::kSnp;
  opts.host = host;
  opts.vcpus = args.vcpus;
  IGVMKIT_ASSIGN_OR_RETURN(measure::Measurement m, measure::measure(file, opts));
  for (const std::string& w : m.warnings) {
    warn(args.path + ": " + w);
  }
  const igvm::IGVM_VHS_SUPPORTED_PLATFORM* snp = file.platform(igvm::PlatformType::kSevSnp);
  const uint32_t mask = snp->compatibility_mask;  // measure() succeeded, so it exists
  std::optional<uint64_t> policy;
  for (const igvm::Header& h : file.initializationHeaders()) {
    if (const auto* p = h.get<igvm::IGVM_VHS_GUEST_POLICY>()) {
      if ((p->compatibility_mask & mask) != 0) {
        policy = p->policy;
      }
    }
  }
  if (!policy) {
    return invalid("sign.no_policy",
                   "the file has no snp guest_policy header; the id block must carry the policy");
  }
  measure::IdBlockParams params;
  std::memcpy(params.ld.data(), m.digest.data(), params.ld.size());
  params.policy = *policy;
  return Unsigned{measure::makeIdBlock(params), mask};
}

// The model of `file` with its SNP_ID_BLOCK directive for `mask` replaced (or appended).
Result<ByteVector> withIdBlock(const igvm::File& file, const igvm::IGVM_VHS_SNP_ID_BLOCK& d) {
  igvm::Model model = igvm::fromFile(file);
  igvm::Entry entry = igvm::makeEntry(igvm::kVhtSnpIdBlock, d);
  bool replaced = false;
  for (igvm::Entry& e : model.directives) {
    if (e.type != igvm::kVhtSnpIdBlock) {
      continue;
    }
    const auto* old = std::get_if<igvm::Boxed<igvm::IGVM_VHS_SNP_ID_BLOCK>>(&e.body);
    if (old != nullptr && ((**old).compatibility_mask & d.compatibility_mask) != 0) {
      e = entry;
      replaced = true;
    }
  }
  if (!replaced) {
    model.directives.push_back(entry);
  }
  return igvm::write(model, {.version = file.version()});
}

Result<measure::SignedIdBlock> signTwoStep(const SignArgs& args, const measure::SNP_ID_BLOCK& b) {
  IGVMKIT_ASSIGN_OR_RETURN(std::string pub, readText(args.id_pubkey));
  IGVMKIT_ASSIGN_OR_RETURN(ByteVector der, readFile(args.id_signature));
  ByteVector tbs = measure::bytesToSign(b);
  IGVMKIT_ASSIGN_OR_RETURN(measure::ImportedSignature id,
                           measure::importSignature(tbs, der, pub));
  std::optional<measure::ImportedSignature> author;
  if (!args.author_key.empty()) {
    IGVMKIT_ASSIGN_OR_RETURN(std::string author_pem, readText(args.author_key));
    ByteVector key_msg = measure::bytesToSign(id.public_key);
    IGVMKIT_ASSIGN_OR_RETURN(ByteVector author_der, measure::signDer(author_pem, key_msg));
    IGVMKIT_ASSIGN_OR_RETURN(author, measure::importSignature(key_msg, author_der, author_pem));
  }
  return measure::assembleIdBlock(b, id, author);
}

Status runSign(const SignArgs& args) {
  const bool two_step = !args.id_pubkey.empty() || !args.id_signature.empty();
  if (args.export_tbs.empty()) {
    if (args.out.empty()) {
      return usage("-o OUT.igvm is required (or --export-tbs FILE)");
    }
    if (two_step ? (args.id_pubkey.empty() || args.id_signature.empty() || !args.id_key.empty())
                 : args.id_key.empty()) {
      return usage("give --id-key KEY.pem, or --id-pubkey PUB.pem with --id-signature SIG.der");
    }
  }
  IGVMKIT_ASSIGN_OR_RETURN(MappedFile mapped, MappedFile::open(args.path));
  IGVMKIT_ASSIGN_OR_RETURN(igvm::File file, igvm::File::parse(mapped.bytes()));
  IGVMKIT_ASSIGN_OR_RETURN(Unsigned u, unsignedBlock(file, args));
  if (!args.export_tbs.empty()) {
    return writeFile(args.export_tbs, measure::bytesToSign(u.block));
  }
  measure::SignedIdBlock signed_block;
  if (two_step) {
    IGVMKIT_ASSIGN_OR_RETURN(signed_block, signTwoStep(args, u.block));
  } else {
    IGVMKIT_ASSIGN_OR_RETURN(std::string id_pem, readText(args.id_key));
    std::optional<std::string> author_pem;
    if (!args.author_key.empty()) {
      IGVMKIT_ASSIGN_OR_RETURN(author_pem, readText(args.author_key));
    }
    IGVMKIT_ASSIGN_OR_RETURN(
        signed_block,
        measure::signIdBlock(u.block, id_pem,
                             author_pem ? std::optional<std::string_view>(*author_pem)
                                        : std::nullopt));
  }
  IGVMKIT_RETURN_IF_ERROR(measure::verifyIdBlock(signed_block));
  IGVMKIT_ASSIGN_OR_RETURN(ByteVector out,
                           withIdBlock(file, measure::toIgvmIdBlock(signed_block, u.mask)));
  return writeFile(args.out, out);
}

}  // namespace

RunFn addSign(CLI::App& app) {
  auto* cmd = app.add_subcommand("sign", "add or replace the SNP ID block for the file's digest");
  auto args = std::make_shared<SignArgs>();
  cmd->add_option("FILE", args->path, "IGVM file")->required();
  cmd->add_option("--id-key", args->id_key, "ID key (PEM, ECDSA P-384)");
  cmd->add_option("--author-key", args->author_key, "author key (PEM, ECDSA P-384)");
  cmd->add_option("-o,--output", args->out, "output IGVM file");
  cmd->add_option("--host", args->host, "kvm|mshv: host model of the digest (default kvm)");
  cmd->add_option("--vcpus", args->vcpus, "vCPU count of the digest under kvm (default 1)");
  cmd->add_option("--export-tbs", args->export_tbs,
                  "write the 96 ID-block bytes to sign (ECDSA P-384/SHA-384) and stop");
  cmd->add_option("--id-pubkey", args->id_pubkey, "ID public key (PEM) of --id-signature");
  cmd->add_option("--id-signature", args->id_signature,
                  "DER ECDSA signature of the --export-tbs bytes, made elsewhere");
  return [args] {
    Status s = runSign(*args);
    if (!s.ok()) {
      return fail(args->path, s.error());
    }
    return kExitOk;
  };
}

}  // namespace igvmkit::cli
