#include "measure/parallel.h"

#include <algorithm>
#include <functional>
#include <system_error>
#include <thread>

#include "measure/internal/hash.h"
#include "measure/internal/hash_pipeline.h"
#include "measure/internal/view_reader.h"

namespace igvmkit::measure {
namespace {

// Whether ops[i]'s contents are hashed from its view (not a digest given, not a type without).
bool hashesContents(const SnpPageOp& op) {
  return snpPageTypeHasContents(op.type) && !op.contents_digest && !op.contents.empty();
}

// The bytes from ops[i]'s view on that the views of ops i, i+1, ... (before `end`) cover while
// they follow each other in the file, up to ViewReader::kWindowBytes: one read for a run of
// pages, and nothing read that another hashing call will read.
size_t runBytes(std::span<const SnpPageOp> ops, size_t i, size_t end) {
  const std::byte* start = ops[i].contents.data();
  size_t bytes = ops[i].contents.size();
  for (size_t j = i + 1;
       j < end && hashesContents(ops[j]) && ops[j].contents.data() == start + bytes &&
       bytes + ops[j].contents.size() <= impl::ViewReader::kWindowBytes;
       ++j) {
    bytes += ops[j].contents.size();
  }
  return bytes;
}

// Hashes ops[i].contents into out[i] for i in [begin, end) that have contents.
Status hashRange(std::span<const SnpPageOp> ops, std::span<Sha384Digest> out, size_t begin,
                 size_t end, const MappedFile* source) {
  impl::Hasher h(impl::sha384Md());
  impl::ViewReader reader(source);  // ParallelOptions::source
  for (size_t i = begin; i < end; ++i) {
    if (!snpPageTypeHasContents(ops[i].type)) {
      out[i] = Sha384Digest{};
      continue;
    }
    if (ops[i].contents_digest) {
      out[i] = *ops[i].contents_digest;
      continue;
    }
    if (ops[i].contents.empty()) {
      out[i] = impl::zeroPageSha384();
      continue;
    }
    const Bytes view = ops[i].contents;
    const size_t ahead = reader.needsRead(view) ? runBytes(ops, i, end) : 0;
    IGVMKIT_ASSIGN_OR_RETURN(Bytes c, reader.read(view, ahead));
    IGVMKIT_RETURN_IF_ERROR(h.init());
    IGVMKIT_RETURN_IF_ERROR(h.update(c));
    IGVMKIT_RETURN_IF_ERROR(h.update(impl::zeroPage().subspan(c.size())));
    IGVMKIT_RETURN_IF_ERROR(h.finish(out[i].data()));
  }
  return okStatus();
}

// Runs work(begin, end) over [0, n) split into `threads` parts, each on its own std::thread (a part
// whose thread cannot be started runs on the calling thread); the first error wins.
Status splitAcross(size_t n, size_t threads, const std::function<Status(size_t, size_t)>& work) {
  threads = std::min(threads, n);
  if (threads <= 1) {
    return work(0, n);
  }
  std::vector<Status> results(threads);
  std::vector<std::thread> workers;
  size_t done_inline_from = threads;  // workers that could not start run here instead
  for (size_t t = 0; t < threads; ++t) {
    const size_t begin = n * t / threads;
    const size_t end = n * (t + 1) / threads;
    try {
      workers.emplace_back([&results, &work, t, begin, end] { results[t] = work(begin, end); });
    } catch (const std::system_error&) {
      done_inline_from = t;
      break;
    }
  }
  for (size_t t = done_inline_from; t < threads; ++t) {
    results[t] = work(n * t / threads, n * (t + 1) / threads);
  }
  for (std::thread& w : workers) {
    w.join();
  }
  for (const Status& s : results) {
    IGVMKIT_RETURN_IF_ERROR(s);
  }
  return okStatus();
}

}  // namespace

Status hashPages(std::span<const Bytes> pages, std::span<Sha384Digest> out, unsigned threads) {
  if (out.size() != pages.size()) {
    return internal("hashPages: " + std::to_string(out.size()) + " digests for " +
                    std::to_string(pages.size()) + " pages");
  }
  for (Bytes p : pages) {
    if (p.size() > kPageSize) {
      return invalid("page.too_large", "page data of " + hex(p.size()) + " bytes exceeds 0x1000");
    }
  }
  return splitAcross(pages.size(), threads, [&](size_t begin, size_t end) -> Status {
    impl::Hasher h(impl::sha384Md());
    for (size_t i = begin; i < end; ++i) {
      if (pages[i].empty()) {
        out[i] = impl::zeroPageSha384();
        continue;
      }
      IGVMKIT_RETURN_IF_ERROR(h.init());
      IGVMKIT_RETURN_IF_ERROR(h.update(pages[i]));
      IGVMKIT_RETURN_IF_ERROR(h.update(impl::zeroPage().subspan(pages[i].size())));
      IGVMKIT_RETURN_IF_ERROR(h.finish(out[i].data()));
    }
    return okStatus();
  });
}

SnpPageStream::SnpPageStream(SnpLaunchDigest& ld, ParallelOptions options)
    : ld_(ld), options_(options) {
  options_.threads = std::max(1u, options_.threads);
  options_.batch_pages = std::max<size_t>(1, options_.batch_pages);
  pending_.reserve(options_.batch_pages);
  pipeline_ = std::make_unique<impl::HashPipeline>(options_.threads);
}

SnpPageStream::~SnpPageStream() = default;

Status SnpPageStream::add(const SnpPageOp& op) {
  IGVMKIT_RETURN_IF_ERROR(error_);
  if (snpPageTypeHasContents(op.type) && !op.contents_digest && op.contents.size() > kPageSize) {
    // Everything before it goes into the chain; addPage then refuses it, exactly as serially.
    IGVMKIT_RETURN_IF_ERROR(finish());
    error_ = ld_.addPage(op.gpa, op.type, op.contents);
    return error_;
  }
  pending_.push_back(op);
  if (pending_.size() < options_.batch_pages) {
    return okStatus();
  }
  IGVMKIT_RETURN_IF_ERROR(submitPending());
  // One batch hashes in the background while the caller queues the next; with one thread there
  // is nothing to overlap and the batch is folded at once.
  const size_t keep = options_.threads > 1 ? 1 : 0;
  while (in_flight_.size() > keep) {
    IGVMKIT_RETURN_IF_ERROR(foldOldest());
  }
  return okStatus();
}

Status SnpPageStream::finish() {
  IGVMKIT_RETURN_IF_ERROR(error_);
  IGVMKIT_RETURN_IF_ERROR(submitPending());
  while (!in_flight_.empty()) {
    IGVMKIT_RETURN_IF_ERROR(foldOldest());
  }
  return okStatus();
}

Status SnpPageStream::submitPending() {
  if (pending_.empty()) {
    return okStatus();
  }
  Batch& b = in_flight_.emplace_back();
  b.ops.swap(pending_);
  pending_.reserve(options_.batch_pages);
  b.digests.assign(b.ops.size(), Sha384Digest{});
  std::span<const SnpPageOp> ops(b.ops);
  std::span<Sha384Digest> out(b.digests);
  b.ticket =
      pipeline_->submit(ops.size(), [ops, out, source = options_.source](size_t begin, size_t end) {
        return hashRange(ops, out, begin, end, source);
      });
  return okStatus();
}

Status SnpPageStream::foldOldest() {
  Batch& b = in_flight_.front();
  Status s = pipeline_->wait(b.ticket);
  // The serial part: fold each page into the chain in order.
  for (size_t i = 0; s.ok() && i < b.ops.size(); ++i) {
    s = ld_.addPageWithContentsDigest(b.ops[i].gpa, b.ops[i].type, b.digests[i]);
  }
  in_flight_.pop_front();
  if (!s.ok()) {
    error_ = s;
  }
  return s;
}

Status measureSnpPages(SnpLaunchDigest& ld, std::span<const SnpPageOp> ops,
                       ParallelOptions options) {
  SnpPageStream stream(ld, options);
  for (const SnpPageOp& op : ops) {
    IGVMKIT_RETURN_IF_ERROR(stream.add(op));
  }
  return stream.finish();
}

}  // namespace igvmkit::measure
