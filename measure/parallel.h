// measure/parallel.h: the SNP launch digest over many pages, with page-content hashes computed on
// several threads.
//
// The chain itself is inherently serial (each PAGE_INFO holds the previous LD), but the SHA-384
// of each NORMAL/VMSA page's 4 KiB is independent of it and is where the time goes. Operations are
// gathered into bounded batches; a full batch's content hashes start in the background
// (measure/internal/hash_pipeline.h: N - 1 worker threads, started once) while the caller goes on
// queueing the next batch, and the previous batch is folded into the chain in order on the
// calling thread, which hashes too whenever it would otherwise wait. The result (and every trace
// record) is identical to serial SnpLaunchDigest::addPage calls, whatever N is.
//
// Contents are views (for example into a memory-mapped IGVM file), never copied; they must stay
// valid until the batch holding them is folded in, i.e. until finish() returns.
//
//   measure::SnpLaunchDigest ld;
//   measure::SnpPageStream stream(ld, {.threads = 4});
//   for (...) { IGVMKIT_RETURN_IF_ERROR(stream.add({gpa, SnpPageType::kNormal, page_view})); }
//   IGVMKIT_RETURN_IF_ERROR(stream.finish());
//   std::string text = hexDigest(ld.digest());
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "base/bytes.h"
#include "base/file.h"
#include "base/status.h"
#include "measure/digest.h"
#include "measure/snp.h"

namespace igvmkit::measure::impl {
class HashPipeline;
}  // namespace igvmkit::measure::impl

namespace igvmkit::measure {

// One SNP_LAUNCH_UPDATE of one 4 KiB page, as SnpLaunchDigest::addPage takes it.
struct SnpPageOp {
  uint64_t gpa = 0;
  SnpPageType type = SnpPageType::kNormal;
  Bytes contents;  // at most 4096 bytes, zero-padded; ignored for types without contents
  // The SHA-384 of the zero-padded contents when the caller already has it (one content hash
  // shared by several chains, measure::MeasureStream); `contents` then need not stay valid.
  std::optional<Sha384Digest> contents_digest = std::nullopt;
};

struct ParallelOptions {
  unsigned threads = 1;       // hashing threads (1 = hash on the calling thread); 0 counts as 1
  size_t batch_pages = 1024;  // operations per batch (bounds memory: 48 bytes of digest each)
  // The mapped file that contents are views into, if any: the hashing threads then read each run
  // of contiguous pages with MappedFile::readView (pread) into a buffer of their own instead of
  // through the mapping, which is cheaper on a virtual machine (base/file.h says why).
  const MappedFile* source = nullptr;
};

class SnpPageStream {
 public:
  SnpPageStream(SnpLaunchDigest& ld, ParallelOptions options);
  ~SnpPageStream();  // joins the hashing threads (nothing queued is folded)
  SnpPageStream(const SnpPageStream&) = delete;
  SnpPageStream& operator=(const SnpPageStream&) = delete;

  // Queues one page. A full batch starts hashing and the batch before it is folded into the chain
  // before this returns. Errors are those of SnpLaunchDigest::addPage, reported for the failing
  // operation; pages before it are folded in, none after it, and the stream refuses further pages.
  Status add(const SnpPageOp& op);

  // Hashes and folds in everything queued. May be called again after more add()s.
  Status finish();

 private:
  struct Batch {
    std::vector<SnpPageOp> ops;
    std::vector<Sha384Digest> digests;
    uint64_t ticket = 0;  // its job in pipeline_
  };
  Status submitPending();
  Status foldOldest();
  SnpLaunchDigest& ld_;
  ParallelOptions options_;
  std::vector<SnpPageOp> pending_;
  std::deque<Batch> in_flight_;  // submitted, not folded; oldest first
  Status error_;                 // the first error: the chain stopped there
  std::unique_ptr<impl::HashPipeline> pipeline_;  // last: joined before the batches go
};

// The SHA-384 of each zero-padded 4 KiB page (empty = the zero page) on `threads` threads:
// the content hash SNP_LAUNCH_UPDATE puts in PAGE_INFO, computed once when several chains need it.
// "page.too_large" for a page over 4096 bytes.
Status hashPages(std::span<const Bytes> pages, std::span<Sha384Digest> out, unsigned threads);

// All of `ops`, in order, into `ld`.
Status measureSnpPages(SnpLaunchDigest& ld, std::span<const SnpPageOp> ops,
                       ParallelOptions options);

}  // namespace igvmkit::measure
