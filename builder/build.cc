#include "builder/build.h"

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <mutex>
#include <span>
#include <optional>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>

#include "base/file.h"
#include "base/memory.h"
#include "builder/layout.h"
#include "igvm/defs.h"
#include "igvm/file.h"
#include "igvm/gpa.h"
#include "igvm/writer.h"
#include "builder/internal/id_block.h"
#include "sign/image.h"
#include "measure/measure.h"

namespace igvmkit::builder {
namespace {

using layout::kPageSize;

uint32_t maskOf(const PlatformList& all, const PlatformList& which) {
  const PlatformList& list = which.empty() ? all : which;
  uint32_t mask = 0;
  for (Platform p : list) {
    mask |= compatibilityBit(all, p);
  }
  return mask;
}

uint32_t parameterType(ParameterKind k) {
  switch (k) {
    case ParameterKind::kVpCount:
      return igvm::kVhtVpCountParameter;
    case ParameterKind::kSrat:
      return igvm::kVhtSrat;
    case ParameterKind::kMadt:
      return igvm::kVhtMadt;
    case ParameterKind::kMmioRanges:
      return igvm::kVhtMmioRanges;
    case ParameterKind::kMemoryMap:
      return igvm::kVhtMemoryMap;
    case ParameterKind::kCommandLine:
      return igvm::kVhtCommandLine;
    case ParameterKind::kSlit:
      return igvm::kVhtSlit;
    case ParameterKind::kPptt:
      return igvm::kVhtPptt;
    case ParameterKind::kDeviceTree:
      return igvm::kVhtDeviceTree;
    case ParameterKind::kEnvironmentInfo:
      return igvm::kVhtEnvironmentInfoParameter;
  }
  return igvm::kVhtInvalid;
}

igvm::PageDataType pageType(PageDataType t) {
  switch (t) {
    case PageDataType::kNormal:
      return igvm::PageDataType::kNormal;
    case PageDataType::kSecrets:
      return igvm::PageDataType::kSecrets;
    case PageDataType::kCpuid:
      return igvm::PageDataType::kCpuidData;
    case PageDataType::kCpuidXf:
      return igvm::PageDataType::kCpuidXf;
  }
  return igvm::PageDataType::kNormal;
}

}  // namespace

uint32_t compatibilityBit(const PlatformList& platforms, Platform p) {
  for (size_t i = 0; i < platforms.size(); ++i) {
    if (platforms[i] == p) {
      return 1u << i;
    }
  }
  return 0;
}

namespace {

// What build() and buildTo() write, in file order (build.h). A region with a PageSource gives
// PAGE_DATA entries whose data is deferred (Entry::deferred) for the pages inside its file.
igvm::Model modelOf(const Manifest& manifest, Image& image, BuildOutput& out) {
  out.platforms = manifest.platforms();
  const PlatformList& all = out.platforms;
  igvm::Model model;
  size_t pages = 0;
  for (const Region& region : image.regions) {
    pages += region.pages.size();
  }
  model.directives.reserve(pages + 64);

  for (Platform p : all) {
    const uint32_t bit = compatibilityBit(all, p);
    out.masks.push_back(bit);
    const uint8_t highest_vtl = p == Platform::kVbs ? manifest.vbs->vtl : 0;
    const uint64_t shared_gpa_boundary = p == Platform::kSnp   ? manifest.snp->shared_gpa_boundary
                                         : p == Platform::kTdx ? manifest.tdx->shared_gpa_boundary
                                                               : 0;
    model.add(
        igvm::platformEntry(measure::igvmPlatformType(p), bit, highest_vtl, shared_gpa_boundary));
  }
  for (Platform p : all) {
    igvm::IGVM_VHS_GUEST_POLICY policy{};
    policy.compatibility_mask = compatibilityBit(all, p);
    if (p == Platform::kSnp) {
      policy.policy = manifest.snp->policy;
    } else if (p == Platform::kTdx) {
      policy.policy = manifest.tdx->policy();
    } else {
      continue;
    }
    model.add(igvm::makeEntry(igvm::kVhtGuestPolicy, policy));
  }

  // Relocation headers for the non-confidential platforms only: SNP and TDX digests cover GPAs,
  // so their images never move (loader/relocation.h); the VBS VP context the parser requires
  // for these headers comes later, with the other VP contexts.
  const uint32_t movable = compatibilityBit(all, Platform::kNative) |
                           compatibilityBit(all, Platform::kVbs);
  for (const RelocatableRange& r : image.relocatable) {
    const Relocation& rel = r.relocation;
    const uint8_t flags = (rel.apply_rip ? igvm::kRelocationFlagApplyPc : 0) |
                          (rel.apply_gdtr ? igvm::kRelocationFlagApplyGdtr : 0);
    model.add(igvm::relocatableRegionEntry(movable, r.gpa, r.size, rel.alignment, rel.minimum,
                                           rel.maximum, flags));
  }
  if (image.page_table_region) {
    const PageTableRange& t = *image.page_table_region;
    model.add(igvm::pageTableRelocationEntry(movable, t.gpa, t.size, t.used_size));
  }

  for (Region& region : image.regions) {
    const uint32_t mask = maskOf(all, region.platforms);
    uint32_t flags = 0;
    if (region.unmeasured) {
      flags |= igvm::kPageDataFlagUnmeasured;
    }
    if (region.shared) {
      flags |= igvm::kPageDataFlagShared;
    }
    const uint64_t streamed = region.source ? region.source->file->size() : 0;
    for (size_t i = 0; i < region.pages.size(); ++i) {
      Page& page = region.pages[i];
      igvm::Entry e = igvm::pageDataEntry(page.gpa, mask, igvm::Blob(std::move(page.bytes)),
                                          flags, pageType(region.type));
      e.deferred = i * kPageSize < streamed;
      model.add(std::move(e));
      ++out.page_data_directives;
    }
  }

  for (size_t i = 0; i < image.parameter_areas.size(); ++i) {
    const ParameterArea& area = image.parameter_areas[i];
    const auto index = static_cast<uint32_t>(i);
    model.add(igvm::parameterAreaEntry(index, area.size));
    for (const Parameter& param : area.parameters) {
      model.add(igvm::parameterEntry(parameterType(param.kind), index, param.byte_offset));
    }
    model.add(igvm::parameterInsertEntry(area.gpa, maskOf(all, area.platforms), index));
  }

  for (const RequiredMemory& rm : image.required_memory) {
    igvm::IGVM_VHS_REQUIRED_MEMORY r{};
    r.gpa = rm.gpa;
    r.compatibility_mask = maskOf(all, {});
    r.number_of_bytes = rm.size;
    r.flags = rm.vtl2_protectable ? igvm::kRequiredMemoryFlagVtl2Protectable : 0;
    model.add(igvm::makeEntry(igvm::kVhtRequiredMemory, r));
  }

  for (VpContext& vp : image.vp_contexts) {
    model.add(igvm::vpContextEntry(vp.gpa, compatibilityBit(all, vp.platform), vp.vp_index,
                                   igvm::Blob(std::move(vp.bytes))));
  }

  return model;
}

}  // namespace

Result<BuildOutput> build(const Manifest& manifest, const FileReader& read,
                          const SigningOptions& signing) {
  IGVMKIT_ASSIGN_OR_RETURN(Image image, layoutImage(manifest, read));
  BuildOutput out;
  igvm::Model model = modelOf(manifest, image, out);
  IGVMKIT_ASSIGN_OR_RETURN(out.igvm, igvm::write(model, {.version = igvm::kFormatVersion1}));
  if (manifest.snp && manifest.snp->id_block) {
    // The ID block is not measured: it signs the digest of the file without it (sign/ pipeline).
    IGVMKIT_ASSIGN_OR_RETURN(out.igvm, internal::addIdBlock(manifest, out.igvm, read, signing,
                                                            out.reused_signature));
  }
  return out;
}

namespace {

// What `--measurements` holds, in order: SNP under kvm for 1..vcpus, SNP under mshv, TDX, VBS.
std::vector<measure::MeasureOptions> measurementsOf(const Manifest& manifest) {
  std::vector<measure::MeasureOptions> out;
  if (manifest.snp) {
    // An SNP [firmware] launch holds one VMSA per vCPU, and QEMU refuses it with fewer vCPUs.
    const bool vmsa_per_vcpu = manifest.firmware && manifest.vp.mode == EntryMode::kReset;
    for (uint32_t n = vmsa_per_vcpu ? manifest.snp->vcpus : 1; n <= manifest.snp->vcpus; ++n) {
      out.push_back({.platform = measure::Platform::kSnp,
                     .host = measure::HostModel::kKvm,
                     .vcpus = n,
                     .threads = 1});
    }
    out.push_back(
        {.platform = measure::Platform::kSnp, .host = measure::HostModel::kMshv, .threads = 1});
  }
  if (manifest.tdx) {
    out.push_back({.platform = measure::Platform::kTdx});
  }
  if (manifest.vbs) {
    out.push_back({.platform = measure::Platform::kVbs});
  }
  return out;
}

// The output file as the writer's sink. Appends are gathered into 1 MiB writes (one write(2) per
// 4 KiB page costs more system time than the copy itself), and each full buffer is written by a
// background thread while the next one fills, so the kernel's copy into the page cache overlaps
// reading and hashing. writeAt(), readAt() and flush() first wait for that write; its error is
// reported by the next call. Without a thread (the system refused one) every write is inline.
class OutputSink : public igvm::WriteSink {
 public:
  static constexpr size_t kBufferBytes = size_t{1} << 20;

