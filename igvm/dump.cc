#include "igvm/dump.h"

#include <openssl/evp.h>

#include <array>
#include <memory>
#include <set>
#include <string_view>

namespace igvmkit::igvm {
namespace {

using Json = nlohmann::ordered_json;

// Incremental SHA-256 (OpenSSL EVP).
class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new(), EVP_MD_CTX_free) {
    EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr);
  }
  void update(Bytes b) { EVP_DigestUpdate(ctx_.get(), b.data(), b.size()); }
  std::array<std::byte, 32> digest() {
    std::array<std::byte, 32> md{};
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx_.get(), reinterpret_cast<unsigned char*>(md.data()), &len);
    return md;
  }
  std::string hexDigest() {
    std::array<std::byte, 32> md = digest();
    return hexBytes(Bytes(md.data(), md.size()));
  }

 private:
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx_;
};

std::string sha256(Bytes b) {
  Sha256 h;
  h.update(b);
  return h.hexDigest();
}

std::string_view x64RegisterName(uint32_t name) {
  switch (name) {
    case kHvX64RegisterRsp: return "Rsp";
    case kHvX64RegisterRbp: return "Rbp";
    case kHvX64RegisterRsi: return "Rsi";
    case kHvX64RegisterR8: return "R8";
    case kHvX64RegisterR9: return "R9";
    case kHvX64RegisterR10: return "R10";
    case kHvX64RegisterR11: return "R11";
    case kHvX64RegisterR12: return "R12";
    case kHvX64RegisterRip: return "Rip";
    case kHvX64RegisterRflags: return "Rflags";
    case kHvX64RegisterCr0: return "Cr0";
    case kHvX64RegisterCr3: return "Cr3";
    case kHvX64RegisterCr4: return "Cr4";
    case kHvX64RegisterEs: return "Es";
    case kHvX64RegisterCs: return "Cs";
    case kHvX64RegisterSs: return "Ss";
    case kHvX64RegisterDs: return "Ds";
    case kHvX64RegisterFs: return "Fs";
    case kHvX64RegisterGs: return "Gs";
    case kHvX64RegisterTr: return "Tr";
    case kHvX64RegisterIdtr: return "Idtr";
    case kHvX64RegisterGdtr: return "Gdtr";
    case kHvX64RegisterEfer: return "Efer";
    case kHvX64RegisterPat: return "Pat";
    case kHvX64RegisterMsrMtrrDefType: return "MsrMtrrDefType";
    default: return "";
  }
}

std::string_view arm64RegisterName(uint32_t name) {
  static constexpr std::string_view kX[] = {"X0", "X1", "X2", "X3", "X4", "X5", "X6", "X7"};
  if (name >= kHvArm64RegisterX0 && name < kHvArm64RegisterX0 + 8) {
    return kX[name - kHvArm64RegisterX0];
  }
  switch (name) {
    case kHvArm64RegisterXPc: return "XPc";
    case kHvArm64RegisterCpsr: return "Cpsr";
    case kHvArm64RegisterSctlrEl1: return "SctlrEl1";
    case kHvArm64RegisterTtbr0El1: return "Ttbr0El1";
    case kHvArm64RegisterTtbr1El1: return "Ttbr1El1";
    case kHvArm64RegisterTcrEl1: return "TcrEl1";
    case kHvArm64RegisterMairEl1: return "MairEl1";
    case kHvArm64RegisterVbarEl1: return "VbarEl1";
    default: return "";
  }
}

Json pageFlagNames(uint32_t flags) {
  Json names = Json::array();
  if ((flags & kPageDataFlagIs2MbPage) != 0) names.push_back("IS_2MB_PAGE");
  if ((flags & kPageDataFlagUnmeasured) != 0) names.push_back("UNMEASURED");
  if ((flags & kPageDataFlagShared) != 0) names.push_back("SHARED");
  return names;
}

Json segment(const SevVmsaSegment& s) {
  return Json{{"selector", s.selector}, {"attrib", s.attrib}, {"limit", s.limit}, {"base", s.base}};
}

Json dataSummary(Bytes data, const DumpOptions& opts) {
  if (data.empty()) {
    return nullptr;
  }
  Json j{{"size", data.size()}, {"sha256", sha256(data)}};
  if (opts.hex) {
    j["hex"] = hexBytes(data);
  }
  return j;
}

