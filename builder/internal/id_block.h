// builder/internal/id_block.h: build()'s signing step, the manifest's [platform.snp.id_block]
// through sign/'s pipeline (the same one `igvmkit sign` runs).
#pragma once

#include "base/bytes.h"
#include "base/status.h"
#include "builder/build.h"
#include "builder/image.h"
#include "builder/manifest.h"

namespace igvmkit::builder::internal {

// `igvm` (a built file without an ID block) with its SNP ID block signed for the manifest's host
// model and vCPU count. Sets out.reused_signature when signing.reuse_from's block still fits.
Result<ByteVector> addIdBlock(const Manifest& manifest, Bytes igvm, const FileReader& read,
                              const SigningOptions& signing, bool& reused_signature);

}  // namespace igvmkit::builder::internal
