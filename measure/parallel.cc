#include "measure/parallel.h"

#include <algorithm>
#include <functional>
#include <system_error>
#include <thread>

#include "measure/internal/hash.h"

namespace igvmkit::measure {
namespace {

// Hashes ops[i].contents into out[i] for i in [begin, end) that have contents.
Status hashRange(std::span<const SnpPageOp> ops, std::span<Sha384Digest> out, size_t begin,
                 size_t end) {
  impl::Hasher h(impl::sha384Md());
  for (size_t i = begin; i < end; ++i) {
    if (!snpPageTypeHasContents(ops[i].type)) {
      out[i] = Sha384Digest{};
      continue;
    }
    if (ops[i].contents_digest) {
      out[i] = *ops[i].contents_digest;
      continue;
    }
    Bytes c = ops[i].contents;
    if (c.empty()) {
      out[i] = impl::zeroPageSha384();
      continue;
    }
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
}

Status SnpPageStream::add(const SnpPageOp& op) {
  pending_.push_back(op);
  if (pending_.size() >= options_.batch_pages) {
    return flush();
  }
  return okStatus();
}

Status SnpPageStream::finish() { return flush(); }

Status SnpPageStream::flush() {
  std::vector<SnpPageOp> ops;
  ops.swap(pending_);
  pending_.reserve(options_.batch_pages);
  // Hash only the prefix before the first operation the chain would refuse, so the error is
  // reported in order and nothing after it is hashed for nothing.
  size_t valid = 0;
  while (valid < ops.size() &&
         !(snpPageTypeHasContents(ops[valid].type) && ops[valid].contents.size() > kPageSize)) {
    ++valid;
  }
  digests_.assign(valid, Sha384Digest{});
  std::span<const SnpPageOp> view(ops.data(), valid);
  std::span<Sha384Digest> out(digests_);

  IGVMKIT_RETURN_IF_ERROR(splitAcross(valid, options_.threads, [&](size_t begin, size_t end) {
    return hashRange(view, out, begin, end);
  }));
  // The serial part: fold each page into the chain in order.
  for (size_t i = 0; i < ops.size(); ++i) {
    if (i == valid) {
      // Let addPage produce the error for the oversized page, exactly as serially.
      return ld_.addPage(ops[i].gpa, ops[i].type, ops[i].contents);
    }
    IGVMKIT_RETURN_IF_ERROR(ld_.addPageWithContentsDigest(ops[i].gpa, ops[i].type, digests_[i]));
  }
  return okStatus();
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
