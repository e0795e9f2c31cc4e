// libigvm/c_api.cc: microsoft/igvm's C API (igvm/igvm.h) on igvmkit's parser.
//
// A file is parsed with Conformance::kReference, so it is accepted exactly when the reference's
// C library accepts it (as far as igvm/README.md's rules go) and rejected with the IGVMAPI code
// the reference returns for that fault (referenceResult()). Headers are handed out as the
// reference re-serializes them (normalizedHeader()). No C++ exception or type crosses the C
// boundary: every entry point catches and reports IGVMAPI_INVALID_FILE for the impossible.
#include <algorithm>
#include <atomic>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "igvm/defs.h"
#include "igvm/file.h"
#include "libigvm/include/igvm/igvm.h"

namespace igvmkit::libigvm {
namespace {

using igvm::Header;
using igvm::Section;

struct Instance {
  std::unique_ptr<ByteVector> bytes;  // the caller's data, copied (the File views it)
  std::optional<igvm::File> file;  // set once parsed
  std::map<IgvmHandle, std::vector<uint8_t>> buffers;
};

std::mutex g_mutex;
std::map<IgvmHandle, std::unique_ptr<Instance>> g_files;  // guarded by g_mutex
std::atomic<int32_t> g_next_handle{1};  // one sequence for files and buffers, as the reference
thread_local Error t_last_error;
thread_local bool t_has_last_error = false;

IgvmHandle newHandle() {
  int32_t h = g_next_handle.fetch_add(1, std::memory_order_relaxed);
  return h > 0 ? h : IGVMAPI_INVALID_HANDLE;  // 2^31 handles later: refuse rather than wrap
}

// The IGVMAPI code the reference's parser returns for the fault a rule names (its Error kinds,
// igvm-format.md §7.4; per-header faults are wrapped by the section of the header's type).
IgvmResult referenceResult(const Error& e) {
  const std::string& r = e.rule;
  auto per_header = [&]() -> IgvmResult {
    std::optional<Section> s;
    if (e.location && e.location->header_type) {
      s = igvm::sectionOfType(*e.location->header_type);
    }
    if (!s) {
      return IGVMAPI_INVALID_BINARY_VARIABLE_HEADER_SECTION;
    }
    switch (*s) {
      case Section::kPlatform: return IGVMAPI_INVALID_BINARY_PLATFORM_HEADER;
      case Section::kInitialization: return IGVMAPI_INVALID_BINARY_INITIALIZATION_HEADER;
      case Section::kDirective: return IGVMAPI_INVALID_BINARY_DIRECTIVE_HEADER;
    }
    return IGVMAPI_INVALID_FILE;
  };
  static const std::map<std::string, IgvmResult, std::less<>> kFileLevel = {
      {"fixed.page_size", IGVMAPI_UNSUPPORTED_PAGE_SIZE},
      {"fixed.checksum", IGVMAPI_INVALID_CHECKSUM},
      {"vh.truncated", IGVMAPI_INVALID_BINARY_VARIABLE_HEADER_SECTION},
      {"vh.section_order", IGVMAPI_INVALID_BINARY_VARIABLE_HEADER_SECTION},
      {"vh.no_platform", IGVMAPI_NO_PLATFORM_HEADERS},
      {"platform.duplicate_type", IGVMAPI_MULTIPLE_PLATFORM_HEADERS_WITH_SAME_ISOLATION},
      {"platform.arch", IGVMAPI_PLATFORM_ARCH_UNSUPPORTED},
      {"relocation.overlap", IGVMAPI_RELOCATION_REGIONS_OVERLAP},
      {"relocation.no_vp_context", IGVMAPI_NO_MATCHING_VP_CONTEXT},
      {"page_table.duplicate", IGVMAPI_MULTIPLE_PAGE_TABLE_RELOCATION_HEADERS},
      {"cca_policy.arch", IGVMAPI_INVALID_HEADER_ARCH},
      {"cca_policy.mask", IGVMAPI_INVALID_CCA_POLICY_COMPATIBILITY_MASK},
      {"parameter_area.duplicate", IGVMAPI_INVALID_PARAMETER_AREA_INDEX},
      {"parameter.undeclared_area", IGVMAPI_INVALID_PARAMETER_AREA_INDEX},
      {"parameter.area_inserted", IGVMAPI_INVALID_PARAMETER_AREA_INDEX},
      {"parameter_insert.undeclared_area", IGVMAPI_INVALID_PARAMETER_AREA_INDEX},
      {"parameter_insert.duplicate", IGVMAPI_INVALID_PARAMETER_AREA_INDEX},
      {"parameter_insert.page_table_region", IGVMAPI_PARAMETER_INSERT_INSIDE_PAGE_TABLE_REGION},
  };
  if (auto it = kFileLevel.find(r); it != kFileLevel.end()) {
    return it->second;
  }
  if (r.rfind("fixed.", 0) == 0 || r == "reference.no_file_data") {
    return IGVMAPI_INVALID_FIXED_HEADER;
  }
  if (r == "vh.unknown_type" || r == "vh.entry_bounds" || r == "vh.length" ||
      r == "reference.corim") {
    return per_header();
  }
  // Every other rule the reference enforces is checked on the header alone.
  if (e.location && e.location->header_type) {
    return per_header();
  }
  return IGVMAPI_INVALID_FILE;
}

void fill(const Error& e, IgvmResult result, IgvmkitDiagnostic* out) {
  std::memset(out, 0, sizeof(*out));
  out->result = result;
  out->header_index = -1;
  out->offset = -1;
  if (e.location) {
    if (e.location->header_index) {
      out->header_index = static_cast<int32_t>(*e.location->header_index);
    }
    if (e.location->offset) {
      out->offset = static_cast<int64_t>(*e.location->offset);
    }
  }
  std::strncpy(out->rule, e.rule.c_str(), sizeof(out->rule) - 1);
  std::strncpy(out->message, e.describe().c_str(), sizeof(out->message) - 1);
}

std::span<const Header> sectionOf(const igvm::File& f, IgvmHeaderSection section) {
  switch (section) {
    case IGVM_HEADER_SECTION_PLATFORM: return f.platforms();
    case IGVM_HEADER_SECTION_INITIALIZATION: return f.initializationHeaders();
    case IGVM_HEADER_SECTION_DIRECTIVE: return f.directives();
    default: return {};
  }
}

bool validSection(IgvmHeaderSection section) { return section <= IGVM_HEADER_SECTION_DIRECTIVE; }

template <class T>
void appendEntry(std::vector<uint8_t>& out, uint32_t type, const T& body) {
  IGVM_VHS_VARIABLE_HEADER vh{type, static_cast<uint32_t>(igvm::headerContentSize(type))};
  size_t content = vh.length;
  size_t padded = (content + 7) & ~size_t{7};
  out.resize(sizeof(vh) + padded, 0);
  std::memcpy(out.data(), &vh, sizeof(vh));
  std::memcpy(out.data() + sizeof(vh), &body, std::min(content, sizeof(T)));
}

// The header as the reference's write_binary_header() emits it with a fresh file data serializer:
// file offsets 0, reserved fields 0, flags reduced to the bits it models, and the gpa / vp_index
// that its VP context variants keep (igvm/src/lib.rs, IgvmDirectiveHeader::write_binary_header).
std::vector<uint8_t> normalizedHeader(const Header& h) {
  std::vector<uint8_t> out;
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, igvm::UnknownHeader>) {
          IGVM_VHS_VARIABLE_HEADER vh{h.type, static_cast<uint32_t>(v.content.size())};
          out.resize(sizeof(vh) + ((v.content.size() + 7) & ~size_t{7}), 0);
          std::memcpy(out.data(), &vh, sizeof(vh));
          std::memcpy(out.data() + sizeof(vh), v.content.data(), v.content.size());
        } else if constexpr (std::is_same_v<T, igvm::Boxed<igvm::IGVM_VHS_SNP_ID_BLOCK>> ||
                             std::is_same_v<T, igvm::Boxed<igvm::IGVM_VHS_VBS_MEASUREMENT>>) {
          appendEntry(out, h.type, *v);
        } else {
          T b = v;
          if constexpr (std::is_same_v<T, igvm::IGVM_VHS_PAGE_DATA>) {
            b.file_offset = 0;
            b.reserved = 0;
          } else if constexpr (std::is_same_v<T, igvm::IGVM_VHS_PARAMETER_AREA>) {
            b.file_offset = 0;
          } else if constexpr (std::is_same_v<T, igvm::IGVM_VHS_GUEST_POLICY> ||
                               std::is_same_v<T, igvm::IGVM_VHS_PAGE_TABLE_RELOCATION> ||
                               std::is_same_v<T, igvm::IGVM_VHS_CORIM_DATA>) {
            b.reserved = 0;
          } else if constexpr (std::is_same_v<T, igvm::IGVM_VHS_CCA_POLICY>) {
            b.reserved = 0;
            std::memset(b.reserved2, 0, sizeof(b.reserved2));
          } else if constexpr (std::is_same_v<T, igvm::IGVM_VHS_RELOCATABLE_REGION>) {
            b.flags &= igvm::kRelocationFlagIsVtl2 | igvm::kRelocationFlagApplyPc |
                       igvm::kRelocationFlagApplyGdtr;
          } else if constexpr (std::is_same_v<T, igvm::IGVM_VHS_REQUIRED_MEMORY>) {
            b.flags &= igvm::kRequiredMemoryFlagVtl2Protectable;
            b.reserved = 0;
          } else if constexpr (std::is_same_v<T, igvm::IGVM_VHS_VP_CONTEXT>) {
            b.file_offset = 0;
            b.reserved = 0;
            if (h.vp_format != igvm::VpContextFormat::kSnpVmsa) {
              b.gpa = 0;
            }
          }
          appendEntry(out, h.type, b);
        }
      },
      h.body);
  return out;
}

