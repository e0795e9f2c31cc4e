// libFuzzer target: parse; if the file is valid, model -> write -> parse must succeed and give
// the same headers, and writing again must give the same bytes. Also exercises the dumps.
// bazel build --config=fuzz //igvm:parse_fuzz; replayed over igvm/testdata/fuzz/ by
// //igvm:parse_fuzz_replay.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "igvm/dump.h"
#include "igvm/file.h"
#include "igvm/writer.h"

namespace igvmkit::igvm {
namespace {

[[noreturn]] void die(const char* what, const std::string& detail) {
  std::fprintf(stderr, "parse_fuzz: %s: %s\n", what, detail.c_str());
  std::abort();
}

// The header's struct bytes with the fields the writer recomputes zeroed.
ByteVector normalized(const Header& h) {
  HeaderBody body = h.body;
  if (auto* pd = std::get_if<IGVM_VHS_PAGE_DATA>(&body)) pd->file_offset = 0;
  if (auto* pa = std::get_if<IGVM_VHS_PARAMETER_AREA>(&body)) pa->file_offset = 0;
  if (auto* vp = std::get_if<IGVM_VHS_VP_CONTEXT>(&body)) vp->file_offset = 0;
  if (auto* c = std::get_if<IGVM_VHS_CORIM_DATA>(&body)) c->file_offset = 0;
  ByteVector out;
  std::visit(
      [&out](const auto& b) {
        using T = std::decay_t<decltype(b)>;
        if constexpr (std::is_same_v<T, UnknownHeader>) {
          out.assign(b.content.begin(), b.content.end());
        } else if constexpr (std::is_same_v<T, Boxed<IGVM_VHS_SNP_ID_BLOCK>> ||
                             std::is_same_v<T, Boxed<IGVM_VHS_VBS_MEASUREMENT>>) {
          appendStruct(out, *b);
        } else {
          appendStruct(out, b);
        }
      },
      body);
  return out;
}

void expectSame(const File& a, const File& b) {
  if (a.version() != b.version() || a.arch() != b.arch() ||
      a.headers().size() != b.headers().size()) {
    die("round trip", "fixed header or header count differs");
  }
  for (size_t i = 0; i < a.headers().size(); ++i) {
    const Header& x = a.headers()[i];
    const Header& y = b.headers()[i];
    // The writer puts the variable headers right after the fixed header; the input may not.
    uint64_t x_rel = x.offset - a.fixedHeader().variable_header_offset;
    uint64_t y_rel = y.offset - b.fixedHeader().variable_header_offset;
    if (x.index != y.index || x_rel != y_rel || x.type != y.type ||
        x.section != y.section || x.vp_format != y.vp_format) {
      die("round trip", "header #" + std::to_string(x.index) + " framing differs");
    }
    if (normalized(x) != normalized(y)) {
      die("round trip", "header #" + std::to_string(x.index) + " content differs");
    }
    if (x.data.size() != y.data.size() ||
        (!x.data.empty() && std::memcmp(x.data.data(), y.data.data(), x.data.size()) != 0)) {
      die("round trip", "header #" + std::to_string(x.index) + " data differs");
    }
  }
}

void roundTrip(Bytes bytes, bool allow_undeclared) {
  ParseOptions po;
  po.allow_undeclared_mask_bits = allow_undeclared;
  Result<File> file = File::parse(bytes, po);
  if (!file.ok()) {
    if (file.error().rule.empty() || file.error().message.empty()) {
      die("parse", "error without rule or message");
    }
    return;
  }
  (void)dumpJson(*file);
  (void)dumpText(*file);
  // Filtering never fails on a valid file and keeps every platform plus a subset of the rest.
  for (const Header& p : file->platforms()) {
    const auto* sp = p.get<IGVM_VHS_SUPPORTED_PLATFORM>();
    if (sp == nullptr) {
      continue;
    }
    ParseOptions fo = po;
    fo.platform = static_cast<PlatformType>(sp->platform_type);
    Result<File> filtered = File::parse(bytes, fo);
    if (!filtered.ok() || filtered->headers().size() > file->headers().size() ||
        filtered->platforms().size() != file->platforms().size()) {
      die("filter", filtered.ok() ? "header counts" : filtered.error().describe());
    }
  }
  WriteOptions wo;
  wo.version = file->version();
  wo.allow_undeclared_mask_bits = allow_undeclared;
  Result<ByteVector> out = write(fromFile(*file), wo);
  if (!out.ok()) {
    die("write", out.error().rule + ": " + out.error().describe());
  }
  Result<File> again = File::parse(*out, po);
  if (!again.ok()) {
    die("reparse", again.error().rule + ": " + again.error().describe());
  }
  expectSame(*file, *again);
  Result<ByteVector> out2 = write(fromFile(*again), wo);
  if (!out2.ok() || *out2 != *out) {
    die("rewrite", "writing the written file again gives other bytes");
  }
}

}  // namespace
}  // namespace igvmkit::igvm

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  igvmkit::Bytes bytes(reinterpret_cast<const std::byte*>(data), size);
  igvmkit::igvm::roundTrip(bytes, false);
  igvmkit::igvm::roundTrip(bytes, true);
  return 0;
}
