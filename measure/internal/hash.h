// measure/internal/hash.h: thin RAII wrappers over OpenSSL 3 EVP digests (no hand-written crypto).
// Only measure/*.cc include this.
#pragma once

#include <openssl/evp.h>

#include <array>
#include <memory>

#include "base/bytes.h"
#include "base/status.h"

namespace igvmkit::measure::impl {

// Fetched once per process (EVP_MD_fetch), so worker threads do not contend on implicit fetches.
const EVP_MD* sha384Md();
const EVP_MD* sha256Md();

// A zero-filled 4 KiB page, for padding.
Bytes zeroPage();
// SHA-384 of a zero 4 KiB page, computed once: every page without file data (4 KiB pages and the
// 512 pieces of a 2 MiB one) reuses it instead of hashing 4 KiB of zeros again.
const std::array<std::byte, 48>& zeroPageSha384();

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

// One running digest: init(), update()..., final(). Errors from OpenSSL become kInternal.
class Hasher {
 public:
  explicit Hasher(const EVP_MD* md) : md_(md), ctx_(EVP_MD_CTX_new()) {}

  Status init();
  Status update(Bytes data);
  // Writes EVP_MD_get_size(md) bytes to out and leaves the context finished.
  Status finish(std::byte* out);
  // Copies the running state so a digest can be read without ending the stream.
  Status snapshot(std::byte* out) const;
  // Takes over `other`'s running state (same digest), so the copy can hash on alone.
  Status copyFrom(const Hasher& other);

 private:
  const EVP_MD* md_;
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx_;
};

}  // namespace igvmkit::measure::impl