// Runs `fn` on the instance of `handle` under the lock, or returns IGVMAPI_INVALID_HANDLE.
template <class Fn>
int32_t withInstance(IgvmHandle handle, Fn fn) {
  try {
    std::lock_guard<std::mutex> lock(g_mutex);
    auto it = g_files.find(handle);
    if (it == g_files.end()) {
      return IGVMAPI_INVALID_HANDLE;
    }
    return fn(*it->second);
  } catch (...) {
    return IGVMAPI_INVALID_FILE;  // allocation failure; nothing else throws
  }
}

int32_t storeBuffer(Instance& inst, std::vector<uint8_t> bytes) {
  IgvmHandle h = newHandle();
  if (h < 0) {
    return h;
  }
  inst.buffers.emplace(h, std::move(bytes));
  return h;
}

}  // namespace
}  // namespace igvmkit::libigvm

using namespace igvmkit;          // NOLINT: the C entry points below are outside any namespace
using namespace igvmkit::libigvm;  // NOLINT

extern "C" {

IgvmHandle igvm_new_from_binary(const uint8_t* data, uint32_t len) {
  try {
    t_has_last_error = false;
    if (data == nullptr && len != 0) {
      t_last_error = invalid("api.null_data", "data is NULL but len is " + std::to_string(len));
      t_has_last_error = true;
      return IGVMAPI_INVALID_PARAMETER;
    }
    auto inst = std::make_unique<Instance>(Instance{
        std::make_unique<ByteVector>(reinterpret_cast<const std::byte*>(data),
                                     reinterpret_cast<const std::byte*>(data) + len),
        std::nullopt, {}});
    igvm::ParseOptions opts;
    opts.conformance = igvm::Conformance::kReference;
    Result<igvm::File> file = igvm::File::parse(*inst->bytes, opts);
    if (!file.ok()) {
      t_last_error = file.error();
      t_has_last_error = true;
      return referenceResult(file.error());
    }
    inst->file.emplace(std::move(file).value());
    IgvmHandle h = newHandle();
    if (h < 0) {
      return h;
    }
    std::lock_guard<std::mutex> lock(g_mutex);
    g_files.emplace(h, std::move(inst));
    return h;
  } catch (...) {
    return IGVMAPI_INVALID_FILE;
  }
}

void igvm_free(IgvmHandle handle) {
  std::unique_ptr<Instance> doomed;  // destroyed outside the lock
  std::lock_guard<std::mutex> lock(g_mutex);
  auto it = g_files.find(handle);
  if (it != g_files.end()) {
    doomed = std::move(it->second);
    g_files.erase(it);
  }
}

int32_t igvm_header_count(IgvmHandle handle, IgvmHeaderSection section) {
  return withInstance(handle, [&](Instance& inst) -> int32_t {
    if (!validSection(section)) {
      return IGVMAPI_INVALID_PARAMETER;
    }
    return static_cast<int32_t>(sectionOf(*inst.file, section).size());
  });
}

int32_t igvm_get_header_type(IgvmHandle handle, IgvmHeaderSection section, uint32_t index) {
  return withInstance(handle, [&](Instance& inst) -> int32_t {
    auto headers = sectionOf(*inst.file, section);
    if (!validSection(section) || index >= headers.size()) {
      return IGVMAPI_INVALID_PARAMETER;
    }
    return static_cast<int32_t>(headers[index].type);
  });
}

IgvmHandle igvm_get_header(IgvmHandle handle, IgvmHeaderSection section, uint32_t index) {
  return withInstance(handle, [&](Instance& inst) -> int32_t {
    auto headers = sectionOf(*inst.file, section);
    if (!validSection(section) || index >= headers.size()) {
      return IGVMAPI_INVALID_PARAMETER;
    }
    return storeBuffer(inst, normalizedHeader(headers[index]));
  });
}

IgvmHandle igvm_get_header_data(IgvmHandle handle, IgvmHeaderSection section, uint32_t index) {
  return withInstance(handle, [&](Instance& inst) -> int32_t {
    if (section != IGVM_HEADER_SECTION_INITIALIZATION && section != IGVM_HEADER_SECTION_DIRECTIVE) {
      return IGVMAPI_INVALID_PARAMETER;
    }
    auto headers = sectionOf(*inst.file, section);
    if (index >= headers.size()) {
      return IGVMAPI_INVALID_PARAMETER;
    }
    Bytes data = headers[index].data;
    if (data.empty()) {
      return IGVMAPI_NO_DATA;
    }
    if (data.size() > static_cast<size_t>(INT32_MAX)) {
      return IGVMAPI_INVALID_FILE;  // sizes are reported as int32
    }
    const auto* p = reinterpret_cast<const uint8_t*>(data.data());
    return storeBuffer(inst, std::vector<uint8_t>(p, p + data.size()));
  });
}

const uint8_t* igvm_get_buffer(IgvmHandle igvm_handle, IgvmHandle buffer_handle) {
  const uint8_t* out = nullptr;
  withInstance(igvm_handle, [&](Instance& inst) -> int32_t {
    auto it = inst.buffers.find(buffer_handle);
    if (it != inst.buffers.end()) {
      out = it->second.data();
    }
    return 0;
  });
  return out;
}

int32_t igvm_get_buffer_size(IgvmHandle igvm_handle, IgvmHandle buffer_handle) {
  return withInstance(igvm_handle, [&](Instance& inst) -> int32_t {
    auto it = inst.buffers.find(buffer_handle);
    if (it == inst.buffers.end()) {
      return IGVMAPI_INVALID_HANDLE;
    }
    return static_cast<int32_t>(it->second.size());
  });
}

void igvm_free_buffer(IgvmHandle igvm_handle, IgvmHandle buffer_handle) {
  withInstance(igvm_handle, [&](Instance& inst) -> int32_t {
    inst.buffers.erase(buffer_handle);
    return 0;
  });
}

int32_t igvmkit_last_error(IgvmkitDiagnostic* out) {
  if (out == nullptr) {
    return IGVMAPI_INVALID_PARAMETER;
  }
  if (!t_has_last_error) {
    return IGVMAPI_NO_DATA;
  }
  fill(t_last_error,
       t_last_error.rule == "api.null_data" ? IGVMAPI_INVALID_PARAMETER
                                            : referenceResult(t_last_error),
       out);
  return IGVMAPI_OK;
}

int32_t igvmkit_warning_count(IgvmHandle handle) {
  return withInstance(handle, [&](Instance& inst) -> int32_t {
    return static_cast<int32_t>(inst.file->warnings().size());
  });
}

int32_t igvmkit_get_warning(IgvmHandle handle, uint32_t index, IgvmkitDiagnostic* out) {
  return withInstance(handle, [&](Instance& inst) -> int32_t {
    if (out == nullptr || index >= inst.file->warnings().size()) {
      return IGVMAPI_INVALID_PARAMETER;
    }
    fill(inst.file->warnings()[index], IGVMAPI_OK, out);
    return IGVMAPI_OK;
  });
}

}  // extern "C"