  explicit OutputSink(OutputFile& out) : out_(out) {
    try {
      writer_ = std::thread([this] { writeLoop(); });
    } catch (const std::system_error&) {
      // no thread: hand() writes inline
    }
  }
  ~OutputSink() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (writer_.joinable()) {
      writer_.join();
    }
  }

  Status append(Bytes bytes) override {
    if (filled_ + bytes.size() > kBufferBytes) {
      IGVMKIT_RETURN_IF_ERROR(hand());
      if (bytes.size() > kBufferBytes) {
        IGVMKIT_RETURN_IF_ERROR(idle());
        return out_.write(bytes);
      }
    }
    std::copy(bytes.begin(), bytes.end(), buffer(filling_).subspan(filled_).begin());
    filled_ += bytes.size();
    return okStatus();
  }
  Status writeAt(uint64_t offset, Bytes bytes) override {
    IGVMKIT_RETURN_IF_ERROR(flush());
    return out_.writeAt(offset, bytes);
  }
  Status readAt(uint64_t offset, std::span<std::byte> out) override {
    IGVMKIT_RETURN_IF_ERROR(flush());
    return out_.readAt(offset, out);
  }
  // Everything appended is in the file.
  Status flush() {
    IGVMKIT_RETURN_IF_ERROR(hand());
    return idle();
  }

