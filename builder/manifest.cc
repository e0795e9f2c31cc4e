#include "builder/manifest.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <limits>
#include <map>
#include <set>
#include <toml++/toml.h>
#include <utility>

#include "base/bytes.h"
#include "base/size.h"
#include "builder/layout.h"
#include "sign/signer.h"

namespace igvmkit::builder {
namespace {

constexpr uint64_t kPage = layout::kPageSize;
constexpr uint64_t kMaxDataBytes = layout::k4GiB;
// Parameter areas hold tables and maps the loader writes; 16 MiB is far beyond any of them.
constexpr uint64_t kMaxParameterAreaBytes = 0x100'0000;

Location at(const toml::source_region& region) {
  Location loc;
  if (region.begin) {
    loc.line = region.begin.line;
    loc.column = region.begin.column;
  }
  return loc;
}

Error bad(std::string rule, std::string message, const toml::source_region& region) {
  return invalid("manifest." + std::move(rule), std::move(message), at(region));
}

std::string_view typeName(toml::node_type t) {
  switch (t) {
    case toml::node_type::none:
      return "nothing";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
  }
  return "a value";
}

bool aligned(uint64_t v, uint64_t a) { return v % a == 0; }

// Reads one TOML table: each get() marks its key as known; finish() rejects the first (in source
// order) key nobody asked for. `path` is the dotted name used in messages ("platform.snp").
class TableReader {
 public:
  TableReader(const toml::table& table, std::string path) : table_(table), path_(std::move(path)) {}

  const toml::table& table() const { return table_; }
  const std::string& path() const { return path_; }
  std::string keyPath(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  }

  const toml::node* get(std::string_view key) {
    known_.insert(std::string(key));
    return table_.get(key);
  }

  Status finish() const {
    const toml::key* first = nullptr;
    for (auto&& [key, node] : table_) {
      (void)node;
      if (known_.count(std::string(key.str())) != 0) {
        continue;
      }
      if (first == nullptr || key.source().begin.line < first->source().begin.line ||
          (key.source().begin.line == first->source().begin.line &&
           key.source().begin.column < first->source().begin.column)) {
        first = &key;
      }
    }
    if (first != nullptr) {
      std::string where = path_.empty() ? "at the top level" : "in [" + path_ + "]";
      return bad("unknown_key", "unknown key '" + std::string(first->str()) + "' " + where,
                 first->source());
    }
    return okStatus();
  }

  Error missing(std::string_view key) const {
    return bad("missing_key", "missing key '" + keyPath(key) + "'", table_.source());
  }

  Error wrongType(std::string_view key, const toml::node& node, std::string_view want) const {
    return bad("type",
               "'" + keyPath(key) + "' must be " + std::string(want) + ", not " +
                   std::string(typeName(node.type())),
               node.source());
  }

  Result<std::optional<uint64_t>> optU64(std::string_view key, uint64_t max) {
    const toml::node* n = get(key);
    if (n == nullptr) {
      return std::optional<uint64_t>();
    }
    const auto* i = n->as_integer();
    if (i == nullptr) {
      return wrongType(key, *n, "an integer");
    }
    int64_t v = i->get();
    if (v < 0 || static_cast<uint64_t>(v) > max) {
      return bad("value",
                 "'" + keyPath(key) + "' = " + std::to_string(v) + " is out of range 0.." +
                     hex(max),
                 n->source());
    }
    return std::optional<uint64_t>(static_cast<uint64_t>(v));
  }

  // An integer, or a string with a size suffix ("64M", "4G", "0x1000").
  Result<std::optional<uint64_t>> optSize(std::string_view key) {
    const toml::node* n = get(key);
    if (n == nullptr) {
      return std::optional<uint64_t>();
    }
    if (const auto* i = n->as_integer()) {
      if (i->get() < 0) {
        return bad("value", "'" + keyPath(key) + "' must not be negative", n->source());
      }
      return std::optional<uint64_t>(static_cast<uint64_t>(i->get()));
    }
    if (const auto* s = n->as_string()) {
      Result<uint64_t> v = parseSize(s->get());
      if (!v.ok()) {
        return bad("value", "'" + keyPath(key) + "': " + v.error().message, n->source());
      }
      return std::optional<uint64_t>(*v);
    }
    return wrongType(key, *n, "an integer or a size string");
  }

  Result<std::optional<bool>> optBool(std::string_view key) {
    const toml::node* n = get(key);
    if (n == nullptr) {
      return std::optional<bool>();
    }
    const auto* b = n->as_boolean();
    if (b == nullptr) {
      return wrongType(key, *n, "a boolean");
    }
    return std::optional<bool>(b->get());
  }

  Result<std::optional<std::string>> optString(std::string_view key) {
    const toml::node* n = get(key);
    if (n == nullptr) {
      return std::optional<std::string>();
    }
    const auto* s = n->as_string();
    if (s == nullptr) {
      return wrongType(key, *n, "a string");
    }
    return std::optional<std::string>(s->get());
  }

  // One of `words`; returns its index.
  template <size_t N>
  Result<std::optional<size_t>> optWord(std::string_view key,
                                        const std::array<std::string_view, N>& words) {
    IGVMKIT_ASSIGN_OR_RETURN(std::optional<std::string> s, optString(key));
    if (!s) {
      return std::optional<size_t>();
    }
    for (size_t i = 0; i < N; ++i) {
      if (*s == words[i]) {
        return std::optional<size_t>(i);
      }
    }
    std::string list;
    for (size_t i = 0; i < N; ++i) {
      list += (i == 0 ? "" : ", ") + std::string(words[i]);
    }
    return bad("value", "'" + keyPath(key) + "' = \"" + *s + "\" is not one of " + list,
               table_.get(key)->source());
  }

  // A sub-table; `required` reports its absence.
  Result<const toml::table*> optTable(std::string_view key) {
    const toml::node* n = get(key);
    if (n == nullptr) {
      return static_cast<const toml::table*>(nullptr);
    }
    const auto* t = n->as_table();
    if (t == nullptr) {
      return wrongType(key, *n, "a table");
    }
    return t;
  }

  // An array of tables ([[key]] sections or an inline array of inline tables).
  Result<std::vector<const toml::table*>> tableArray(std::string_view key) {
    std::vector<const toml::table*> out;
    const toml::node* n = get(key);
    if (n == nullptr) {
      return out;
    }
    const auto* a = n->as_array();
    if (a == nullptr) {
      return wrongType(key, *n, "an array of tables");
    }
    for (const toml::node& e : *a) {
      const auto* t = e.as_table();
      if (t == nullptr) {
        return bad("type",
                   "elements of '" + keyPath(key) + "' must be tables, not " +
                       std::string(typeName(e.type())),
                   e.source());
      }
      out.push_back(t);
    }
    return out;
  }

