#include "sign/image.h"

#include <cstring>
#include <utility>

#include "igvm/writer.h"
#include "measure/measure.h"

namespace igvmkit::sign {
namespace {

bool same(const void* a, const void* b, size_t n) { return std::memcmp(a, b, n) == 0; }

std::optional<uint64_t> guestPolicy(const igvm::File& file, uint32_t mask) {
  std::optional<uint64_t> policy;
  for (const igvm::Header& h : file.initializationHeaders()) {
    if (const auto* p = h.get<igvm::IGVM_VHS_GUEST_POLICY>()) {
      if ((p->compatibility_mask & mask) != 0) {
        policy = p->policy;
      }
    }
  }
  return policy;
}

const igvm::IGVM_VHS_SNP_ID_BLOCK* idBlockDirective(const igvm::Header& h) {
  return h.type == igvm::kVhtSnpIdBlock ? h.get<igvm::IGVM_VHS_SNP_ID_BLOCK>() : nullptr;
}

ByteVector bytesOf(const std::byte* p, size_t n) { return ByteVector(p, p + n); }

}  // namespace

Result<UnsignedIdBlock> prepareIdBlock(const igvm::File& file, const IdBlockRequest& request) {
  measure::MeasureOptions opts;
  opts.platform = measure::Platform::kSnp;
  opts.host = request.host;
  opts.vcpus = request.vcpus;
  opts.threads = 1;
  IGVMKIT_ASSIGN_OR_RETURN(measure::Measurement m, measure::measure(file, opts));
  const igvm::IGVM_VHS_SUPPORTED_PLATFORM* snp = file.platform(igvm::PlatformType::kSevSnp);
  UnsignedIdBlock out;
  out.mask = snp->compatibility_mask;  // measure() succeeded, so it exists
  out.warnings = std::move(m.warnings);
  std::optional<uint64_t> policy = request.policy ? request.policy : guestPolicy(file, out.mask);
  if (!policy) {
    return invalid("sign.no_policy",
                   "the file has no snp guest_policy header; the id block must carry the policy "
                   "(give --policy)");
  }
  measure::IdBlockParams params;
  std::memcpy(params.ld.data(), m.digest.data(), params.ld.size());
  params.family_id = request.family_id;
  params.image_id = request.image_id;
  params.guest_svn = request.guest_svn;
  params.policy = *policy;
  out.block = measure::makeIdBlock(params);
  return out;
}

Result<measure::SignedIdBlock> signIdBlock(const measure::SNP_ID_BLOCK& block, Signer& id,
                                           Signer* author) {
  const ByteVector id_tbs = measure::bytesToSign(block);
  IGVMKIT_ASSIGN_OR_RETURN(measure::SNP_ECDSA_SIGNATURE id_sig, id.sign(id_tbs));
  std::optional<measure::ImportedSignature> author_sig;
  if (author != nullptr) {
    const ByteVector key_tbs = measure::bytesToSign(id.publicKey());
    IGVMKIT_ASSIGN_OR_RETURN(measure::SNP_ECDSA_SIGNATURE sig, author->sign(key_tbs));
    author_sig = measure::ImportedSignature{sig, author->publicKey()};
  }
  return measure::assembleIdBlock(block, {id_sig, id.publicKey()}, author_sig);
}

std::optional<ReusedSignatures> reuseSignatures(const igvm::File& old, uint32_t mask,
                                                const measure::SNP_ID_BLOCK& block,
                                                const measure::SNP_ECDSA_PUBLIC_KEY& id_key,
                                                const measure::SNP_ECDSA_PUBLIC_KEY* author_key) {
  Result<std::vector<FileIdBlock>> blocks = idBlocksOf(old);
  if (!blocks.ok()) {
    return std::nullopt;
  }
  for (const FileIdBlock& f : *blocks) {
    if ((f.mask & mask) == 0) {
      continue;
    }
    const measure::SignedIdBlock& b = f.block;
    // The old file's GUEST_POLICY is the policy its block was signed with; the block must match
    // the new one in every signed byte, and the keys must be the ones asked for now.
    if (!same(&b.id_block, &block, sizeof(block)) ||
        !same(&b.auth_info.id_key, &id_key, sizeof(id_key)) ||
        b.author_key_enabled != (author_key != nullptr) ||
        (author_key != nullptr &&
         !same(&b.auth_info.author_key, author_key, sizeof(*author_key))) ||
        !measure::verifyIdBlock(b).ok()) {
      return std::nullopt;
    }
    ReusedSignatures out;
    Result<ByteVector> id_der = measure::signatureToDer(b.auth_info.id_block_sig);
    if (!id_der.ok()) {
      return std::nullopt;
    }
    out.id = importedSignature(id_key, std::move(id_der).value(), "the reused id signature");
    if (author_key != nullptr) {
      Result<ByteVector> author_der = measure::signatureToDer(b.auth_info.id_key_sig);
      if (!author_der.ok()) {
        return std::nullopt;
      }
      out.author = importedSignature(*author_key, std::move(author_der).value(),
                                     "the reused author signature");
    }
    return out;
  }
  return std::nullopt;
}

Result<ByteVector> withIdBlock(const igvm::File& file, const measure::SignedIdBlock& block,
                               uint32_t mask, std::optional<uint64_t> policy) {
  igvm::Model model = igvm::fromFile(file);
  auto replaceOrAppend = [mask](igvm::EntryList& entries, igvm::Entry entry,
                                auto&& maskOf) {
    bool replaced = false;
    for (igvm::Entry& e : entries) {
      if (e.type == entry.type && (maskOf(e) & mask) != 0) {
        e = entry;
        replaced = true;
      }
    }
    if (!replaced) {
      entries.push_back(std::move(entry));
    }
  };
  replaceOrAppend(model.directives,
                  igvm::makeEntry(igvm::kVhtSnpIdBlock, measure::toIgvmIdBlock(block, mask)),
                  [](const igvm::Entry& e) -> uint32_t {
                    const auto* d = std::get_if<igvm::Boxed<igvm::IGVM_VHS_SNP_ID_BLOCK>>(&e.body);
                    return d != nullptr ? (**d).compatibility_mask : 0;
                  });
  if (policy) {
    igvm::IGVM_VHS_GUEST_POLICY p{};
    p.policy = *policy;
    p.compatibility_mask = mask;
    replaceOrAppend(model.initialization, igvm::makeEntry(igvm::kVhtGuestPolicy, p),
                    [](const igvm::Entry& e) -> uint32_t {
                      const auto* g = std::get_if<igvm::IGVM_VHS_GUEST_POLICY>(&e.body);
                      return g != nullptr ? g->compatibility_mask : 0;
                    });
  }
  return igvm::write(model, {.version = file.version()});
}

Result<std::vector<FileIdBlock>> idBlocksOf(const igvm::File& file) {
  std::vector<FileIdBlock> out;
  for (const igvm::Header& h : file.directives()) {
    const igvm::IGVM_VHS_SNP_ID_BLOCK* d = idBlockDirective(h);
    if (d == nullptr) {
      continue;
    }
    std::optional<uint64_t> policy = guestPolicy(file, d->compatibility_mask);
    Result<measure::SignedIdBlock> block = measure::fromIgvmIdBlock(*d, policy.value_or(0));
    if (!block.ok()) {
      return Status(std::move(block).error()).at(h.location());
    }
    out.push_back({d->compatibility_mask, std::move(block).value()});
  }
  return out;
}

Result<measure::ReferenceDigest::IdBlockIdentity> identityOf(const measure::SignedIdBlock& block) {
  measure::ReferenceDigest::IdBlockIdentity id;
  IGVMKIT_ASSIGN_OR_RETURN(measure::Sha384Digest id_digest,
                           measure::keyDigest(block.auth_info.id_key));
  id.id_key_digest = bytesOf(id_digest.data(), id_digest.size());
  if (block.author_key_enabled) {
    IGVMKIT_ASSIGN_OR_RETURN(measure::Sha384Digest author_digest,
                             measure::keyDigest(block.auth_info.author_key));
    id.author_key_digest = bytesOf(author_digest.data(), author_digest.size());
  }
  id.family_id = bytesOf(block.id_block.family_id, sizeof(block.id_block.family_id));
  id.image_id = bytesOf(block.id_block.image_id, sizeof(block.id_block.image_id));
  id.guest_svn = block.id_block.guest_svn;
  id.guest_policy = block.id_block.policy;
  return id;
}

Status addIdentity(const igvm::File& file, measure::ReferenceValues& ref) {
  IGVMKIT_ASSIGN_OR_RETURN(std::vector<FileIdBlock> blocks, idBlocksOf(file));
  for (const FileIdBlock& f : blocks) {
    IGVMKIT_ASSIGN_OR_RETURN(measure::ReferenceDigest::IdBlockIdentity id, identityOf(f.block));
    for (measure::ReferenceDigest& d : ref.measurements) {
      if (d.platform == "snp" && d.digest.size() == sizeof(f.block.id_block.ld) &&
          same(d.digest.data(), f.block.id_block.ld, d.digest.size())) {
        d.id_block = id;
      }
    }
  }
  return okStatus();
}

}  // namespace igvmkit::sign