 private:
  // Gives the filled buffer to the writer thread (after its previous write is done).
  Status hand() {
    if (filled_ == 0) {
      return okStatus();
    }
    IGVMKIT_RETURN_IF_ERROR(idle());
    const Bytes full = buffer(filling_).first(filled_);
    filled_ = 0;
    if (!writer_.joinable()) {
      return out_.write(full);
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      writing_ = full;
      busy_ = true;
    }
    cv_.notify_all();
    filling_ ^= 1;
    return okStatus();
  }
  // Waits until the writer thread has nothing in hand; its write's status.
  Status idle() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return !busy_; });
    return std::exchange(written_, okStatus());
  }
  void writeLoop() {
    std::unique_lock<std::mutex> lock(mu_);
    while (true) {
      cv_.wait(lock, [this] { return stop_ || busy_; });
      if (!busy_) {
        return;  // stop_ with nothing in hand
      }
      lock.unlock();
      Status s = out_.write(writing_);
      lock.lock();
      writing_ = {};
      written_ = std::move(s);
      busy_ = false;
      cv_.notify_all();
    }
  }

  std::span<std::byte> buffer(size_t i) {
    return std::span(buffers_).subspan(i * kBufferBytes, kBufferBytes);
  }

  OutputFile& out_;
  // Two buffers in one huge-page block (base/memory.h): the caller fills buffer(filling_) while
  // the writer thread writes the other.
  HugeVector<std::byte> buffers_ = HugeVector<std::byte>(2 * kBufferBytes);
  size_t filling_ = 0;  // the caller's
  size_t filled_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  Bytes writing_;  // the writer thread's while busy_
  bool busy_ = false;
  bool stop_ = false;
  Status written_;      // the last background write's status, until idle() reports it
  std::thread writer_;  // last: started once the members it uses exist
};

