#include "builder/internal/id_block.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>
#include <string>

#include "igvm/file.h"
#include "sign/image.h"
#include "sign/signer.h"

namespace igvmkit::builder::internal {
namespace {

Result<std::unique_ptr<sign::Signer>> open(const std::string& spec,
                                           const std::optional<std::string>& public_key_path,
                                           const char* role, const FileReader& read,
                                           const SigningOptions& signing) {
  sign::SignerOptions options;
  options.timeout = signing.signer_timeout;
  options.role = role;
  if (public_key_path) {
    IGVMKIT_ASSIGN_OR_RETURN(ByteVector pem, read(*public_key_path));
    options.public_key_pem = std::string(reinterpret_cast<const char*>(pem.data()), pem.size());
  }
  Result<std::unique_ptr<sign::Signer>> signer = sign::openSigner(spec, options, read);
  if (!signer.ok()) {
    // The CLI names the manifest; say which key (never a pkcs11 query, where a PIN may be).
    Error e = std::move(signer).error();
    e.message = "platform.snp.id_block." + std::string(role) + "_key " +
                spec.substr(0, spec.find('?')) + ": " + e.message;
    return e;
  }
  return signer;
}

}  // namespace

Result<ByteVector> addIdBlock(const Manifest& manifest, Bytes igvm, const FileReader& read,
                              const SigningOptions& signing, bool& reused_signature) {
  const SnpSettings& snp = *manifest.snp;
  const SnpIdBlock& idb = *snp.id_block;
  IGVMKIT_ASSIGN_OR_RETURN(igvm::File file, igvm::File::parse(igvm));
  sign::IdBlockRequest request;
  request.host = snp.host;
  request.vcpus = snp.vcpus;
  std::memcpy(request.family_id.data(), idb.family_id.data(),
              std::min(idb.family_id.size(), request.family_id.size()));
  std::memcpy(request.image_id.data(), idb.image_id.data(),
              std::min(idb.image_id.size(), request.image_id.size()));
  request.guest_svn = idb.guest_svn;
  request.policy = snp.policy;  // the GUEST_POLICY build() wrote; stated so it cannot drift
  IGVMKIT_ASSIGN_OR_RETURN(sign::UnsignedIdBlock u, sign::prepareIdBlock(file, request));

  IGVMKIT_ASSIGN_OR_RETURN(std::unique_ptr<sign::Signer> id,
                           open(idb.id_key, idb.id_pubkey, "id", read, signing));
  std::unique_ptr<sign::Signer> author;
  if (idb.author_key) {
    IGVMKIT_ASSIGN_OR_RETURN(author,
                             open(*idb.author_key, idb.author_pubkey, "author", read, signing));
  }
  reused_signature = false;
  std::optional<sign::ReusedSignatures> reused;
  if (signing.reuse_from) {
    IGVMKIT_ASSIGN_OR_RETURN(igvm::File old, igvm::File::parse(*signing.reuse_from));
    reused = sign::reuseSignatures(old, u.mask, u.block, id->publicKey(),
                                   author ? &author->publicKey() : nullptr);
  }
  sign::Signer* id_signer = reused ? reused->id.get() : id.get();
  sign::Signer* author_signer = reused ? reused->author.get() : author.get();
  IGVMKIT_ASSIGN_OR_RETURN(measure::SignedIdBlock block,
                           sign::signIdBlock(u.block, *id_signer, author_signer));
  reused_signature = reused.has_value();
  return sign::withIdBlock(file, block, u.mask, std::nullopt);
}

}  // namespace igvmkit::builder::internal