void decodeVpContext(const Header& h, Json& j, const DumpOptions& opts) {
  j["format"] = vpContextFormatName(h.vp_format);
  j["data"] = dataSummary(h.data, opts);
  switch (h.vp_format) {
    case VpContextFormat::kSnpVmsa: {
      Result<SevVmsa> r = vmsaOf(h);
      if (!r.ok()) return;
      const SevVmsa& v = *r;
      j["vmsa"] = Json{{"rip", v.rip},     {"rsp", v.rsp},       {"rflags", v.rflags},
                       {"cr0", v.cr0},     {"cr3", v.cr3},       {"cr4", v.cr4},
                       {"efer", v.efer},   {"xcr0", v.xcr0},     {"pat", v.pat},
                       {"vmpl", v.vmpl},   {"cpl", v.cpl},       {"sev_features", v.sev_features},
                       {"virtual_tom", v.virtual_tom},            {"cs", segment(v.cs)},
                       {"ds", segment(v.ds)}, {"gdtr", segment(v.gdtr)},
                       {"idtr", segment(v.idtr)}};
      return;
    }
    case VpContextFormat::kNativeX64: {
      Result<IgvmNativeVpContextX64> r = nativeContextOf(h);
      if (!r.ok()) return;
      const IgvmNativeVpContextX64& c = *r;
      j["context"] = Json{{"rip", c.rip},
                          {"rsp", c.rsp},
                          {"rflags", c.rflags},
                          {"rax", c.rax},
                          {"rbx", c.rbx},
                          {"rcx", c.rcx},
                          {"rdx", c.rdx},
                          {"rsi", c.rsi},
                          {"rdi", c.rdi},
                          {"rbp", c.rbp},
                          {"cr0", c.cr0},
                          {"cr3", c.cr3},
                          {"cr4", c.cr4},
                          {"efer", c.efer},
                          {"gdtr_base", c.gdtr_base},
                          {"gdtr_limit", c.gdtr_limit},
                          {"idtr_base", c.idtr_base},
                          {"idtr_limit", c.idtr_limit},
                          {"code_selector", c.code_selector},
                          {"code_attributes", c.code_attributes},
                          {"code_base", c.code_base},
                          {"code_limit", c.code_limit},
                          {"data_selector", c.data_selector},
                          {"data_attributes", c.data_attributes},
                          {"data_base", c.data_base},
                          {"data_limit", c.data_limit},
                          {"gs_base", c.gs_base}};
      return;
    }
    case VpContextFormat::kVbsX64:
    case VpContextFormat::kVbsAArch64: {
      Result<std::vector<VbsVpContextRegister>> r = vbsRegistersOf(h);
      if (!r.ok()) return;
      Json regs = Json::array();
      for (const VbsVpContextRegister& reg : *r) {
        uint32_t reg_name = reg.register_name;  // packed: copy before binding references
        std::string_view name = h.vp_format == VpContextFormat::kVbsX64
                                    ? x64RegisterName(reg_name)
                                    : arm64RegisterName(reg_name);
        regs.push_back(Json{{"vtl", reg.vtl},
                            {"register_name", reg_name},
                            {"name", name},
                            {"value", hexBytes(reg.register_value)}});
      }
      j["registers"] = std::move(regs);
      return;
    }
    case VpContextFormat::kCca: {
      Result<IgvmVpContextAArch64Cca> r = ccaContextOf(h);
      if (!r.ok()) return;
      Json x = Json::array();
      for (uint64_t v : r->x) x.push_back(v);
      j["context"] = Json{{"x", std::move(x)}, {"pc", r->pc}, {"flags", r->flags}};
      return;
    }
    case VpContextFormat::kNone:
      return;
  }
}

Json publicKey(const IGVM_VHS_SNP_ID_BLOCK_PUBLIC_KEY& k) {
  return Json{{"curve", k.curve}, {"qx", hexBytes(k.qx)}, {"qy", hexBytes(k.qy)}};
}
Json signature(const IGVM_VHS_SNP_ID_BLOCK_SIGNATURE& s) {
  return Json{{"r", hexBytes(s.r_comp)}, {"s", hexBytes(s.s_comp)}};
}