// The bytes of the deferred PAGE_DATA entries, in model order: each streamed region's file, read
// kChunkPages at a time into two buffers in turn (the memory bound of a streaming build), so the
// measurements can still hash one buffer while the next is read and written. `before_reuse` runs
// before a buffer is refilled; after it, whoever held views into that buffer (the measurements,
// MeasureStream::advance()) must be done with them, but not with the other buffer's.
class PageReader {
 public:
  // 1 MiB: a read costs little per page, and the two buffers fill one 2 MiB huge page.
  static constexpr uint64_t kChunkPages = 256;
  static constexpr uint64_t kChunkBytes = kChunkPages * kPageSize;

  PageReader(const std::vector<Region>& regions,
             std::function<void(uint64_t, uint64_t)> progress)
      : progress_(std::move(progress)) {
    for (const Region& r : regions) {
      if (r.source) {
        files_.push_back(r.source->file.get());
        total_ += r.source->file->size();
      }
    }
  }
  void beforeReuse(std::function<Status()> before_reuse) { before_reuse_ = std::move(before_reuse); }

  Result<Bytes> next() {
    while (file_ < files_.size() && page_ * kPageSize >= files_[file_]->size()) {
      ++file_;
      page_ = 0;
      chunk_pages_ = 0;
    }
    if (file_ == files_.size()) {
      return ::igvmkit::internal("a deferred page past the end of every streamed file");
    }
    const InputFile& f = *files_[file_];
    if (page_ >= chunk_first_ + chunk_pages_ || chunk_pages_ == 0) {
      IGVMKIT_RETURN_IF_ERROR(before_reuse_());
      current_ ^= 1;
      if (buffers_.empty()) {
        buffers_.resize(2 * kChunkBytes);
      }
      const std::span<std::byte> buffer = this->buffer(current_);
      const uint64_t offset = page_ * kPageSize;
      const uint64_t bytes = std::min<uint64_t>(f.size() - offset, kChunkBytes);
      chunk_first_ = page_;
      chunk_pages_ = (bytes + kPageSize - 1) / kPageSize;
      IGVMKIT_RETURN_IF_ERROR(f.read(offset, buffer.first(bytes)));
      read_ += bytes;
      if (progress_) {
        progress_(read_, total_);
      }
      std::fill(buffer.begin() + static_cast<ptrdiff_t>(bytes),
                buffer.begin() + static_cast<ptrdiff_t>(chunk_pages_ * kPageSize), std::byte{0});
    }
    Bytes page = buffer(current_).subspan((page_ - chunk_first_) * kPageSize, kPageSize);
    ++page_;
    return allZero(page) ? Bytes{} : page;  // as PageSet::pages(): no bytes for a zero page
  }

  // Every streamed file is as it was when layoutImage() opened it.
  Status unchanged() const {
    for (const InputFile* f : files_) {
      IGVMKIT_RETURN_IF_ERROR(f->unchanged());
    }
    return okStatus();
  }

 private:
  std::function<Status()> before_reuse_ = [] { return okStatus(); };
  std::function<void(uint64_t, uint64_t)> progress_;
  uint64_t read_ = 0, total_ = 0;  // bytes of every file
  std::vector<const InputFile*> files_;
  size_t file_ = 0;
  uint64_t page_ = 0;  // next page of files_[file_]
  uint64_t chunk_first_ = 0, chunk_pages_ = 0;
  std::span<std::byte> buffer(size_t i) {
    return std::span(buffers_).subspan(i * kChunkBytes, kChunkBytes);
  }

