// The [platform] tables: [platform.native], [platform.snp] (with its id_block), [platform.tdx],
// [platform.vbs].
#include <algorithm>
#include <array>
#include <limits>
#include <toml++/toml.h>
#include <utility>

#include "base/bytes.h"
#include "builder/internal/manifest_sections.h"
#include "builder/internal/toml_reader.h"
#include "builder/layout.h"
#include "measure/ovmf_launch.h"
#include "sign/signer.h"

namespace igvmkit::builder::internal {
namespace {

constexpr uint64_t kSnpPolicyKnownBits = 0x1F'FFFF;  // bits 0..20

struct SevFeatureName {
  std::string_view name;
  uint64_t bit;
};
constexpr std::array<SevFeatureName, 12> kSevFeatureNames = {{
    {"snp", 1ull << 0},
    {"vtom", 1ull << 1},
    {"reflect_vc", 1ull << 2},
    {"restricted_injection", 1ull << 3},
    {"alternate_injection", 1ull << 4},
    {"debug_swap", 1ull << 5},
    {"prevent_host_ibs", 1ull << 6},
    {"snp_btb_isolation", 1ull << 7},
    {"vmpl_sss", 1ull << 8},
    {"secure_tsc", 1ull << 9},
    {"vmsa_reg_prot", 1ull << 14},
    {"smt_protection", 1ull << 15},
}};
constexpr uint64_t kSevFeatureKnownBits = 0xC3FF;

Result<std::vector<uint8_t>> hex16(TableReader& r, std::string_view key) {
  IGVMKIT_ASSIGN_OR_RETURN(std::optional<std::string> s, r.optString(key));
  if (!s) {
    return std::vector<uint8_t>(16, 0);
  }
  Result<ByteVector> bytes = parseHexBytes(*s);
  if (!bytes.ok() || bytes->size() != 16) {
    return r.badKey("value", key, "must be 32 hex digits (16 bytes)");
  }
  std::vector<uint8_t> out;
  for (std::byte b : *bytes) {
    out.push_back(static_cast<uint8_t>(b));
  }
  return out;
}

Result<SnpSettings> parseSnp(const toml::table& t, std::string_view base_dir) {
  TableReader r(t, "platform.snp");
  SnpSettings s;
  IGVMKIT_ASSIGN_OR_RETURN(auto policy, r.optU64("policy", std::numeric_limits<int64_t>::max()));
  if (policy) {
    if ((*policy & ~kSnpPolicyKnownBits) != 0) {
      return r.badKey("value", "policy", hex(*policy) + " sets reserved bits above 20");
    }
    if ((*policy & kSnpPolicyReservedOne) == 0) {
      return r.badKey("value", "policy", hex(*policy) + " must set bit 17 (0x20000)");
    }
    s.policy = *policy;
  }
  if (const toml::node* n = r.get("sev_features")) {
    if (const auto* i = n->as_integer()) {
      auto v = static_cast<uint64_t>(i->get());
      if (i->get() < 0 || (v & ~kSevFeatureKnownBits) != 0) {
        return r.badKey("value", "sev_features", hex(v) + " sets unknown bits");
      }
      s.sev_features = v | kSevFeatureSnp;
    } else if (const auto* a = n->as_array()) {
      s.sev_features = kSevFeatureSnp;
      for (const toml::node& e : *a) {
        const auto* name = e.as_string();
        if (name == nullptr) {
          return bad("type",
                     "elements of 'platform.snp.sev_features' must be strings, not " +
                         std::string(typeName(e.type())),
                     e.source());
        }
        auto it = std::find_if(kSevFeatureNames.begin(), kSevFeatureNames.end(),
                               [&](const SevFeatureName& f) { return f.name == name->get(); });
        if (it == kSevFeatureNames.end()) {
          return bad("value", "unknown SEV feature \"" + name->get() + "\"", e.source());
        }
        s.sev_features |= it->bit;
      }
    } else {
      return r.wrongType("sev_features", *n, "an integer or an array of feature names");
    }
  }
  IGVMKIT_ASSIGN_OR_RETURN(auto boundary, r.optSize("shared_gpa_boundary"));
  IGVMKIT_RETURN_IF_ERROR(r.checkPageAligned("shared_gpa_boundary", boundary));
  s.shared_gpa_boundary = boundary.value_or(s.shared_gpa_boundary);
  if ((s.sev_features & kSevFeatureVtom) != 0 && s.shared_gpa_boundary == 0) {
    return bad("conflict", "the vtom SEV feature needs a nonzero 'shared_gpa_boundary'",
               t.source());
  }
  constexpr std::array<std::string_view, measure::kHostModels.size()> kHosts = {
      measure::hostModelName(measure::kHostModels[0]),
      measure::hostModelName(measure::kHostModels[1])};
  IGVMKIT_ASSIGN_OR_RETURN(auto host, r.optWord("host", kHosts));
  if (host) {
    s.host = measure::kHostModels[*host];
  }
  auto nonzero = [](uint64_t v) { return v != 0; };
  IGVMKIT_ASSIGN_OR_RETURN(auto vcpus, r.optU64("vcpus", 4096, nonzero, "must be at least 1"));
  s.vcpus = static_cast<uint32_t>(vcpus.value_or(s.vcpus));
  IGVMKIT_ASSIGN_OR_RETURN(auto vmsa, r.optSize("vmsa_gpa"));
  s.vmsa_gpa = vmsa.value_or(layout::kSnpKvmVmsaGpa);
  IGVMKIT_RETURN_IF_ERROR(r.checkPageAligned("vmsa_gpa", vmsa));
  if (s.host == HostModel::kKvm) {
    // KVM builds and measures the VMSA itself at this fixed GPA (loader-vmm.md §1.5).
    if (s.vmsa_gpa != layout::kSnpKvmVmsaGpa) {
      return r.badKey("conflict", "vmsa_gpa",
                      "must be " + hex(layout::kSnpKvmVmsaGpa) + " when host = \"kvm\"");
    }
    // openvmm's and QEMU's KVM paths reject vTOM (loader-vmm.md §1.2).
    if ((s.sev_features & kSevFeatureVtom) != 0) {
      return bad("conflict", "the vtom SEV feature is not available when host = \"kvm\"",
                 t.get("sev_features")->source());
    }
  }
  IGVMKIT_ASSIGN_OR_RETURN(auto vcpu_type, r.optString("vcpu_type"));
  IGVMKIT_ASSIGN_OR_RETURN(auto vcpu_sig, r.optU64("vcpu_sig", 0xFFFF'FFFF));
  if (vcpu_type && vcpu_sig) {
    return bad("conflict", "give one of 'platform.snp.vcpu_type' and 'platform.snp.vcpu_sig'",
               t.get("vcpu_sig")->source());
  }
  if (vcpu_type) {
    Result<uint32_t> sig = measure::vcpuSignatureOf(*vcpu_type);
    if (!sig.ok()) {
      return bad("value", "'platform.snp.vcpu_type': " + sig.error().message,
                 t.get("vcpu_type")->source());
    }
    s.vcpu_sig = *sig;
  } else if (vcpu_sig) {
    s.vcpu_sig = static_cast<uint32_t>(*vcpu_sig);
  }
  IGVMKIT_ASSIGN_OR_RETURN(auto vmm, r.optString("vmm"));
  if (vmm) {
    Result<measure::VmmType> v = measure::parseVmmType(*vmm);
    if (!v.ok()) {
      return bad("value", "'platform.snp.vmm': " + v.error().message, t.get("vmm")->source());
    }
    s.vmm = *v;
  }
  // Above bit 51 is no physical address bit (igvm/gpa.h: 52 bits at most), so no C-bit.
  auto address_bit = [](uint64_t v) { return v >= 32 && v <= 51; };
  IGVMKIT_ASSIGN_OR_RETURN(auto cbit,
                           r.optU64("c_bit", 63, address_bit, "must be between 32 and 51"));
  s.c_bit = static_cast<uint8_t>(cbit.value_or(s.c_bit));
  IGVMKIT_ASSIGN_OR_RETURN(const toml::table* id, r.optTable("id_block"));
  if (id != nullptr) {
    TableReader ir(*id, "platform.snp.id_block");
    SnpIdBlock b;
    // A key is a PEM path (relative to the manifest) or a pkcs11: / exec: spec, taken verbatim.
    auto keySpec = [&](const std::string& spec) {
      return sign::keyKind(spec) == sign::KeyKind::kPemFile ? resolvePath(base_dir, spec) : spec;
    };
    IGVMKIT_ASSIGN_OR_RETURN(auto id_key, ir.optString("id_key"));
    if (!id_key || id_key->empty()) {
      IGVMKIT_ASSIGN_OR_RETURN(b.id_key, requiredPath(ir, "id_key", base_dir));  // its error
    } else {
      b.id_key = keySpec(*id_key);
    }
    IGVMKIT_ASSIGN_OR_RETURN(auto author, ir.optString("author_key"));
    if (author) {
      if (author->empty()) {
        return ir.badKey("value", "author_key", "must not be empty");
      }
      b.author_key = keySpec(*author);
    }
    for (auto [key, field] : {std::pair{"id_pubkey", &b.id_pubkey},
                              std::pair{"author_pubkey", &b.author_pubkey}}) {
      IGVMKIT_ASSIGN_OR_RETURN(auto pub, ir.optString(key));
      if (pub) {
        if (pub->empty()) {
          return ir.badKey("value", key, "must not be empty");
        }
        *field = resolvePath(base_dir, *pub);
      }
    }
    if (b.author_pubkey && !b.author_key) {
      return ir.badKey("conflict", "author_pubkey", "needs author_key");
    }
    IGVMKIT_ASSIGN_OR_RETURN(b.family_id, hex16(ir, "family_id"));
    IGVMKIT_ASSIGN_OR_RETURN(b.image_id, hex16(ir, "image_id"));
    IGVMKIT_ASSIGN_OR_RETURN(auto svn, ir.optU64("guest_svn", 0xFFFF'FFFF));
    b.guest_svn = static_cast<uint32_t>(svn.value_or(0));
    IGVMKIT_RETURN_IF_ERROR(ir.finish());
    s.id_block = std::move(b);
  }
  IGVMKIT_RETURN_IF_ERROR(r.finish());
  return s;
}

Result<TdxSettings> parseTdx(const toml::table& t) {
  TableReader r(t, "platform.tdx");
  TdxSettings s;
  IGVMKIT_ASSIGN_OR_RETURN(auto debug, r.optBool("debug"));
  IGVMKIT_ASSIGN_OR_RETURN(auto sept, r.optBool("sept_ve_disable"));
  IGVMKIT_ASSIGN_OR_RETURN(auto migratable, r.optBool("migratable"));
  IGVMKIT_ASSIGN_OR_RETURN(auto boundary, r.optSize("shared_gpa_boundary"));
  s.debug = debug.value_or(s.debug);
  s.sept_ve_disable = sept.value_or(s.sept_ve_disable);
  s.migratable = migratable.value_or(s.migratable);
  IGVMKIT_RETURN_IF_ERROR(r.checkPageAligned("shared_gpa_boundary", boundary));
  s.shared_gpa_boundary = boundary.value_or(s.shared_gpa_boundary);
  IGVMKIT_RETURN_IF_ERROR(r.finish());
  return s;
}

Result<VbsSettings> parseVbs(const toml::table& t) {
  TableReader r(t, "platform.vbs");
  VbsSettings s;
  // The platform header's highest_vtl may only be 0 or 2 (igvm-format.md §2.5).
  auto not_one = [](uint64_t v) { return v != 1; };
  IGVMKIT_ASSIGN_OR_RETURN(auto vtl, r.optU64("vtl", 2, not_one, "must be 0 or 2"));
  s.vtl = static_cast<uint8_t>(vtl.value_or(s.vtl));
  IGVMKIT_ASSIGN_OR_RETURN(auto debug, r.optBool("debug"));
  s.debug = debug.value_or(false);
  IGVMKIT_RETURN_IF_ERROR(r.finish());
  return s;
}

}  // namespace

Status parsePlatforms(const toml::table& t, std::string_view base_dir, Manifest& m) {
  TableReader r(t, "platform");
  for (Platform p : kManifestPlatforms) {
    IGVMKIT_ASSIGN_OR_RETURN(const toml::table* pt, r.optTable(platformName(p)));
    if (pt == nullptr) {
      continue;
    }
    switch (p) {
      case Platform::kNative: {
        TableReader nr(*pt, "platform.native");
        IGVMKIT_RETURN_IF_ERROR(nr.finish());
        m.native = NativeSettings{};
        break;
      }
      case Platform::kSnp: {
        IGVMKIT_ASSIGN_OR_RETURN(m.snp, parseSnp(*pt, base_dir));
        break;
      }
      case Platform::kTdx: {
        IGVMKIT_ASSIGN_OR_RETURN(m.tdx, parseTdx(*pt));
        break;
      }
      case Platform::kVbs: {
        IGVMKIT_ASSIGN_OR_RETURN(m.vbs, parseVbs(*pt));
        break;
      }
      case Platform::kSev:  // not in kManifestPlatforms
      case Platform::kSevEs:
        break;
    }
  }
  return r.finish();
}

}  // namespace igvmkit::builder::internal