// Every field of one non-PAGE_DATA header.
Json decode(const Header& h, const DumpOptions& opts) {
  Json j{{"index", h.index}, {"offset", h.offset}, {"type", h.name()}, {"type_code", h.type}};
  if (const auto* p = h.get<IGVM_VHS_SUPPORTED_PLATFORM>()) {
    j["compatibility_mask"] = p->compatibility_mask;
    j["platform_type"] = platformTypeName(p->platform_type);
    j["highest_vtl"] = p->highest_vtl;
    j["platform_version"] = p->platform_version;
    j["shared_gpa_boundary"] = p->shared_gpa_boundary;
  } else if (const auto* p = h.get<IGVM_VHS_GUEST_POLICY>()) {
    j["compatibility_mask"] = p->compatibility_mask;
    j["policy"] = p->policy;
  } else if (const auto* r = h.get<IGVM_VHS_RELOCATABLE_REGION>()) {
    j["compatibility_mask"] = r->compatibility_mask;
    j["vp_index"] = r->vp_index;
    j["vtl"] = r->vtl;
    j["flags"] = r->flags;
    j["relocation_alignment"] = r->relocation_alignment;
    j["relocation_region_gpa"] = r->relocation_region_gpa;
    j["relocation_region_size"] = r->relocation_region_size;
    j["minimum_relocation_gpa"] = r->minimum_relocation_gpa;
    j["maximum_relocation_gpa"] = r->maximum_relocation_gpa;
  } else if (const auto* r = h.get<IGVM_VHS_PAGE_TABLE_RELOCATION>()) {
    j["compatibility_mask"] = r->compatibility_mask;
    j["vp_index"] = r->vp_index;
    j["vtl"] = r->vtl;
    j["gpa"] = r->gpa;
    j["size"] = r->size;
    j["used_size"] = r->used_size;
  } else if (const auto* c = h.get<IGVM_VHS_CORIM_DATA>()) {
    j["compatibility_mask"] = c->compatibility_mask;
    j["file_offset"] = c->file_offset;
    j["size_bytes"] = c->size_bytes;
    j["data"] = dataSummary(h.data, opts);
  } else if (const auto* c = h.get<IGVM_VHS_CCA_POLICY>()) {
    j["compatibility_mask"] = c->compatibility_mask;
    j["attributes_required_zeroes"] = c->attributes_required_zeroes;
    j["attributes_required_ones"] = c->attributes_required_ones;
    j["hash_algorithm"] = c->hash_algorithm;
    j["lfa_policy"] = c->lfa_policy;
  } else if (const auto* a = h.get<IGVM_VHS_PARAMETER_AREA>()) {
    j["parameter_area_index"] = a->parameter_area_index;
    j["number_of_bytes"] = a->number_of_bytes;
    j["file_offset"] = a->file_offset;
    j["data"] = dataSummary(h.data, opts);
  } else if (const auto* pi = h.get<IGVM_VHS_PARAMETER_INSERT>()) {
    j["gpa"] = pi->gpa;
    j["compatibility_mask"] = pi->compatibility_mask;
    j["parameter_area_index"] = pi->parameter_area_index;
  } else if (const auto* vp = h.get<IGVM_VHS_VP_CONTEXT>()) {
    // Packed struct: copy each field before nlohmann binds a reference to it.
    j["gpa"] = uint64_t{vp->gpa};
    j["compatibility_mask"] = uint32_t{vp->compatibility_mask};
    j["vp_index"] = uint16_t{vp->vp_index};
    j["file_offset"] = uint32_t{vp->file_offset};
    decodeVpContext(h, j, opts);
  } else if (const auto* rm = h.get<IGVM_VHS_REQUIRED_MEMORY>()) {
    j["gpa"] = rm->gpa;
    j["compatibility_mask"] = rm->compatibility_mask;
    j["number_of_bytes"] = rm->number_of_bytes;
    j["flags"] = rm->flags;
    j["vtl2_protectable"] = (rm->flags & kRequiredMemoryFlagVtl2Protectable) != 0;
  } else if (const auto* p = h.get<IGVM_VHS_PARAMETER>()) {
    j["parameter_area_index"] = p->parameter_area_index;
    j["byte_offset"] = p->byte_offset;
  } else if (const auto* id = h.get<IGVM_VHS_SNP_ID_BLOCK>()) {
    j["compatibility_mask"] = id->compatibility_mask;
    j["author_key_enabled"] = id->author_key_enabled;
    j["ld"] = hexBytes(id->ld);
    j["family_id"] = hexBytes(id->family_id);
    j["image_id"] = hexBytes(id->image_id);
    j["version"] = id->version;
    j["guest_svn"] = id->guest_svn;
    j["id_key_algorithm"] = id->id_key_algorithm;
    j["author_key_algorithm"] = id->author_key_algorithm;
    j["id_key_signature"] = signature(id->id_key_signature);
    j["id_public_key"] = publicKey(id->id_public_key);
    j["author_key_signature"] = signature(id->author_key_signature);
    j["author_public_key"] = publicKey(id->author_public_key);
  } else if (const auto* er = h.get<IGVM_VHS_ERROR_RANGE>()) {
    j["gpa"] = er->gpa;
    j["compatibility_mask"] = er->compatibility_mask;
    j["size_bytes"] = er->size_bytes;
  } else if (const auto* m = h.get<IGVM_VHS_VBS_MEASUREMENT>()) {
    j["compatibility_mask"] = m->compatibility_mask;
    j["version"] = m->version;
    j["product_id"] = m->product_id;
    j["module_id"] = m->module_id;
    j["security_version"] = m->security_version;
    j["policy_flags"] = m->policy_flags;
    j["boot_digest_algo"] = m->boot_digest_algo;
    j["signing_algo"] = m->signing_algo;
    j["boot_measurement_digest"] = hexBytes(m->boot_measurement_digest);
    j["signature"] = hexBytes(m->signature);
    j["public_key"] = hexBytes(m->public_key);
  } else if (const auto* u = h.get<UnknownHeader>()) {
    j["optional"] = true;
    j["size"] = u->content.size();
    j["content"] = hexBytes(u->content);
  }
  return j;
}