 private:
  const toml::table& table_;
  std::string path_;
  std::set<std::string> known_;
};

std::string resolvePath(std::string_view base_dir, const std::string& path) {
  if (path.empty() || path.front() == '/' || base_dir.empty()) {
    return path;
  }
  std::string out(base_dir);
  if (out.back() != '/') {
    out += '/';
  }
  return out + path;
}

Result<std::string> requiredPath(TableReader& r, std::string_view key, std::string_view base_dir) {
  IGVMKIT_ASSIGN_OR_RETURN(std::optional<std::string> s, r.optString(key));
  if (!s) {
    return r.missing(key);
  }
  if (s->empty()) {
    return bad("value", "'" + r.keyPath(key) + "' must not be empty", r.table().get(key)->source());
  }
  // open() would stop at the NUL and read another file than the one named.
  if (s->find('\0') != std::string::npos) {
    return bad("value", "'" + r.keyPath(key) + "' contains a NUL character",
               r.table().get(key)->source());
  }
  return resolvePath(base_dir, *s);
}

constexpr std::array<std::string_view, 4> kPlatformWords = {"native", "snp", "tdx", "vbs"};

Result<PlatformList> platformList(TableReader& r, std::string_view key) {
  PlatformList out;
  const toml::node* n = r.get(key);
  if (n == nullptr) {
    return out;
  }
  const auto* a = n->as_array();
  if (a == nullptr) {
    return r.wrongType(key, *n, "an array of platform names");
  }
  for (const toml::node& e : *a) {
    const auto* s = e.as_string();
    if (s == nullptr) {
      return bad("type",
                 "elements of '" + r.keyPath(key) + "' must be strings, not " +
                     std::string(typeName(e.type())),
                 e.source());
    }
    auto it = std::find(kPlatformWords.begin(), kPlatformWords.end(), s->get());
    if (it == kPlatformWords.end()) {
      return bad("value", "unknown platform \"" + s->get() + "\" in '" + r.keyPath(key) + "'",
                 e.source());
    }
    auto p = static_cast<Platform>(it - kPlatformWords.begin());
    if (std::find(out.begin(), out.end(), p) != out.end()) {
      return bad("value", "platform \"" + s->get() + "\" listed twice in '" + r.keyPath(key) + "'",
                 e.source());
    }
    out.push_back(p);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// ---- platforms -------------------------------------------------------------------------------

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
    return bad("value", "'" + r.keyPath(key) + "' must be 32 hex digits (16 bytes)",
               r.table().get(key)->source());
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
    const toml::node* n = t.get("policy");
    if ((*policy & ~kSnpPolicyKnownBits) != 0) {
      return bad("value", "'platform.snp.policy' " + hex(*policy) + " sets reserved bits above 20",
                 n->source());
    }
    if ((*policy & kSnpPolicyReservedOne) == 0) {
      return bad("value", "'platform.snp.policy' " + hex(*policy) + " must set bit 17 (0x20000)",
                 n->source());
    }
    s.policy = *policy;
  }
  if (const toml::node* n = r.get("sev_features")) {
    if (const auto* i = n->as_integer()) {
      auto v = static_cast<uint64_t>(i->get());
      if (i->get() < 0 || (v & ~kSevFeatureKnownBits) != 0) {
        return bad("value", "'platform.snp.sev_features' " + hex(v) + " sets unknown bits",
                   n->source());
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
  if (boundary) {
    if (!aligned(*boundary, kPage)) {
      return bad("alignment",
                 "'platform.snp.shared_gpa_boundary' " + hex(*boundary) + " is not page aligned",
                 t.get("shared_gpa_boundary")->source());
    }
    s.shared_gpa_boundary = *boundary;
  }
  if ((s.sev_features & kSevFeatureVtom) != 0 && s.shared_gpa_boundary == 0) {
    return bad("conflict", "the vtom SEV feature needs a nonzero 'shared_gpa_boundary'",
               t.source());
  }
  constexpr std::array<std::string_view, 2> kHosts = {"kvm", "mshv"};
  IGVMKIT_ASSIGN_OR_RETURN(auto host, r.optWord("host", kHosts));
  if (host) {
    s.host = *host == 0 ? SnpHost::kKvm : SnpHost::kMshv;
  }
  IGVMKIT_ASSIGN_OR_RETURN(auto vcpus, r.optU64("vcpus", 4096));
  if (vcpus) {
    if (*vcpus == 0) {
      return bad("value", "'platform.snp.vcpus' must be at least 1", t.get("vcpus")->source());
    }
    s.vcpus = static_cast<uint32_t>(*vcpus);
  }
  IGVMKIT_ASSIGN_OR_RETURN(auto vmsa, r.optSize("vmsa_gpa"));
  s.vmsa_gpa = vmsa.value_or(layout::kSnpKvmVmsaGpa);
  if (vmsa && !aligned(*vmsa, kPage)) {
    return bad("alignment", "'platform.snp.vmsa_gpa' " + hex(*vmsa) + " is not page aligned",
               t.get("vmsa_gpa")->source());
  }
  if (s.host == SnpHost::kKvm) {
    // KVM builds and measures the VMSA itself at this fixed GPA (loader-vmm.md §1.5).
    if (s.vmsa_gpa != layout::kSnpKvmVmsaGpa) {
      return bad("conflict",
                 "'platform.snp.vmsa_gpa' must be " + hex(layout::kSnpKvmVmsaGpa) +
                     " when host = \"kvm\"",
                 t.get("vmsa_gpa")->source());
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
  IGVMKIT_ASSIGN_OR_RETURN(auto cbit, r.optU64("c_bit", 63));
  if (cbit) {
    // Above bit 51 is no physical address bit (igvm/gpa.h: 52 bits at most), so no C-bit.
    if (*cbit < 32 || *cbit > 51) {
      return bad("value", "'platform.snp.c_bit' must be between 32 and 51",
                 t.get("c_bit")->source());
    }
    s.c_bit = static_cast<uint8_t>(*cbit);
  }
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
        return bad("value", "'platform.snp.id_block.author_key' must not be empty",
                   id->get("author_key")->source());
      }
      b.author_key = keySpec(*author);
    }
    for (auto [key, field] : {std::pair{"id_pubkey", &b.id_pubkey},
                              std::pair{"author_pubkey", &b.author_pubkey}}) {
      IGVMKIT_ASSIGN_OR_RETURN(auto pub, ir.optString(key));
      if (pub) {
        if (pub->empty()) {
          return bad("value", std::string("'platform.snp.id_block.") + key + "' must not be empty",
                     id->get(key)->source());
        }
        *field = resolvePath(base_dir, *pub);
      }
    }
    if (b.author_pubkey && !b.author_key) {
      return bad("conflict", "'platform.snp.id_block.author_pubkey' needs author_key",
                 id->get("author_pubkey")->source());
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
  if (boundary) {
    if (!aligned(*boundary, kPage)) {
      return bad("alignment",
                 "'platform.tdx.shared_gpa_boundary' " + hex(*boundary) + " is not page aligned",
                 t.get("shared_gpa_boundary")->source());
    }
    s.shared_gpa_boundary = *boundary;
  }
  IGVMKIT_RETURN_IF_ERROR(r.finish());
  return s;
}

Result<VbsSettings> parseVbs(const toml::table& t) {
  TableReader r(t, "platform.vbs");
  VbsSettings s;
  IGVMKIT_ASSIGN_OR_RETURN(auto vtl, r.optU64("vtl", 2));
  if (vtl) {
    // The platform header's highest_vtl may only be 0 or 2 (igvm-format.md §2.5).
    if (*vtl == 1) {
      return bad("value", "'platform.vbs.vtl' must be 0 or 2", t.get("vtl")->source());
    }
    s.vtl = static_cast<uint8_t>(*vtl);
  }
  IGVMKIT_ASSIGN_OR_RETURN(auto debug, r.optBool("debug"));
  s.debug = debug.value_or(false);
  IGVMKIT_RETURN_IF_ERROR(r.finish());
  return s;
}

Status parsePlatforms(const toml::table& t, std::string_view base_dir, Manifest& m) {
  TableReader r(t, "platform");
  for (size_t i = 0; i < kPlatformWords.size(); ++i) {
    IGVMKIT_ASSIGN_OR_RETURN(const toml::table* pt, r.optTable(kPlatformWords[i]));
    if (pt == nullptr) {
      continue;
    }
    switch (static_cast<Platform>(i)) {
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
    }
  }
  return r.finish();
}

// ---- memory ----------------------------------------------------------------------------------

Result<std::vector<MemoryRange>> rangeList(TableReader& r, std::string_view key) {
  std::vector<MemoryRange> out;
  IGVMKIT_ASSIGN_OR_RETURN(auto tables, r.tableArray(key));
  for (const toml::table* t : tables) {
    TableReader er(*t, r.keyPath(key));
    IGVMKIT_ASSIGN_OR_RETURN(auto base, er.optSize("base"));
    IGVMKIT_ASSIGN_OR_RETURN(auto size, er.optSize("size"));
    IGVMKIT_RETURN_IF_ERROR(er.finish());
    if (!base) {
      return er.missing("base");
    }
    if (!size) {
      return er.missing("size");
    }
    if (!aligned(*base, kPage) || !aligned(*size, kPage) || *size == 0) {
      return bad("alignment",
                 "range " + hex(*base) + " + " + hex(*size) +
                     " in '" + r.keyPath(key) + "' must be page aligned and not empty",
                 t->source());
    }
    if (*base > std::numeric_limits<uint64_t>::max() - *size) {
      return bad("value", "range " + hex(*base) + " + " + hex(*size) + " wraps", t->source());
    }
    out.push_back({*base, *size});
  }
  return out;
}

bool overlaps(const MemoryRange& a, const MemoryRange& b) {
  return a.base < b.end() && b.base < a.end();
}

Status parseMemory(const toml::table& t, MemoryLayout& mem) {
  TableReader r(t, "memory");
  IGVMKIT_ASSIGN_OR_RETURN(auto size, r.optSize("size"));
  const bool has_ram = t.contains("ram");
  IGVMKIT_ASSIGN_OR_RETURN(mem.ram, rangeList(r, "ram"));
  const bool has_mmio = t.contains("mmio");
  IGVMKIT_ASSIGN_OR_RETURN(mem.mmio, rangeList(r, "mmio"));
  IGVMKIT_RETURN_IF_ERROR(r.finish());
  if (size && has_ram) {
    return bad("conflict", "give either 'memory.size' or 'memory.ram', not both",
               t.get("ram")->source());
  }
  if (!size && !has_ram) {
    return bad("missing_key", "missing key 'memory.size' (or 'memory.ram')", t.source());
  }
  std::sort(mem.mmio.begin(), mem.mmio.end(),
            [](const MemoryRange& a, const MemoryRange& b) { return a.base < b.base; });
  for (size_t i = 1; i < mem.mmio.size(); ++i) {
    if (overlaps(mem.mmio[i - 1], mem.mmio[i])) {
      return bad("overlap", "mmio ranges at " + hex(mem.mmio[i - 1].base) + " and " +
                                hex(mem.mmio[i].base) + " overlap",
                 t.get("mmio")->source());
    }
  }
  if (size) {
    if (*size == 0 || !aligned(*size, kPage)) {
      return bad("alignment", "'memory.size' " + hex(*size) + " must be a nonzero page multiple",
                 t.get("size")->source());
    }
    if (!has_mmio) {
      mem.mmio.push_back({layout::kDefaultMmioGapStart, layout::k4GiB - layout::kDefaultMmioGapStart});
    }
    // Fill RAM from 0 upwards around the MMIO gaps.
    uint64_t left = *size;
    uint64_t cursor = 0;
    for (const MemoryRange& gap : mem.mmio) {
      if (left == 0) {
        break;
      }
      if (gap.base > cursor) {
        uint64_t n = std::min(left, gap.base - cursor);
        mem.ram.push_back({cursor, n});
        left -= n;
      }
      cursor = std::max(cursor, gap.end());
    }
    if (left != 0) {
      mem.ram.push_back({cursor, left});
    }
    return okStatus();
  }
  std::sort(mem.ram.begin(), mem.ram.end(),
            [](const MemoryRange& a, const MemoryRange& b) { return a.base < b.base; });
  for (size_t i = 1; i < mem.ram.size(); ++i) {
    if (overlaps(mem.ram[i - 1], mem.ram[i])) {
      return bad("overlap", "ram ranges at " + hex(mem.ram[i - 1].base) + " and " +
                                hex(mem.ram[i].base) + " overlap",
                 t.get("ram")->source());
    }
  }
  for (const MemoryRange& ram : mem.ram) {
    for (const MemoryRange& gap : mem.mmio) {
      if (overlaps(ram, gap)) {
        return bad("overlap", "ram range at " + hex(ram.base) + " overlaps mmio range at " +
                                  hex(gap.base),
                   t.get("mmio")->source());
      }
    }
  }
  return okStatus();
}

// ---- components ------------------------------------------------------------------------------

Result<LinuxComponent> parseLinux(const toml::table& t, std::string_view base_dir) {
  TableReader r(t, "linux");
  LinuxComponent c;
  IGVMKIT_ASSIGN_OR_RETURN(c.kernel, requiredPath(r, "kernel", base_dir));
  if (t.contains("initrd")) {
    IGVMKIT_ASSIGN_OR_RETURN(c.initrd, requiredPath(r, "initrd", base_dir));
  }
  IGVMKIT_ASSIGN_OR_RETURN(auto cmdline, r.optString("cmdline"));
  c.cmdline = cmdline.value_or("");
  if (c.cmdline.find('\0') != std::string::npos) {
    return bad("value", "'linux.cmdline' contains a NUL character", t.get("cmdline")->source());
  }
  if (c.cmdline.size() + 1 > layout::kCommandLineMaxBytes) {
    return bad("value",
               "'linux.cmdline' is " + std::to_string(c.cmdline.size()) + " bytes; at most " +
                   std::to_string(layout::kCommandLineMaxBytes - 1) + " fit",
               t.get("cmdline")->source());
  }
  IGVMKIT_ASSIGN_OR_RETURN(c.load_address, r.optSize("load_address"));
  if (c.load_address &&
      (!aligned(*c.load_address, kPage) || *c.load_address < layout::kHighMemoryStart)) {
    return bad("value",
               "'linux.load_address' " + hex(*c.load_address) +
                   " must be page aligned and at least " + hex(layout::kHighMemoryStart),
               t.get("load_address")->source());
  }
  IGVMKIT_RETURN_IF_ERROR(r.finish());
  return c;
}

Result<FirmwareComponent> parseFirmware(const toml::table& t, std::string_view base_dir) {
  TableReader r(t, "firmware");
  FirmwareComponent c;
  IGVMKIT_ASSIGN_OR_RETURN(c.image, requiredPath(r, "image", base_dir));
  if (t.contains("vars")) {
    IGVMKIT_ASSIGN_OR_RETURN(c.vars, requiredPath(r, "vars", base_dir));
  }
  IGVMKIT_ASSIGN_OR_RETURN(c.gpa, r.optSize("gpa"));
  if (c.gpa && !aligned(*c.gpa, kPage)) {
    return bad("alignment", "'firmware.gpa' " + hex(*c.gpa) + " is not page aligned",
               t.get("gpa")->source());
  }
  if (t.contains("kernel")) {
    IGVMKIT_ASSIGN_OR_RETURN(c.kernel, requiredPath(r, "kernel", base_dir));
  }
  if (t.contains("initrd")) {
    IGVMKIT_ASSIGN_OR_RETURN(c.initrd, requiredPath(r, "initrd", base_dir));
  }
  IGVMKIT_ASSIGN_OR_RETURN(c.cmdline, r.optString("cmdline"));
  if ((c.initrd || c.cmdline) && !c.kernel) {
    // QEMU hashes initrd and command line only for a -kernel launch (kernel-hashes=on).
    return bad("missing_key", "'firmware.initrd' and 'firmware.cmdline' need 'firmware.kernel'",
               t.source());
  }
  if (c.cmdline && c.cmdline->find('\0') != std::string::npos) {
    return bad("value", "'firmware.cmdline' contains a NUL character", t.get("cmdline")->source());
  }
  IGVMKIT_RETURN_IF_ERROR(r.finish());
  return c;
}

// [<component>.relocatable] (igvm-format.md §2.6).
Result<Relocation> parseRelocation(const toml::table& t, const std::string& path) {
  TableReader r(t, path);
  Relocation rel;
  IGVMKIT_ASSIGN_OR_RETURN(auto alignment, r.optSize("alignment"));
  IGVMKIT_ASSIGN_OR_RETURN(auto minimum, r.optSize("minimum"));
  IGVMKIT_ASSIGN_OR_RETURN(auto maximum, r.optSize("maximum"));
  if (!alignment) {
    return r.missing("alignment");
  }
  if (!maximum) {
    return r.missing("maximum");
  }
  if (*alignment == 0 || !aligned(*alignment, kPage)) {
    return bad("alignment", "'" + path + ".alignment' " + hex(*alignment) +
                                " must be a nonzero multiple of 0x1000",
               t.get("alignment")->source());
  }
  rel.alignment = *alignment;
  rel.minimum = minimum.value_or(0);
  rel.maximum = *maximum;
  for (auto [key, v] : {std::pair{"minimum", rel.minimum}, std::pair{"maximum", rel.maximum}}) {
    if (!aligned(v, rel.alignment)) {
      const toml::node* n = t.get(key);
      return bad("alignment",
                 "'" + path + "." + key + "' " + hex(v) + " is not a multiple of the alignment " +
                     hex(rel.alignment),
                 n != nullptr ? n->source() : t.source());
    }
  }
  if (rel.maximum <= rel.minimum) {
    return bad("value", "'" + path + ".maximum' " + hex(rel.maximum) + " must be above minimum " +
                            hex(rel.minimum),
               t.get("maximum")->source());
  }
  IGVMKIT_ASSIGN_OR_RETURN(auto rip, r.optBool("apply_rip"));
  IGVMKIT_ASSIGN_OR_RETURN(auto gdtr, r.optBool("apply_gdtr"));
  rel.apply_rip = rip.value_or(true);
  rel.apply_gdtr = gdtr.value_or(false);
  IGVMKIT_RETURN_IF_ERROR(r.finish());
  return rel;
}

Result<PayloadComponent> parsePayload(const toml::table& t, std::string_view base_dir) {
  TableReader r(t, "payload");
  PayloadComponent c;
  IGVMKIT_ASSIGN_OR_RETURN(c.elf, requiredPath(r, "elf", base_dir));
  IGVMKIT_ASSIGN_OR_RETURN(const toml::table* rel, r.optTable("relocatable"));
  if (rel != nullptr) {
    IGVMKIT_ASSIGN_OR_RETURN(c.relocatable, parseRelocation(*rel, "payload.relocatable"));
  }
  IGVMKIT_RETURN_IF_ERROR(r.finish());
  return c;
}

Status checkPlatformsTargeted(const PlatformList& list, const Manifest& m,
                              const toml::source_region& where) {
  PlatformList targeted = m.platforms();
  for (Platform p : list) {
    if (std::find(targeted.begin(), targeted.end(), p) == targeted.end()) {
      return bad("value",
                 "platform \"" + std::string(platformName(p)) +
                     "\" is listed but has no [platform." + std::string(platformName(p)) +
                     "] table",
                 where);
    }
  }
  return okStatus();
}

Result<DataBlob> parseData(const toml::table& t, std::string_view base_dir, const Manifest& m) {
  TableReader r(t, "data");
  DataBlob d;
  if (t.contains("file")) {
    IGVMKIT_ASSIGN_OR_RETURN(d.file, requiredPath(r, "file", base_dir));
  }
  IGVMKIT_ASSIGN_OR_RETURN(auto gpa, r.optSize("gpa"));
  IGVMKIT_ASSIGN_OR_RETURN(d.size, r.optSize("size"));
  IGVMKIT_ASSIGN_OR_RETURN(auto unmeasured, r.optBool("unmeasured"));
  IGVMKIT_ASSIGN_OR_RETURN(auto shared, r.optBool("shared"));
  constexpr std::array<std::string_view, 4> kTypes = {"normal", "secrets", "cpuid", "cpuid_xf"};
  IGVMKIT_ASSIGN_OR_RETURN(auto type, r.optWord("type", kTypes));
  IGVMKIT_ASSIGN_OR_RETURN(d.platforms, platformList(r, "platforms"));
  IGVMKIT_RETURN_IF_ERROR(r.finish());
  if (!gpa) {
    return r.missing("gpa");
  }
  d.gpa = *gpa;
  if (!aligned(d.gpa, kPage)) {
    return bad("alignment", "'data.gpa' " + hex(d.gpa) + " is not page aligned",
               t.get("gpa")->source());
  }
  if (!d.file && !d.size) {
    return bad("missing_key", "a [[data]] without 'file' needs 'size'", t.source());
  }
  // Every page of a blob becomes a directive; 4 GiB is already a million of them.
  if (d.size && (*d.size == 0 || *d.size > kMaxDataBytes ||
                 d.gpa > std::numeric_limits<uint64_t>::max() - *d.size)) {
    return bad("value", "'data.size' " + hex(*d.size) + " must be in 1.." + hex(kMaxDataBytes) +
                            " and not wrap",
               t.get("size")->source());
  }
  d.unmeasured = unmeasured.value_or(false);
  d.shared = shared.value_or(false);
  if (d.unmeasured && d.shared) {
    return bad("conflict", "a [[data]] is either 'unmeasured' or 'shared', not both",
               t.get("shared")->source());
  }
  d.type = static_cast<PageDataType>(type.value_or(0));
  IGVMKIT_RETURN_IF_ERROR(checkPlatformsTargeted(d.platforms, m, t.get("platforms") != nullptr
                                                                    ? t.get("platforms")->source()
                                                                    : t.source()));
  if (d.type != PageDataType::kNormal) {
    // SECRETS and CPUID pages are SEV-SNP page types (igvm-format.md §3).
    PlatformList applies = d.platforms.empty() ? m.platforms() : d.platforms;
    if (applies != PlatformList{Platform::kSnp}) {
      return bad("conflict",
                 "type \"" + std::string(kTypes[static_cast<size_t>(d.type)]) +
                     "\" pages exist only on snp; set platforms = [\"snp\"]",
                 t.get("type")->source());
    }
    if (d.unmeasured || d.shared) {
      return bad("conflict", "type \"" + std::string(kTypes[static_cast<size_t>(d.type)]) +
                                 "\" pages cannot be unmeasured or shared",
                 t.get("type")->source());
    }
  }
  return d;
}

struct ParamSpec {
  ParameterKind kind;
  std::string_view key;
  uint64_t min_bytes;  // what the loader writes at the least
};
constexpr std::array<ParamSpec, 10> kParams = {{
    {ParameterKind::kVpCount, "vp_count", 4},
    {ParameterKind::kSrat, "srat", 1},
    {ParameterKind::kMadt, "madt", 1},
    {ParameterKind::kMmioRanges, "mmio_ranges", 32},
    {ParameterKind::kMemoryMap, "memory_map", 24},
    {ParameterKind::kCommandLine, "command_line", 1},
    {ParameterKind::kSlit, "slit", 1},
    {ParameterKind::kPptt, "pptt", 1},
    {ParameterKind::kDeviceTree, "device_tree", 1},
    {ParameterKind::kEnvironmentInfo, "environment_info", 4},
}};

Result<ParameterArea> parseParameterArea(const toml::table& t, const Manifest& m) {
  TableReader r(t, "parameter_area");
  ParameterArea a;
  IGVMKIT_ASSIGN_OR_RETURN(auto gpa, r.optSize("gpa"));
  IGVMKIT_ASSIGN_OR_RETURN(auto size, r.optSize("size"));
  a.size = size.value_or(kPage);
  std::map<uint64_t, std::string_view> at_offset;  // parameter offset -> its key
  for (const ParamSpec& spec : kParams) {
    IGVMKIT_ASSIGN_OR_RETURN(auto off, r.optU64(spec.key, 0xFFFF'FFFF));
    if (!off) {
      continue;
    }
    if (*off > a.size || a.size - *off < spec.min_bytes) {
      return bad("value",
                 "'parameter_area." + std::string(spec.key) + "' offset " + hex(*off) +
                     " leaves less than " + std::to_string(spec.min_bytes) +
                     " bytes in an area of " + hex(a.size),
                 t.get(spec.key)->source());
    }
    // Two values at one offset: the later would silently replace the earlier.
    if (auto [it, fresh] = at_offset.emplace(*off, spec.key); !fresh) {
      return bad("overlap",
                 "'parameter_area." + std::string(spec.key) + "' offset " + hex(*off) +
                     " is already 'parameter_area." + std::string(it->second) + "''s",
                 t.get(spec.key)->source());
    }
    a.parameters.push_back({spec.kind, static_cast<uint32_t>(*off)});
  }
  IGVMKIT_ASSIGN_OR_RETURN(a.platforms, platformList(r, "platforms"));
  IGVMKIT_RETURN_IF_ERROR(r.finish());
  if (!gpa) {
    return r.missing("gpa");
  }
  a.gpa = *gpa;
  if (!aligned(a.gpa, kPage)) {
    return bad("alignment", "'parameter_area.gpa' " + hex(a.gpa) + " is not page aligned",
               t.get("gpa")->source());
  }
  if (a.size == 0 || !aligned(a.size, kPage) || a.gpa > std::numeric_limits<uint64_t>::max() - a.size) {
    return bad("alignment", "'parameter_area.size' " + hex(a.size) + " must be a nonzero page multiple",
               t.get("size")->source());
  }
  if (a.size > kMaxParameterAreaBytes) {
    return bad("value", "'parameter_area.size' " + hex(a.size) + " exceeds " +
                            hex(kMaxParameterAreaBytes),
               t.get("size")->source());
  }
  if (a.parameters.empty()) {
    return bad("missing_key",
               "a [[parameter_area]] needs at least one parameter (vp_count, memory_map, "
               "command_line, device_tree, madt, srat, slit, pptt, mmio_ranges, environment_info)",
               t.source());
  }
  IGVMKIT_RETURN_IF_ERROR(checkPlatformsTargeted(
      a.platforms, m, t.get("platforms") != nullptr ? t.get("platforms")->source() : t.source()));
  return a;
}

Result<RequiredMemory> parseRequiredMemory(const toml::table& t, const MemoryLayout& mem) {
  TableReader r(t, "required_memory");
  RequiredMemory q;
  IGVMKIT_ASSIGN_OR_RETURN(auto gpa, r.optSize("gpa"));
  IGVMKIT_ASSIGN_OR_RETURN(auto size, r.optSize("size"));
  IGVMKIT_ASSIGN_OR_RETURN(auto vtl2, r.optBool("vtl2_protectable"));
  IGVMKIT_RETURN_IF_ERROR(r.finish());
  if (!gpa) {
    return r.missing("gpa");
  }
  if (!size) {
    return r.missing("size");
  }
  // number_of_bytes is a u32 in IGVM_VHS_REQUIRED_MEMORY (igvm-format.md §2.7).
  if (!aligned(*gpa, kPage) || !aligned(*size, kPage) || *size == 0 || *size > 0xFFFF'F000) {
    return bad("alignment",
               "required memory " + hex(*gpa) + " + " + hex(*size) +
                   " must be page aligned, not empty and below 4 GiB in size",
               t.source());
  }
  if (!mem.isRam(*gpa, *size)) {
    return bad("value", "required memory " + hex(*gpa) + " + " + hex(*size) + " is not RAM",
               t.source());
  }
  q.gpa = *gpa;
  q.size = static_cast<uint32_t>(*size);
  q.vtl2_protectable = vtl2.value_or(false);
  return q;
}

constexpr std::array<std::string_view, 30> kRegisterNames = {
    "rax",       "rcx",        "rdx",       "rbx",        "rsp",           "rbp",
    "rsi",       "rdi",        "r8",        "r9",         "r10",           "r11",
    "r12",       "r13",        "r14",       "r15",        "rip",           "rflags",
    "cr0",       "cr3",        "cr4",       "efer",       "gdtr_base",     "gdtr_limit",
    "idtr_base", "idtr_limit", "code_selector", "code_attributes", "data_selector",
    "data_attributes"};

Status parseVp(const toml::table& t, Manifest& m) {
  TableReader r(t, "vp");
  constexpr std::array<std::string_view, 3> kModes = {"long", "registers", "reset"};
  IGVMKIT_ASSIGN_OR_RETURN(auto mode, r.optWord("mode", kModes));
  if (mode) {
    m.vp.mode = static_cast<EntryMode>(*mode);
  }
  IGVMKIT_ASSIGN_OR_RETURN(auto map, r.optSize("identity_map_size"));
  if (map) {
    if (*map == 0 || !aligned(*map, layout::kLargePageSize)) {
      return bad("alignment", "'vp.identity_map_size' " + hex(*map) + " must be a nonzero 2 MiB multiple",
                 t.get("identity_map_size")->source());
    }
    // One PML4 + one PDPT + one PD per GiB must fit the page-table area (layout.h).
    uint64_t pages = 2 + (*map + layout::kGiB - 1) / layout::kGiB;
    if (pages * kPage > layout::kPageTablesMaxBytes || *map > 512 * layout::kGiB) {
      return bad("value", "'vp.identity_map_size' " + hex(*map) + " needs more page tables than fit",
                 t.get("identity_map_size")->source());
    }
    m.vp.identity_map_size = *map;
  }
  IGVMKIT_ASSIGN_OR_RETURN(auto pt_reloc, r.optBool("page_table_relocation"));
  m.vp.page_table_relocation = pt_reloc.value_or(false);
  IGVMKIT_ASSIGN_OR_RETURN(auto free_pages, r.optU64("page_table_free_pages", 64));
  if (free_pages) {
    m.vp.page_table_free_pages = static_cast<uint32_t>(*free_pages);
  }
  IGVMKIT_ASSIGN_OR_RETURN(const toml::table* regs, r.optTable("registers"));
  if (regs != nullptr) {
    TableReader rr(*regs, "vp.registers");
    for (size_t i = 0; i < kRegisterNames.size(); ++i) {
      auto reg = static_cast<Register>(i);
      bool is16 = reg == Register::kGdtrLimit || reg == Register::kIdtrLimit ||
                  reg == Register::kCodeSelector || reg == Register::kCodeAttributes ||
                  reg == Register::kDataSelector || reg == Register::kDataAttributes;
      IGVMKIT_ASSIGN_OR_RETURN(auto v, rr.optU64(kRegisterNames[i],
                                                 is16 ? 0xFFFF : std::numeric_limits<int64_t>::max()));
      if (!v) {
        continue;
      }
      // Attributes use the 16-bit descriptor form; bits 11:8 must be zero (igvm-format.md §5.4).
      if ((reg == Register::kCodeAttributes || reg == Register::kDataAttributes) &&
          (*v & 0x0F00) != 0) {
        return bad("value", "'vp.registers." + std::string(kRegisterNames[i]) + "' " + hex(*v) +
                                " sets bits 11:8",
                   regs->get(kRegisterNames[i])->source());
      }
      m.vp.registers[reg] = *v;
    }
    IGVMKIT_RETURN_IF_ERROR(rr.finish());
  }
  return r.finish();
}

Status checkLayout(Manifest& m, const toml::table& root) {
  const int boot_components = (m.linux_boot ? 1 : 0) + (m.firmware ? 1 : 0) + (m.payload ? 1 : 0);
  if (boot_components > 1) {
    return bad("boot_component", "give at most one of [linux], [firmware] and [payload]",
               root.source());
  }
  const toml::node* vp_node = root.get("vp");
  const toml::source_region vp_where = vp_node != nullptr ? vp_node->source() : root.source();
  const bool mode_given = vp_node != nullptr && vp_node->as_table() != nullptr &&
                          vp_node->as_table()->contains("mode");
  if (!mode_given) {
    m.vp.mode = m.firmware ? EntryMode::kReset : m.vp.registers.empty() || m.linux_boot || m.payload
                                                     ? EntryMode::kLongMode
                                                     : EntryMode::kRegisters;
  }
  if (boot_components == 0 && m.vp.mode != EntryMode::kRegisters) {
    return bad("boot_component",
               "give one of [linux], [firmware] or [payload], or vp.mode = \"registers\"",
               root.source());
  }
  if (m.vp.mode == EntryMode::kReset && (m.linux_boot || m.payload)) {
    return bad("conflict", "vp.mode = \"reset\" cannot enter a [linux] or [payload] component",
               vp_where);
  }
  if (m.vp.mode != EntryMode::kLongMode && m.linux_boot) {
    return bad("conflict", "[linux] boots only with vp.mode = \"long\"", vp_where);
  }
  if (m.vp.mode == EntryMode::kReset && !m.vp.registers.empty()) {
    return bad("conflict", "vp.mode = \"reset\" takes no [vp.registers]", vp_where);
  }
  if (m.vp.mode == EntryMode::kRegisters && m.vp.registers.count(Register::kRip) == 0) {
    return bad("missing_key", "vp.mode = \"registers\" needs 'vp.registers.rip'", vp_where);
  }
  if (m.vp.mode == EntryMode::kLongMode && m.firmware && m.vp.registers.count(Register::kRip) == 0) {
    return bad("missing_key", "[firmware] entered in long mode needs 'vp.registers.rip'", vp_where);
  }
  const bool relocatable = m.payload && m.payload->relocatable;
  if (relocatable || m.vp.page_table_relocation) {
    // The parser accepts relocation headers only with a later VBS VP context of the same VTL
    // (igvm-format.md §2.6), and the loader relocates VTL 0 guests only.
    if (!m.vbs || m.vbs->vtl != 0) {
      return bad("conflict",
                 "relocation needs [platform.vbs] with vtl = 0 (IGVM relocation headers must be "
                 "followed by a VBS VP context)",
                 root.source());
    }
  }
  if (m.vp.page_table_relocation && m.vp.mode != EntryMode::kLongMode) {
    return bad("conflict", "vp.page_table_relocation needs vp.mode = \"long\" (generated tables)",
               vp_where);
  }
  if (m.vp.mode == EntryMode::kReset && (m.vbs || (m.snp && !m.firmware))) {
    // SNP and VBS start from an initial VP context the file must carry (igvm-format.md §5); for
    // [firmware] on SNP the builder writes the reset VMSAs QEMU would create.
    return bad("conflict", "snp and vbs guests need a VP context; vp.mode = \"reset\" has none",
               vp_where);
  }
  if (m.firmware && m.firmware->kernel && (!m.snp || m.vp.mode != EntryMode::kReset)) {
    return bad("conflict",
               "'firmware.kernel' goes into the SNP_KERNEL_HASHES page of an SNP firmware launch: "
               "it needs [platform.snp] and vp.mode = \"reset\"",
               root.source());
  }
  if (m.firmware && m.snp && m.vp.mode == EntryMode::kReset) {
    // The VMSAs are the ones QEMU + KVM create for a plain OVMF launch (measure/ovmf_launch.h).
    const toml::node* snp_node = root.at_path("platform.snp").node();
    const toml::source_region where = snp_node != nullptr ? snp_node->source() : root.source();
    if (m.snp->host != SnpHost::kKvm) {
      return bad("conflict",
                 "an SNP [firmware] launch is QEMU's on KVM: 'platform.snp.host' must be \"kvm\"",
                 where);
    }
    if (m.snp->vmm == measure::VmmType::kQemu && !m.snp->vcpu_sig) {
      // QEMU puts the vCPU signature in RDX (sev-snp-measure requires it the same way).
      return bad("missing_key",
                 "an SNP [firmware] launch under QEMU needs 'platform.snp.vcpu_type' or "
                 "'platform.snp.vcpu_sig'",
                 where);
    }
  }
  if (m.vp.mode == EntryMode::kLongMode) {
    // The builder's GDT, zero page, command line, stack and page tables live in low RAM.
    if (!m.memory.isRam(0, layout::kLowAreaEnd)) {
      return bad("value",
                 "vp.mode = \"long\" needs RAM at [0x0, " + hex(layout::kLowAreaEnd) +
                     ") for the boot structures",
                 root.get("memory") != nullptr ? root.get("memory")->source() : root.source());
    }
    const MemoryRange low{layout::kGdtGpa, layout::kLowAreaEnd - layout::kGdtGpa};
    for (size_t i = 0; i < m.data.size(); ++i) {
      const DataBlob& d = m.data[i];
      if (d.size && overlaps({d.gpa, *d.size}, low)) {
        return bad("overlap",
                   "[[data]] at " + hex(d.gpa) + " overlaps the boot structures at [" +
                       hex(low.base) + ", " + hex(low.end()) + ")",
                   root.get("data")->as_array()->get(i)->source());
      }
    }
    for (size_t i = 0; i < m.parameter_areas.size(); ++i) {
      const ParameterArea& a = m.parameter_areas[i];
      if (overlaps({a.gpa, a.size}, low)) {
        return bad("overlap",
                   "[[parameter_area]] at " + hex(a.gpa) + " overlaps the boot structures at [" +
                       hex(low.base) + ", " + hex(low.end()) + ")",
                   root.get("parameter_area")->as_array()->get(i)->source());
      }
    }
  }
  // Blobs and parameter areas with known sizes must not overlap each other.
  struct Placed {
    MemoryRange range;
    std::string what;
    toml::source_region where;
  };
  std::vector<Placed> placed;
  for (size_t i = 0; i < m.data.size(); ++i) {
    if (m.data[i].size) {
      placed.push_back({{m.data[i].gpa, *m.data[i].size}, "[[data]]",
                        root.get("data")->as_array()->get(i)->source()});
    }
  }
  for (size_t i = 0; i < m.parameter_areas.size(); ++i) {
    placed.push_back({{m.parameter_areas[i].gpa, m.parameter_areas[i].size}, "[[parameter_area]]",
                      root.get("parameter_area")->as_array()->get(i)->source()});
  }
  for (size_t i = 0; i < placed.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (overlaps(placed[i].range, placed[j].range)) {
        return bad("overlap",
                   placed[i].what + " at " + hex(placed[i].range.base) + " overlaps " +
                       placed[j].what + " at " + hex(placed[j].range.base),
                   placed[i].where);
      }
    }
  }
  return okStatus();
}

// The text must be well-formed UTF-8 (TOML requires it), checked here strictly (RFC 3629: no
// overlong forms, no surrogates, nothing above U+10FFFF) because toml++ decodes malformed bytes
// into arbitrary code points. And toml++ 3.3's is_non_ascii_horizontal_whitespace() reaches
// TOML_UNREACHABLE (undefined behaviour) for every code point of three of its 64 lookup blocks
// but the one whitespace character each holds: U+00A1..U+0499, U+2C5E..U+3057 (except U+3000)
// and U+FB26..U+FEFE. It is called wherever whitespace may occur, so those characters are refused
// everywhere. Both found by //builder:manifest_fuzz.
Status checkText(std::string_view text) {
  uint32_t line = 1;
  uint32_t column = 1;
  auto fail = [&](std::string message) {
    Location loc;
    loc.line = line;
    loc.column = column;
    return invalid("manifest.syntax", std::move(message), loc);
  };
  size_t i = 0;
  while (i < text.size()) {
    const auto b0 = static_cast<uint8_t>(text[i]);
    if (b0 == '\n') {
      ++line;
      column = 1;
      ++i;
      continue;
    }
    size_t n = 1;
    uint32_t cp = b0;
    uint32_t min = 0;
    if (b0 >= 0x80) {
      if (b0 >= 0xC2 && b0 <= 0xDF) {
        n = 2, cp = b0 & 0x1Fu, min = 0x80;
      } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        n = 3, cp = b0 & 0x0Fu, min = 0x800;
      } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        n = 4, cp = b0 & 0x07u, min = 0x1'0000;
      } else {
        return fail("invalid UTF-8 byte " + hex(b0));
      }
      if (text.size() - i < n) {
        return fail("truncated UTF-8 sequence");
      }
      for (size_t k = 1; k < n; ++k) {
        const auto b = static_cast<uint8_t>(text[i + k]);
        if ((b & 0xC0) != 0x80) {
          return fail("invalid UTF-8 sequence");
        }
        cp = (cp << 6) | (b & 0x3Fu);
      }
      if (cp < min || cp > 0x10'FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        return fail("invalid UTF-8 sequence");
      }
      if ((cp >= 0xA1 && cp <= 0x499) || (cp >= 0x2C5E && cp <= 0x3057 && cp != 0x3000) ||
          (cp >= 0xFB26 && cp <= 0xFEFE)) {
        return fail("unsupported character U+" + hex(cp).substr(2) +
                    " (toml++ 3.3 mishandles U+00A1..U+0499, U+2C5E..U+3057 and U+FB26..U+FEFE)");
      }
    }
    i += n;
    ++column;
  }
  return okStatus();
}

}  // namespace

std::string_view platformName(Platform p) { return kPlatformWords[static_cast<size_t>(p)]; }

std::string_view parameterName(ParameterKind k) {
  for (const ParamSpec& s : kParams) {
    if (s.kind == k) {
      return s.key;
    }
  }
  return "?";
}

std::string_view registerName(Register r) { return kRegisterNames[static_cast<size_t>(r)]; }

uint64_t TdxSettings::policy() const {
  return (debug ? 1u : 0u) | (sept_ve_disable ? 2u : 0u) | (migratable ? 4u : 0u);
}

uint64_t MemoryLayout::ramBytes() const {
  uint64_t total = 0;
  for (const MemoryRange& r : ram) {
    total += r.size;
  }
  return total;
}

bool MemoryLayout::isRam(uint64_t gpa, uint64_t size) const {
  for (const MemoryRange& r : ram) {
    if (gpa >= r.base && gpa < r.end() && size <= r.end() - gpa) {
      return true;
    }
  }
  return false;
}

std::vector<std::string> Manifest::inputFiles() const {
  std::vector<std::string> out;
  if (snp && snp->id_block) {
    out.push_back(snp->id_block->id_key);
    if (snp->id_block->author_key) {
      out.push_back(*snp->id_block->author_key);
    }
  }
  if (linux_boot) {
    out.push_back(linux_boot->kernel);
    if (linux_boot->initrd) {
      out.push_back(*linux_boot->initrd);
    }
  }
  if (firmware) {
    out.push_back(firmware->image);
  }
  if (payload) {
    out.push_back(payload->elf);
  }
  for (const DataBlob& blob : data) {
    if (blob.file) {
      out.push_back(*blob.file);
    }
  }
  return out;
}

PlatformList Manifest::platforms() const {
  PlatformList out;
  if (native) {
    out.push_back(Platform::kNative);
  }
  if (snp) {
    out.push_back(Platform::kSnp);
  }
  if (tdx) {
    out.push_back(Platform::kTdx);
  }
  if (vbs) {
    out.push_back(Platform::kVbs);
  }
  return out;
}

Result<uint64_t> parseSize(std::string_view text) { return igvmkit::parseSize(text); }

Result<Manifest> parseManifest(std::string_view text, std::string_view source_name,
                               std::string_view base_dir) {
  IGVMKIT_RETURN_IF_ERROR(checkText(text));
  toml::parse_result parsed = toml::parse(text, std::string(source_name));
  if (!parsed) {
    const toml::parse_error& e = parsed.error();
    return bad("syntax", std::string(e.description()), e.source());
  }
  const toml::table& root = parsed.table();
  Manifest m;
  m.source_name = std::string(source_name);
  TableReader r(root, "");

  IGVMKIT_ASSIGN_OR_RETURN(const toml::table* platform, r.optTable("platform"));
  if (platform != nullptr) {
    IGVMKIT_RETURN_IF_ERROR(parsePlatforms(*platform, base_dir, m));
  }
  if (m.platforms().empty()) {
    return bad("no_platform",
               "no target platform: add at least one of [platform.native], [platform.snp], "
               "[platform.tdx], [platform.vbs]",
               platform != nullptr ? platform->source() : root.source());
  }
  IGVMKIT_ASSIGN_OR_RETURN(const toml::table* memory, r.optTable("memory"));
  if (memory == nullptr) {
    return r.missing("memory");
  }
  IGVMKIT_RETURN_IF_ERROR(parseMemory(*memory, m.memory));

  IGVMKIT_ASSIGN_OR_RETURN(const toml::table* lin, r.optTable("linux"));
  if (lin != nullptr) {
    IGVMKIT_ASSIGN_OR_RETURN(m.linux_boot, parseLinux(*lin, base_dir));
  }
  IGVMKIT_ASSIGN_OR_RETURN(const toml::table* fw, r.optTable("firmware"));
  if (fw != nullptr) {
    IGVMKIT_ASSIGN_OR_RETURN(m.firmware, parseFirmware(*fw, base_dir));
  }
  IGVMKIT_ASSIGN_OR_RETURN(const toml::table* pl, r.optTable("payload"));
  if (pl != nullptr) {
    IGVMKIT_ASSIGN_OR_RETURN(m.payload, parsePayload(*pl, base_dir));
  }
  IGVMKIT_ASSIGN_OR_RETURN(auto data, r.tableArray("data"));
  for (const toml::table* t : data) {
    IGVMKIT_ASSIGN_OR_RETURN(DataBlob d, parseData(*t, base_dir, m));
    m.data.push_back(std::move(d));
  }
  IGVMKIT_ASSIGN_OR_RETURN(auto areas, r.tableArray("parameter_area"));
  for (const toml::table* t : areas) {
    IGVMKIT_ASSIGN_OR_RETURN(ParameterArea a, parseParameterArea(*t, m));
    m.parameter_areas.push_back(std::move(a));
  }
  IGVMKIT_ASSIGN_OR_RETURN(auto required, r.tableArray("required_memory"));
  for (const toml::table* t : required) {
    IGVMKIT_ASSIGN_OR_RETURN(RequiredMemory q, parseRequiredMemory(*t, m.memory));
    m.required_memory.push_back(q);
  }
  IGVMKIT_ASSIGN_OR_RETURN(const toml::table* vp, r.optTable("vp"));
  if (vp != nullptr) {
    IGVMKIT_RETURN_IF_ERROR(parseVp(*vp, m));
  }
  IGVMKIT_RETURN_IF_ERROR(r.finish());
  IGVMKIT_RETURN_IF_ERROR(checkLayout(m, root));
  return m;
}

}  // namespace igvmkit::builder
