// igvmkit sign: the SNP ID block for a file's own launch digest, through sign/'s pipeline (the
// one `igvmkit build` uses). Keys are PEM files, pkcs11: URIs or exec: signers; or the bytes to
// sign are exported and the signatures made elsewhere are imported, each verified first.
#include <chrono>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "base/file.h"
#include "cli/command.h"
#include "cli/corim_flags.h"
#include "igvm/file.h"
#include "measure/id_block.h"
#include "measure/measure.h"
#include "sign/image.h"
#include "sign/signer.h"

namespace igvmkit::cli {
namespace {

struct SignArgs {
  std::string path;
  std::string out;
  std::string host = "kvm";
  uint32_t vcpus = 1;
  std::string id_key, id_pubkey, id_signature;
  std::string author_key, author_pubkey, author_signature;
  std::string export_tbs, export_author_tbs;
  std::string family_id, image_id;
  uint32_t guest_svn = 0;
  std::optional<uint64_t> policy;
  double signer_timeout = 60;
  bool json = false;
  CorimFlags corim;
};

// What messages call a key: its spec without a pkcs11 query (where a PIN may be).
std::string keySubject(const std::string& spec) {
  return sign::keyKind(spec) == sign::KeyKind::kPkcs11 ? spec.substr(0, spec.find('?')) : spec;
}

Result<std::array<std::byte, 16>> id16(const std::string& text, const char* flag) {
  std::array<std::byte, 16> out{};
  if (text.empty()) {
    return out;
  }
  Result<ByteVector> bytes = parseHexBytes(text.starts_with("0x") ? text.substr(2) : text);
  if (!bytes.ok() || bytes->size() != out.size()) {
    return usage(std::string(flag) + " takes 16 bytes as 32 hex digits");
  }
  std::memcpy(out.data(), bytes->data(), out.size());
  return out;
}

// One key's signer: --X-signature (imported, needs --X-pubkey) or --X-key (any spec).
Result<std::unique_ptr<sign::Signer>> signerFor(const std::string& key, const std::string& pubkey,
                                                const std::string& signature, const char* role,
                                                const SignArgs& args, std::string& subject) {
  std::optional<std::string> pub_pem;
  if (!pubkey.empty()) {
    subject = pubkey;
    IGVMKIT_ASSIGN_OR_RETURN(pub_pem, readTextFile(pubkey));
  }
  if (!signature.empty()) {
    subject = pubkey;
    IGVMKIT_ASSIGN_OR_RETURN(measure::SNP_ECDSA_PUBLIC_KEY pub, measure::publicKeyFromPem(*pub_pem));
    subject = signature;
    IGVMKIT_ASSIGN_OR_RETURN(ByteVector sig, readFile(signature));
    return sign::importedSignature(pub, std::move(sig), signature);
  }
  subject = keySubject(key);
  sign::SignerOptions options;
  options.public_key_pem = pub_pem;
  options.role = role;
  options.timeout = std::chrono::milliseconds(static_cast<int64_t>(args.signer_timeout * 1000));
  return sign::openSigner(key, options, [](const std::string& p) { return readFile(p); });
}

Status checkFlags(const SignArgs& a) {
  const bool exporting = !a.export_tbs.empty() || !a.export_author_tbs.empty();
  if (!a.id_key.empty() && !a.id_signature.empty()) {
    return usage("give --id-key or --id-signature, not both");
  }
  if (!a.author_key.empty() && !a.author_signature.empty()) {
    return usage("give --author-key or --author-signature, not both");
  }
  if (!a.id_signature.empty() && a.id_pubkey.empty()) {
    return usage("--id-signature needs --id-pubkey PUB.pem, the key it must verify under");
  }
  if (!a.author_signature.empty() && a.author_pubkey.empty()) {
    return usage("--author-signature needs --author-pubkey PUB.pem");
  }
  if (!a.export_author_tbs.empty() && a.id_key.empty() && a.id_pubkey.empty()) {
    return usage("--export-author-tbs needs the id key's public half (--id-pubkey or --id-key)");
  }
  if (exporting) {
    if (!a.out.empty()) {
      return usage("--export-tbs / --export-author-tbs write the bytes to sign and stop; -o "
                   "comes in the second step");
    }
    return okStatus();
  }
  if (a.out.empty()) {
    return usage("-o OUT.igvm is required (or --export-tbs FILE)");
  }
  if (a.id_key.empty() && a.id_signature.empty()) {
    return usage("give --id-key KEY (PEM, pkcs11:URI or exec:PROGRAM), or --id-pubkey PUB.pem "
                 "with --id-signature SIG");
  }
  if (a.signer_timeout <= 0 || a.signer_timeout > 86400) {
    return usage("--signer-timeout takes 0 < SECONDS <= 86400");
  }
  return okStatus();
}

nlohmann::ordered_json summary(const sign::UnsignedIdBlock& u, const SignArgs& args) {
  measure::ReferenceDigest d;
  d.platform = measure::platformName(measure::Platform::kSnp);
  d.host = args.host;
  if (measure::hostModelNamed(args.host) == measure::HostModel::kKvm) {
    d.vcpus = args.vcpus;
  }
  d.digest = ByteVector(reinterpret_cast<const std::byte*>(u.block.ld),
                        reinterpret_cast<const std::byte*>(u.block.ld) + sizeof(u.block.ld));
  measure::ReferenceValues ref;
  ref.measurements.push_back(std::move(d));
  return ref.toJson();
}

int runSign(const SignArgs& args) {
  if (Status s = checkFlags(args); !s.ok()) {
    return fail("", s.error());
  }
  // Every output is declared before any work (cli-contract.md "Outputs"): one that names the input
  // or another output, or stdout where --json's document goes, is a usage error now, and nothing
  // is written unless the whole command succeeds.
  const bool exporting = !args.export_tbs.empty() || !args.export_author_tbs.empty();
  OutputFiles outputs;
  OutputFile *image_out = nullptr, *corim_out = nullptr, *tbs_out = nullptr,
             *author_tbs_out = nullptr;
  {
    Status declared = outputs.addInput(args.path);
    auto declare = [&](const std::string& path, OutputFile*& slot) {
      if (declared.ok() && !path.empty()) {
        Result<OutputFile*> added = outputs.add(path);
        declared = added.status();
        slot = added.ok() ? *added : nullptr;
      }
    };
    if (exporting) {
      declare(args.export_tbs, tbs_out);
      declare(args.export_author_tbs, author_tbs_out);
    } else {
      declare(args.out, image_out);
      declare(args.corim.out, corim_out);
    }
    if (declared.ok() && args.json) {
      declared = reserveStdout(outputs, "--json's document");
    }
    if (!declared.ok()) {
      return fail("", declared.error());
    }
  }
  sign::IdBlockRequest request;
  {
    Result<measure::HostModel> host = measure::parseHostModel(args.host);
    Result<std::array<std::byte, 16>> family = id16(args.family_id, "--family-id");
    Result<std::array<std::byte, 16>> image = id16(args.image_id, "--image-id");
    for (const Status& s : {host.status(), family.status(), image.status()}) {
      if (!s.ok()) {
        return fail("", s.error());
      }
    }
    request.host = *host;
    request.vcpus = args.vcpus;
    request.family_id = *family;
    request.image_id = *image;
    request.guest_svn = args.guest_svn;
    request.policy = args.policy;
  }
  Result<MappedFile> mapped = MappedFile::open(args.path);
  if (!mapped.ok()) {
    return fail(args.path, mapped.error());
  }
  Result<igvm::File> file = igvm::File::parse(mapped->bytes());
  if (!file.ok()) {
    return fail(args.path, file.error());
  }
  Result<sign::UnsignedIdBlock> u = sign::prepareIdBlock(*file, request);
  if (!u.ok()) {
    return fail(args.path, u.error());
  }
  for (const std::string& w : u->warnings) {
    warn(args.path + ": " + w);
  }

  // Keys: opened (and their public halves read) before anything is written.
  std::string subject;
  std::unique_ptr<sign::Signer> id, author;
  if (!args.id_key.empty() || !args.id_signature.empty() ||
      (!args.export_author_tbs.empty() && !args.id_pubkey.empty())) {
    if (args.id_key.empty() && args.id_signature.empty()) {  // export only: the public half
      Result<std::string> pem = readTextFile(args.id_pubkey);
      Result<measure::SNP_ECDSA_PUBLIC_KEY> pub =
          pem.ok() ? measure::publicKeyFromPem(*pem) : Result<measure::SNP_ECDSA_PUBLIC_KEY>(pem.error());
      if (!pub.ok()) {
        return fail(args.id_pubkey, pub.error());
      }
      id = sign::importedSignature(*pub, {}, args.id_pubkey);
    } else {
      Result<std::unique_ptr<sign::Signer>> s =
          signerFor(args.id_key, args.id_pubkey, args.id_signature, "id", args, subject);
      if (!s.ok()) {
        return fail(subject, s.error());
      }
      id = std::move(s).value();
    }
  }
  if (exporting) {
    nlohmann::ordered_json doc = summary(*u, args);
    nlohmann::ordered_json exported = nlohmann::ordered_json::object();
    Status written;
    if (tbs_out != nullptr) {
      written = tbs_out->write(measure::bytesToSign(u->block));
      exported["id_block"] = args.export_tbs;
    }
    if (written.ok() && author_tbs_out != nullptr) {
      written = author_tbs_out->write(measure::bytesToSign(id->publicKey()));
      exported["author"] = args.export_author_tbs;
    }
    if (written.ok()) written = outputs.commit();
    if (!written.ok()) {
      return fail("", written.error());
    }
    doc["exported"] = exported;
    if (args.json) {
      printJson(doc);
    }
    return kExitOk;
  }
  if (!args.author_key.empty() || !args.author_signature.empty()) {
    Result<std::unique_ptr<sign::Signer>> s = signerFor(
        args.author_key, args.author_pubkey, args.author_signature, "author", args, subject);
    if (!s.ok()) {
      return fail(subject, s.error());
    }
    author = std::move(s).value();
  }
  Result<measure::SignedIdBlock> block = sign::signIdBlock(u->block, *id, author.get());
  if (!block.ok()) {
    // Name the signature (or key) that failed: the author's covers the id key's 0x404 bytes.
    const bool author_failed = author != nullptr && block.error().rule == "id_block.signature_invalid" &&
                               id->sign(measure::bytesToSign(u->block)).ok();
    return fail(author_failed ? author->name() : id->name(), block.error());
  }
  Result<ByteVector> out = sign::withIdBlock(*file, *block, u->mask, args.policy);
  if (!out.ok()) {
    return fail(args.path, out.error());
  }
  // The signed measurement and the identity its ID block presents (--json, --corim).
  measure::ReferenceValues ref = *measure::ReferenceValues::fromJsonDoc(summary(*u, args));
  {
    Result<measure::ReferenceDigest::IdBlockIdentity> identity = sign::identityOf(*block);
    if (!identity.ok()) {
      return fail(args.out, identity.error());
    }
    ref.measurements[0].id_block = *identity;
  }
  Status written = image_out->write(*out);
  if (written.ok() && corim_out != nullptr) {  // both outputs or neither
    corim::CorimFiles files;
    if (auto bad = makeCorim(args.corim, ref, std::filesystem::path(args.out).filename().string(),
                             std::chrono::milliseconds(
                                 static_cast<int64_t>(args.signer_timeout * 1000)),
                             files)) {
      return fail(bad->subject.empty() ? args.path : bad->subject, bad->error);
    }
    written = corim_out->write(files.file);
  }
  if (written.ok()) written = outputs.commit();
  if (!written.ok()) {
    return fail("", written.error());
  }
  if (args.json) {
    nlohmann::ordered_json doc = ref.toJson();
    doc["output"] = args.out;
    printJson(doc);
  }
  return kExitOk;
}

}  // namespace

RunFn addSign(CLI::App& app) {
  auto* cmd = app.add_subcommand("sign", "add or replace the SNP ID block for the file's digest");
  auto args = std::make_shared<SignArgs>();
  cmd->add_option("FILE", args->path, "IGVM file")->required();
  cmd->add_option("-o,--output", args->out, "output IGVM file");
  cmd->add_option("--id-key", args->id_key,
                  "ID key: PEM file, pkcs11:URI (RFC 7512) or exec:PROGRAM [ARGS] (ECDSA P-384)");
  cmd->add_option("--id-pubkey", args->id_pubkey,
                  "ID public key (PEM): required with exec: and --id-signature, checked otherwise");
  cmd->add_option("--id-signature", args->id_signature,
                  "signature (DER or raw r||s) of the --export-tbs bytes, made elsewhere");
  cmd->add_option("--author-key", args->author_key, "author key, the same forms as --id-key");
  cmd->add_option("--author-pubkey", args->author_pubkey, "author public key (PEM)");
  cmd->add_option("--author-signature", args->author_signature,
                  "signature of the --export-author-tbs bytes, made elsewhere");
  cmd->add_option("--export-tbs", args->export_tbs,
                  "write the 96 ID-block bytes the ID key signs (ECDSA P-384/SHA-384) and stop");
  cmd->add_option("--export-author-tbs", args->export_author_tbs,
                  "write the ID key's 0x404-byte structure the author key signs and stop");
  cmd->add_option("--host", args->host, "kvm|mshv: host model of the digest (default kvm)");
  cmd->add_option("--vcpus", args->vcpus, "vCPU count of the digest under kvm (default 1)");
  cmd->add_option("--family-id", args->family_id, "FAMILY_ID, 32 hex digits (default zeros)");
  cmd->add_option("--image-id", args->image_id, "IMAGE_ID, 32 hex digits (default zeros)");
  cmd->add_option("--guest-svn", args->guest_svn, "GUEST_SVN (default 0)");
  cmd->add_option("--policy", args->policy,
                  "launch policy for the ID block and the file's GUEST_POLICY (default: the file's)");
  cmd->add_option("--signer-timeout", args->signer_timeout,
                  "seconds an exec: signer may take before it is killed (default 60)");
  cmd->add_flag("--json", args->json, "print the signed identity as reference values (JSON)");
  addCorimFlags(cmd, args->corim);
  return [args] { return runSign(*args); };
}

}  // namespace igvmkit::cli