std::array<std::byte, 32> pageDigest(Bytes content) {
  Sha256 h;
  h.update(content);
  return h.digest();
}

// The SHA-256 of a zero page of `size` (4 KiB or 2 MiB), computed once per size.
const std::array<std::byte, 32>& zeroPageDigest(uint64_t size) {
  static const ByteVector kZeroPage(kPageSize2M);
  static const std::array<std::byte, 32> k4K = pageDigest(Bytes(kZeroPage).subspan(0, kPageSize4K));
  static const std::array<std::byte, 32> k2M = pageDigest(kZeroPage);
  return size == kPageSize2M ? k2M : k4K;
}

// A run of PAGE_DATA headers [begin, end). Its sha256 is over the pages' own SHA-256 digests in
// order, so a zero page costs one stored digest, not a page of hashing.
Json pageRun(std::span<const Header> run, const DumpOptions& opts) {
  const auto* first = run.front().get<IGVM_VHS_PAGE_DATA>();
  uint64_t page = (first->flags & kPageDataFlagIs2MbPage) != 0 ? kPageSize2M : kPageSize4K;
  Sha256 sha;
  std::string hex_data;
  uint64_t data_pages = 0;
  for (const Header& h : run) {
    data_pages += h.data.empty() ? 0 : 1;
    const std::array<std::byte, 32> digest =
        h.data.empty() ? zeroPageDigest(page) : pageDigest(h.data);
    sha.update(Bytes(digest.data(), digest.size()));
    if (opts.hex) {
      hex_data += h.data.empty() ? std::string(2 * page, '0') : hexBytes(h.data);
    }
  }
  Json j{{"index", run.front().index},
         {"offset", run.front().offset},
         {"type", "PAGE_DATA"},
         {"type_code", kVhtPageData},
         {"first_index", run.front().index},
         {"last_index", run.back().index},
         {"gpa", first->gpa},
         {"gpa_end", first->gpa + page * run.size()},
         {"compatibility_mask", first->compatibility_mask},
         {"flags", first->flags},
         {"flag_names", pageFlagNames(first->flags)},
         {"data_type", pageDataTypeName(first->data_type)},
         {"page_size", page},
         {"pages", run.size()},
         {"data_pages", data_pages},
         {"zero_pages", run.size() - data_pages},
         {"sha256", sha.hexDigest()}};
  if (opts.hex) {
    j["hex"] = std::move(hex_data);
  }
  return j;
}