  // Two chunk buffers in one huge-page block (base/memory.h), allocated by the first read.
  HugeVector<std::byte> buffers_;
  size_t current_ = 1;  // the buffer holding chunk_first_; the first read goes to buffer(0)
};

}  // namespace

Result<StreamedBuild> buildTo(const Manifest& manifest, OutputFile& output,
                              const StreamOptions& options) {
  if (manifest.snp && manifest.snp->id_block) {
    return ::igvmkit::internal("buildTo: an SNP ID block is signed over the finished file; use build()");
  }
  if (!output.seekable()) {
    return ::igvmkit::internal("buildTo: " + output.name() +
                               " cannot be written at an offset; use build()");
  }
  IGVMKIT_ASSIGN_OR_RETURN(Image image,
                           layoutImage(manifest, diskReader(), {.stream_data = true}));
  StreamedBuild result;
  igvm::Model model = modelOf(manifest, image, result.summary);

  // Declared before the measurements: their hashing threads may read its buffers until they are
  // joined, so the buffers must outlive them on every path.
  PageReader pages(image.regions, options.progress);
  std::optional<measure::MeasureStream> measuring;
  std::vector<uint32_t> measured_bits;
  if (options.measure) {
    std::vector<measure::MeasureStream::Target> targets;
    for (const measure::MeasureOptions& o : measurementsOf(manifest)) {
      targets.push_back({o, compatibilityBit(result.summary.platforms, o.platform)});
      measured_bits.push_back(targets.back().bit);
    }
    measuring.emplace(std::move(targets), options.threads);
  }
  pages.beforeReuse([&measuring] { return measuring ? measuring->advance() : okStatus(); });
  OutputSink sink(output);
  igvm::StreamHooks hooks{
      .data = [&pages](const igvm::Entry&) { return pages.next(); },
      .header = [&measuring](const igvm::Header& h) {
        return measuring ? measuring->add(h) : okStatus();
      }};
  IGVMKIT_ASSIGN_OR_RETURN(result.size,
                           igvm::writeTo(model, {.version = igvm::kFormatVersion1}, sink, hooks));
  IGVMKIT_RETURN_IF_ERROR(sink.flush());
  IGVMKIT_RETURN_IF_ERROR(pages.unchanged());
  // The parser's rules over the final bytes, as write() applies them in memory. Parsing reads the
  // header section (and the VP contexts), not the page data, so the mapping costs about the
  // headers' size in memory.
  IGVMKIT_ASSIGN_OR_RETURN(MappedFile written, output.mapWritten());
  IGVMKIT_ASSIGN_OR_RETURN(igvm::File file, igvm::File::parse(written.bytes()));
  if (measuring) {
    // What measure() refuses before it hashes (igvm/gpa.h), the stream checks over the result.
    for (uint32_t bit : measured_bits) {
      IGVMKIT_RETURN_IF_ERROR(igvm::checkPlatformGpas(file, bit));
    }
    IGVMKIT_ASSIGN_OR_RETURN(std::vector<measure::Measurement> all, measuring->finish());
    measure::ReferenceValues ref = measure::toReference(all);
    IGVMKIT_RETURN_IF_ERROR(sign::addIdentity(file, ref));
    result.measurements = std::move(ref);
  }
  return result;
}

Result<measure::ReferenceValues> measureBuilt(const Manifest& manifest, Bytes igvm) {
  IGVMKIT_ASSIGN_OR_RETURN(igvm::File file, igvm::File::parse(igvm));
  std::vector<measure::Measurement> all;
  for (const measure::MeasureOptions& o : measurementsOf(manifest)) {
    IGVMKIT_ASSIGN_OR_RETURN(measure::Measurement m, measure::measure(file, o));
    all.push_back(std::move(m));
  }
  measure::ReferenceValues ref = measure::toReference(all);
  IGVMKIT_RETURN_IF_ERROR(sign::addIdentity(file, ref));  // what a verifier pins, when signed
  return ref;
}

}  // namespace igvmkit::builder
