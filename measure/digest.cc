#include "measure/digest.h"

#include <openssl/evp.h>

#include "measure/internal/hash.h"

namespace igvmkit::measure {
namespace impl {

const EVP_MD* sha384Md() {
  static const EVP_MD* md = EVP_MD_fetch(nullptr, "SHA384", nullptr);
  return md;
}

const EVP_MD* sha256Md() {
  static const EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

Bytes zeroPage() {
  static const std::array<std::byte, kPageSize> zeros{};
  return Bytes(zeros);
}

const std::array<std::byte, 48>& zeroPageSha384() {
  static const std::array<std::byte, 48> digest = [] {
    std::array<std::byte, 48> d{};
    unsigned int len = 0;
    EVP_Digest(zeroPage().data(), zeroPage().size(), reinterpret_cast<unsigned char*>(d.data()),
               &len, sha384Md(), nullptr);
    return d;
  }();
  return digest;
}

Status Hasher::init() {
  if (md_ == nullptr || ctx_ == nullptr || EVP_DigestInit_ex(ctx_.get(), md_, nullptr) != 1) {
    return internal("openssl digest initialisation failed");
  }
  return okStatus();
}

Status Hasher::update(Bytes data) {
  if (data.empty()) {
    return okStatus();
  }
  if (EVP_DigestUpdate(ctx_.get(), data.data(), data.size()) != 1) {
    return internal("openssl digest update failed");
  }
  return okStatus();
}

Status Hasher::finish(std::byte* out) {
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx_.get(), reinterpret_cast<unsigned char*>(out), &len) != 1) {
    return internal("openssl digest finalisation failed");
  }
  return okStatus();
}

Status Hasher::snapshot(std::byte* out) const {
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> copy(EVP_MD_CTX_new());
  unsigned int len = 0;
  if (copy == nullptr || EVP_MD_CTX_copy_ex(copy.get(), ctx_.get()) != 1 ||
      EVP_DigestFinal_ex(copy.get(), reinterpret_cast<unsigned char*>(out), &len) != 1) {
    return internal("openssl digest snapshot failed");
  }
  return okStatus();
}

Status Hasher::copyFrom(const Hasher& other) {
  if (ctx_ == nullptr || EVP_MD_CTX_copy_ex(ctx_.get(), other.ctx_.get()) != 1) {
    return internal("openssl digest copy failed");
  }
  return okStatus();
}

}  // namespace impl

Result<Sha384Digest> sha384(Bytes data) {
  impl::Hasher h(impl::sha384Md());
  Sha384Digest out;
  IGVMKIT_RETURN_IF_ERROR(h.init());
  IGVMKIT_RETURN_IF_ERROR(h.update(data));
  IGVMKIT_RETURN_IF_ERROR(h.finish(out.data()));
  return out;
}

Result<Sha384Digest> sha384Page(Bytes contents) {
  // IGVM page data is at most one page; larger data is the caller's job to split (§1.2).
  if (contents.size() > kPageSize) {
    return invalid("page.too_large", "page contents of " + hex(contents.size()) +
                                         " bytes exceed the 0x1000-byte page");
  }
  if (contents.empty()) {
    return impl::zeroPageSha384();
  }
  impl::Hasher h(impl::sha384Md());
  Sha384Digest out;
  IGVMKIT_RETURN_IF_ERROR(h.init());
  IGVMKIT_RETURN_IF_ERROR(h.update(contents));
  IGVMKIT_RETURN_IF_ERROR(h.update(impl::zeroPage().subspan(contents.size())));
  IGVMKIT_RETURN_IF_ERROR(h.finish(out.data()));
  return out;
}

}  // namespace igvmkit::measure