// True when `next` continues the run that ends with `last`.
bool continuesRun(const Header& last, const Header& next) {
  const auto* a = last.get<IGVM_VHS_PAGE_DATA>();
  const auto* b = next.get<IGVM_VHS_PAGE_DATA>();
  if (a == nullptr || b == nullptr) {
    return false;
  }
  uint64_t page = (a->flags & kPageDataFlagIs2MbPage) != 0 ? kPageSize2M : kPageSize4K;
  return a->compatibility_mask == b->compatibility_mask && a->flags == b->flags &&
         a->data_type == b->data_type && a->gpa <= ~uint64_t{0} - page && a->gpa + page == b->gpa &&
         next.index == last.index + 1;
}

Json section(std::span<const Header> headers, const DumpOptions& opts) {
  Json out = Json::array();
  size_t i = 0;
  while (i < headers.size()) {
    if (headers[i].get<IGVM_VHS_PAGE_DATA>() == nullptr) {
      out.push_back(decode(headers[i], opts));
      ++i;
      continue;
    }
    size_t end = i + 1;
    while (end < headers.size() && continuesRun(headers[end - 1], headers[end])) {
      ++end;
    }
    out.push_back(pageRun(headers.subspan(i, end - i), opts));
    i = end;
  }
  return out;
}

// Keys printed in decimal by dumpText; every other number is hex.
const std::set<std::string_view>& decimalKeys() {
  static const std::set<std::string_view> kKeys = {
      "index", "first_index", "last_index", "pages", "data_pages", "zero_pages", "vp_index",
      "vtl", "highest_vtl", "size", "platform_version", "version", "format_version"};
  return kKeys;
}

std::string textValue(const std::string& key, const Json& v) {
  if (v.is_number_unsigned() || v.is_number_integer()) {
    uint64_t n = v.get<uint64_t>();
    return decimalKeys().count(key) != 0 ? std::to_string(n) : hex(n);
  }
  if (v.is_string()) {
    return v.get<std::string>();
  }
  if (v.is_object()) {
    std::string out = "{";
    bool first = true;
    for (const auto& [k, sub] : v.items()) {
      out += (first ? "" : " ") + k + "=" + textValue(k, sub);
      first = false;
    }
    return out + "}";
  }
  if (v.is_array()) {
    std::string out = "[";
    for (size_t i = 0; i < v.size(); ++i) {
      out += (i == 0 ? "" : " ") + textValue(key, v[i]);
    }
    return out + "]";
  }
  return v.dump();
}

}  // namespace

Json dumpJson(const File& file, const DumpOptions& opts) {
  const IGVM_FIXED_HEADER_V2& f = file.fixedHeader();
  Json fixed{{"format_version", f.format_version},
             {"architecture", file.arch() == Arch::kX64 ? "x64" : "aarch64"},
             {"page_size", f.page_size},
             {"variable_header_offset", f.variable_header_offset},
             {"variable_header_size", f.variable_header_size},
             {"file_data_offset", file.fileDataOffset()},
             {"total_file_size", f.total_file_size},
             {"checksum", f.checksum}};
  return Json{{"file", std::move(fixed)},
              {"platforms", section(file.platforms(), opts)},
              {"initialization", section(file.initializationHeaders(), opts)},
              {"directives", section(file.directives(), opts)}};
}

std::string dumpText(const File& file, const DumpOptions& opts) {
  Json j = dumpJson(file, opts);
  std::string out = "IGVM";
  for (const auto& [k, v] : j["file"].items()) {
    out += " " + k + "=" + textValue(k, v);
  }
  out += '\n';
  for (const char* sec : {"platforms", "initialization", "directives"}) {
    for (const Json& h : j[sec]) {
      std::string line = "#" + std::to_string(h["index"].get<uint64_t>());
      if (h.contains("last_index") && h["last_index"] != h["first_index"]) {
        line += "-#" + std::to_string(h["last_index"].get<uint64_t>());
      }
      line += " @" + hex(h["offset"].get<uint64_t>()) + " " + h["type"].get<std::string>();
      for (const auto& [k, v] : h.items()) {
        if (k == "index" || k == "offset" || k == "type" || k == "type_code" ||
            k == "first_index" || k == "last_index" || v.is_null()) {
          continue;
        }
        line += " " + k + "=" + textValue(k, v);
      }
      out += line + '\n';
    }
  }
  return out;
}

}  // namespace igvmkit::igvm
