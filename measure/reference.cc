#include "measure/reference.h"

#include <algorithm>
#include <array>
#include <set>

namespace igvmkit::measure {
namespace {

using Json = nlohmann::ordered_json;

Error bad(const std::string& rule, const std::string& message) {
  return invalid("reference." + rule, message);
}

Result<ByteVector> hexField(const Json& value, const std::string& key, size_t max_len,
                            bool exact) {
  if (!value.is_string()) {
    return bad(key, "\"" + key + "\" must be a hex string");
  }
  std::string text = value.get<std::string>();
  if (text.rfind("0x", 0) == 0 || text.rfind("0X", 0) == 0) {
    text = text.substr(2);
  }
  Result<ByteVector> bytes = parseHexBytes(text);
  if (!bytes.ok()) {
    return bad(key, "\"" + key + "\": " + bytes.error().message);
  }
  if (exact ? bytes->size() != max_len : bytes->size() > max_len) {
    return bad(key, "\"" + key + "\" has " + std::to_string(bytes->size()) + " bytes, expected " +
                        (exact ? "" : "at most ") + std::to_string(max_len));
  }
  return std::move(bytes).value();
}

Result<uint64_t> unsignedField(const Json& value, const std::string& key, uint64_t max) {
  if (!value.is_number_unsigned() && !(value.is_number_integer() && value.get<int64_t>() >= 0)) {
    return bad(key, "\"" + key + "\" must be a non-negative integer");
  }
  uint64_t v = value.get<uint64_t>();
  if (v > max) {
    return bad(key, "\"" + key + "\" value " + std::to_string(v) + " exceeds " + std::to_string(max));
  }
  return v;
}

// TD attributes and XFAM: a number (the 64-bit value) or a 16-digit hex string of the 8 bytes in
// quote order (little endian), as evidence dumps print them.
Result<uint64_t> u64OrBytes(const Json& value, const std::string& key) {
  if (value.is_string()) {
    IGVMKIT_ASSIGN_OR_RETURN(ByteVector bytes, hexField(value, key, 8, true));
    uint64_t v = 0;
    for (size_t i = 0; i < 8; ++i) {
      v |= static_cast<uint64_t>(bytes[i]) << (8 * i);
    }
    return v;
  }
  return unsignedField(value, key, UINT64_MAX);
}

std::string hexString(const ByteVector& bytes) { return hexBytes(bytes); }

constexpr const char* kIdentityKeys[] = {"id_key_digest", "author_key_digest", "family_id",
                                         "image_id",      "guest_svn",         "guest_policy"};

bool isIdentityKey(const std::string& key) {
  for (const char* k : kIdentityKeys) {
    if (key == k) {
      return true;
    }
  }
  return false;
}

// The ID-block identity keys of a measurement: all or none (author_key_digest optional).
Result<std::optional<ReferenceDigest::IdBlockIdentity>> parseIdentity(const Json& doc) {
  bool any = false;
  for (const char* k : kIdentityKeys) {
    any = any || doc.contains(k);
  }
  if (!any) {
    return std::optional<ReferenceDigest::IdBlockIdentity>();
  }
  for (const char* k : {"id_key_digest", "family_id", "image_id", "guest_svn", "guest_policy"}) {
    if (!doc.contains(k)) {
      return bad(k, std::string("an id block identity lacks \"") + k + "\"");
    }
  }
  ReferenceDigest::IdBlockIdentity id;
  IGVMKIT_ASSIGN_OR_RETURN(id.id_key_digest, hexField(doc["id_key_digest"], "id_key_digest", 48, true));
  if (doc.contains("author_key_digest")) {
    IGVMKIT_ASSIGN_OR_RETURN(id.author_key_digest,
                             hexField(doc["author_key_digest"], "author_key_digest", 48, true));
  }
  IGVMKIT_ASSIGN_OR_RETURN(id.family_id, hexField(doc["family_id"], "family_id", 16, true));
  IGVMKIT_ASSIGN_OR_RETURN(id.image_id, hexField(doc["image_id"], "image_id", 16, true));
  IGVMKIT_ASSIGN_OR_RETURN(uint64_t svn, unsignedField(doc["guest_svn"], "guest_svn", UINT32_MAX));
  id.guest_svn = static_cast<uint32_t>(svn);
  IGVMKIT_ASSIGN_OR_RETURN(id.guest_policy, unsignedField(doc["guest_policy"], "guest_policy", UINT64_MAX));
  return std::optional<ReferenceDigest::IdBlockIdentity>(std::move(id));
}

// Optimal string alignment distance, small strings only.
size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

// A measurement document keeps keys it does not know (the measurement's stated assumptions),
// so a typo there would silently drop a check: keys that are near misses of the known top-level
// keys, and policy keys outside "policy", are errors.
Status checkSingleDocumentKeys(const Json& doc) {
  static const char* const kTopLevel[] = {"platform", "host",         "vcpus",         "digest",
                                          "policy",   "measurements", "pages_measured"};
  static const char* const kPolicyKeys[] = {
      "debug_allowed", "migrate_ma_allowed", "smt_allowed", "vmpl",        "min_build",
      "platform_info", "chip_id",            "allowed_tcb_status", "min_tcb",
      "host_data",     "report_data",        "rtmrs",       "td_attributes", "xfam",
      "events"};
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    const std::string& key = it.key();
    bool known = isIdentityKey(key);
    for (const char* k : kTopLevel) known = known || key == k;
    if (known || isIdentityKey(key)) {
      continue;
    }
    for (const char* k : kPolicyKeys) {
      if (key == k) {
        return bad("key", "\"" + key + "\" is a policy key: put it inside \"policy\"");
      }
    }
    std::vector<const char*> candidates(std::begin(kTopLevel), std::end(kTopLevel));
    candidates.insert(candidates.end(), std::begin(kIdentityKeys), std::end(kIdentityKeys));
    for (const char* k : candidates) {
      if (editDistance(key, k) <= std::max<size_t>(1, std::string_view(k).size() / 4)) {
        return bad("key", "unknown top-level key \"" + key + "\" (did you mean \"" + k + "\"?)");
      }
    }
  }
  return okStatus();
}

Result<ReferenceDigest> parseDigest(const Json& doc) {
  if (!doc.is_object()) {
    return bad("measurement", "a measurement must be a JSON object");
  }
  IGVMKIT_RETURN_IF_ERROR(checkSingleDocumentKeys(doc));
  ReferenceDigest d;
  if (!doc.contains("platform") || !doc["platform"].is_string()) {
    return bad("platform", "measurement lacks a string \"platform\"");
  }
  d.platform = doc["platform"].get<std::string>();
  if (!doc.contains("digest")) {
    return bad("digest", "measurement lacks \"digest\"");
  }
  IGVMKIT_ASSIGN_OR_RETURN(d.digest, hexField(doc["digest"], "digest", 64, false));
  if (d.digest.empty()) {
    return bad("digest", "\"digest\" is empty");
  }
  IGVMKIT_ASSIGN_OR_RETURN(d.id_block, parseIdentity(doc));
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    const std::string& key = it.key();
    if (key == "platform" || key == "digest" || key == "policy" || isIdentityKey(key)) {
      continue;
    }
    if (key == "host") {
      if (!it.value().is_string()) {
        return bad("host", "\"host\" must be a string");
      }
      d.host = it.value().get<std::string>();
    } else if (key == "vcpus") {
      IGVMKIT_ASSIGN_OR_RETURN(uint64_t v, unsignedField(it.value(), "vcpus", UINT32_MAX));
      d.vcpus = static_cast<uint32_t>(v);
    } else if (key == "pages_measured") {
      IGVMKIT_ASSIGN_OR_RETURN(uint64_t v, unsignedField(it.value(), "pages_measured", UINT64_MAX));
      d.pages_measured = v;
    } else {
      d.extra[key] = it.value();
    }
  }
  return d;
}

constexpr std::pair<const char*, int> kPlatformInfoBits[] = {
    {"smt_enabled", 0},   {"tsme_enabled", 1},         {"ecc_enabled", 2},
    {"rapl_disabled", 3}, {"ciphertext_hiding_enabled", 4}, {"alias_check_complete", 5},
    {"tio_enabled", 7},
};

// The TCB statuses Intel's TCB Info and QE Identity use (PCS API v4).
constexpr const char* kTcbStatuses[] = {
    "UpToDate",  "SWHardeningNeeded",           "ConfigurationNeeded",
    "ConfigurationAndSWHardeningNeeded",        "OutOfDate",
    "OutOfDateConfigurationNeeded",             "Revoked",
};

Result<std::string> tcbStatusName(const Json& v) {
  if (v.is_string()) {
    for (const char* known : kTcbStatuses) {
      if (v.get<std::string>() == known) {
        return std::string(known);
      }
    }
  }
  std::string list;
  for (const char* known : kTcbStatuses) {
    list += (list.empty() ? "" : ", ") + std::string(known);
  }
  return bad("allowed_tcb_status", "unknown TCB status " + v.dump() + " (" + list + ")");
}

// {"required":[names], "forbidden":[names]}: bits by name (platformInfoBit).
Status parsePlatformInfo(const Json& v, ReferencePolicy& p) {
  if (!v.is_object()) {
    return bad("platform_info",
               "\"platform_info\" must be {\"required\":[..],\"forbidden\":[..]}");
  }
  for (auto it = v.begin(); it != v.end(); ++it) {
    uint64_t* mask = it.key() == "required"    ? &p.platform_info_required
                     : it.key() == "forbidden" ? &p.platform_info_forbidden
                                               : nullptr;
    if (mask == nullptr || !it.value().is_array()) {
      return bad("platform_info",
                 "\"platform_info\" takes arrays \"required\" and \"forbidden\", not \"" +
                     it.key() + "\"");
    }
    for (const Json& name : it.value()) {
      std::optional<int> bit =
          name.is_string() ? platformInfoBit(name.get<std::string>()) : std::nullopt;
      if (!bit) {
        std::string list;
        for (const auto& [known, _] : kPlatformInfoBits) {
          list += (list.empty() ? "" : ", ") + std::string(known);
        }
        return bad("platform_info", "unknown platform_info bit " + name.dump() + " (" + list + ")");
      }
      *mask |= 1ull << *bit;
    }
  }
  if ((p.platform_info_required & p.platform_info_forbidden) != 0) {
    return bad("platform_info", "a platform_info bit is both required and forbidden");
  }
  return okStatus();
}

Result<ReferencePolicy> parsePolicy(const Json& doc) {
  if (!doc.is_object()) {
    return bad("policy", "\"policy\" must be a JSON object");
  }
  ReferencePolicy p;
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    const std::string& key = it.key();
    const Json& v = it.value();
    if (key == "debug_allowed") {
      if (!v.is_boolean()) {
        return bad(key, "\"debug_allowed\" must be true or false");
      }
      p.debug_allowed = v.get<bool>();
    } else if (key == "min_tcb") {
      if (!v.is_object()) {
        return bad(key, "\"min_tcb\" must be an object");
      }
      MinimumTcb tcb;
      for (auto c = v.begin(); c != v.end(); ++c) {
        IGVMKIT_ASSIGN_OR_RETURN(uint64_t level, unsignedField(c.value(), "min_tcb." + c.key(), 255));
        auto u8 = static_cast<uint8_t>(level);
        if (c.key() == "boot_loader") {
          tcb.boot_loader = u8;
        } else if (c.key() == "tee") {
          tcb.tee = u8;
        } else if (c.key() == "snp") {
          tcb.snp = u8;
        } else if (c.key() == "microcode") {
          tcb.microcode = u8;
        } else if (c.key() == "fmc") {
          tcb.fmc = u8;
        } else {
          return bad("min_tcb", "unknown min_tcb component \"" + c.key() +
                                    "\" (boot_loader, tee, snp, microcode, fmc)");
        }
      }
      p.min_tcb = tcb;
    } else if (key == "guest_svn") {
      IGVMKIT_ASSIGN_OR_RETURN(uint64_t svn, unsignedField(v, key, UINT32_MAX));
      p.guest_svn = static_cast<uint32_t>(svn);
    } else if (key == "family_id") {
      IGVMKIT_ASSIGN_OR_RETURN(p.family_id, hexField(v, key, 16, true));
    } else if (key == "image_id") {
      IGVMKIT_ASSIGN_OR_RETURN(p.image_id, hexField(v, key, 16, true));
    } else if (key == "id_key_digest") {
      IGVMKIT_ASSIGN_OR_RETURN(p.id_key_digest, hexField(v, key, 48, true));
    } else if (key == "author_key_digest") {
      IGVMKIT_ASSIGN_OR_RETURN(p.author_key_digest, hexField(v, key, 48, true));
    } else if (key == "host_data") {
      IGVMKIT_ASSIGN_OR_RETURN(p.host_data, hexField(v, key, 32, true));
    } else if (key == "report_data") {
      IGVMKIT_ASSIGN_OR_RETURN(p.report_data, hexField(v, key, 64, false));
    } else if (key == "rtmrs") {
      if (!v.is_array() || v.size() > 4) {
        return bad(key, "\"rtmrs\" must be an array of at most 4 hex strings or nulls");
      }
      for (const Json& r : v) {
        if (r.is_null()) {
          p.rtmrs.emplace_back();
          continue;
        }
        IGVMKIT_ASSIGN_OR_RETURN(ByteVector rtmr, hexField(r, "rtmrs", 48, true));
        p.rtmrs.emplace_back(std::move(rtmr));
      }
    } else if (key == "events") {
      if (!v.is_object() || v.empty()) {
        return bad(key, "\"events\" must be an object naming kernel, initrd or cmdline");
      }
      for (auto e = v.begin(); e != v.end(); ++e) {
        if (e.key() != "kernel" && e.key() != "initrd" && e.key() != "cmdline") {
          return bad(key, "unknown event name \"" + e.key() + "\" (kernel, initrd, cmdline)");
        }
        std::vector<ByteVector> digests;
        const Json list = e.value().is_array() ? e.value() : Json::array({e.value()});
        if (list.empty()) {
          return bad(key, "\"events\": \"" + e.key() + "\" lists no digest");
        }
        for (const Json& d : list) {
          IGVMKIT_ASSIGN_OR_RETURN(ByteVector digest, hexField(d, "events", 48, true));
          digests.push_back(std::move(digest));
        }
        p.events.emplace_back(e.key(), std::move(digests));
      }
    } else if (key == "migrate_ma_allowed" || key == "smt_allowed") {
      if (!v.is_boolean()) {
        return bad(key, "\"" + key + "\" must be true or false");
      }
      if (key == "smt_allowed") {
        p.smt_allowed = v.get<bool>();
      } else {
        p.migrate_ma_allowed = v.get<bool>();
      }
    } else if (key == "vmpl") {
      IGVMKIT_ASSIGN_OR_RETURN(uint64_t vmpl, unsignedField(v, key, 3));
      p.vmpl = static_cast<uint32_t>(vmpl);
    } else if (key == "min_build") {
      IGVMKIT_ASSIGN_OR_RETURN(uint64_t build, unsignedField(v, key, 255));
      p.min_build = static_cast<uint8_t>(build);
    } else if (key == "platform_info") {
      IGVMKIT_RETURN_IF_ERROR(parsePlatformInfo(v, p));
    } else if (key == "chip_id") {
      for (const Json& id : v.is_array() ? v : Json::array({v})) {
        IGVMKIT_ASSIGN_OR_RETURN(ByteVector chip, hexField(id, key, 64, true));
        p.chip_ids.push_back(std::move(chip));
      }
      if (p.chip_ids.empty()) {
        return bad(key, "\"chip_id\" lists no chip");
      }
    } else if (key == "allowed_tcb_status") {
      if (!v.is_array() || v.empty()) {
        return bad(key, "\"allowed_tcb_status\" must be a non-empty array of status names");
      }
      for (const Json& status : v) {
        IGVMKIT_ASSIGN_OR_RETURN(std::string name, tcbStatusName(status));
        p.allowed_tcb_status.push_back(std::move(name));
      }
    } else if (key == "td_attributes") {
      IGVMKIT_ASSIGN_OR_RETURN(p.td_attributes, u64OrBytes(v, key));
    } else if (key == "xfam") {
      IGVMKIT_ASSIGN_OR_RETURN(p.xfam, u64OrBytes(v, key));
    } else {
      return bad("policy", "unknown policy key \"" + key + "\"");
    }
  }
  return p;
}

Json platformInfoJson(uint64_t mask) {
  Json names = Json::array();
  for (const auto& [name, bit] : kPlatformInfoBits) {
    if ((mask >> bit) & 1) {
      names.push_back(name);
    }
  }
  return names;
}

Json policyJson(const ReferencePolicy& p) {
  Json out = Json::object();
  out["debug_allowed"] = p.debug_allowed;
  out["migrate_ma_allowed"] = p.migrate_ma_allowed;
  if (p.smt_allowed) out["smt_allowed"] = *p.smt_allowed;
  if (p.vmpl) out["vmpl"] = *p.vmpl;
  if (p.min_build) out["min_build"] = *p.min_build;
  if (p.platform_info_required != 0 || p.platform_info_forbidden != 0) {
    out["platform_info"] = {{"required", platformInfoJson(p.platform_info_required)},
                            {"forbidden", platformInfoJson(p.platform_info_forbidden)}};
  }
  if (!p.chip_ids.empty()) {
    Json ids = Json::array();
    for (const ByteVector& id : p.chip_ids) ids.push_back(hexString(id));
    out["chip_id"] = ids;
  }
  if (!p.allowed_tcb_status.empty()) out["allowed_tcb_status"] = p.allowed_tcb_status;
  if (p.min_tcb) {
    Json tcb = Json::object();
    const MinimumTcb& t = *p.min_tcb;
    if (t.boot_loader) tcb["boot_loader"] = *t.boot_loader;
    if (t.tee) tcb["tee"] = *t.tee;
    if (t.snp) tcb["snp"] = *t.snp;
    if (t.microcode) tcb["microcode"] = *t.microcode;
    if (t.fmc) tcb["fmc"] = *t.fmc;
    out["min_tcb"] = tcb;
  }
  if (p.guest_svn) out["guest_svn"] = *p.guest_svn;
  if (p.family_id) out["family_id"] = hexString(*p.family_id);
  if (p.image_id) out["image_id"] = hexString(*p.image_id);
  if (p.id_key_digest) out["id_key_digest"] = hexString(*p.id_key_digest);
  if (p.author_key_digest) out["author_key_digest"] = hexString(*p.author_key_digest);
  if (p.host_data) out["host_data"] = hexString(*p.host_data);
  if (p.report_data) out["report_data"] = hexString(*p.report_data);
  if (!p.rtmrs.empty()) {
    Json arr = Json::array();
    for (const auto& r : p.rtmrs) {
      arr.push_back(r ? Json(hexString(*r)) : Json(nullptr));
    }
    out["rtmrs"] = arr;
  }
  if (p.td_attributes) out["td_attributes"] = *p.td_attributes;
  if (p.xfam) out["xfam"] = *p.xfam;
  if (!p.events.empty()) {
    Json events = Json::object();
    for (const auto& [name, digests] : p.events) {
      Json list = Json::array();
      for (const ByteVector& d : digests) list.push_back(hexString(d));
      events[name] = list.size() == 1 ? list[0] : list;
    }
    out["events"] = events;
  }
  return out;
}

Json digestJson(const ReferenceDigest& d) {
  Json out = Json::object();
  out["platform"] = d.platform;
  if (!d.host.empty()) out["host"] = d.host;
  if (d.vcpus) out["vcpus"] = *d.vcpus;
  out["digest"] = hexString(d.digest);
  if (d.pages_measured) out["pages_measured"] = *d.pages_measured;
  if (d.id_block) {
    const ReferenceDigest::IdBlockIdentity& id = *d.id_block;
    out["id_key_digest"] = hexString(id.id_key_digest);
    if (id.author_key_digest) out["author_key_digest"] = hexString(*id.author_key_digest);
    out["family_id"] = hexString(id.family_id);
    out["image_id"] = hexString(id.image_id);
    out["guest_svn"] = id.guest_svn;
    out["guest_policy"] = id.guest_policy;
  }
  for (auto it = d.extra.begin(); it != d.extra.end(); ++it) {
    out[it.key()] = it.value();
  }
  return out;
}

}  // namespace

std::string ReferenceDigest::label() const {
  std::string out = platform;
  if (!host.empty()) {
    out += "/" + host;
  }
  if (vcpus) {
    out += "/" + std::to_string(*vcpus) + (*vcpus == 1 ? " vcpu" : " vcpus");
  }
  return out;
}

std::vector<const ReferenceDigest*> ReferenceValues::forPlatform(std::string_view platform) const {
  std::vector<const ReferenceDigest*> out;
  for (const ReferenceDigest& d : measurements) {
    if (d.platform == platform) {
      out.push_back(&d);
    }
  }
  return out;
}

std::optional<int> platformInfoBit(std::string_view name) {
  for (const auto& [known, bit] : kPlatformInfoBits) {
    if (name == known) {
      return bit;
    }
  }
  return std::nullopt;
}

Result<Json> parseStrictJson(std::string_view text, const std::string& rule) {
  // One set of keys per open object; the parser reports each key before its value.
  std::vector<std::set<std::string>> open;
  std::string duplicate;
  auto callback = [&](int, Json::parse_event_t event, Json& parsed) {
    if (event == Json::parse_event_t::object_start) {
      open.emplace_back();
    } else if (event == Json::parse_event_t::object_end && !open.empty()) {
      open.pop_back();
    } else if (event == Json::parse_event_t::key && !open.empty() && duplicate.empty() &&
               !open.back().insert(parsed.get<std::string>()).second) {
      duplicate = parsed.get<std::string>();
    }
    return true;
  };
  Json doc = Json::parse(text.begin(), text.end(), callback, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return invalid(rule, "not valid JSON");
  }
  if (!duplicate.empty()) {
    return invalid(rule, "duplicate key \"" + duplicate + "\"");
  }
  return doc;
}

Result<ReferencePolicy> ReferencePolicy::fromJson(const Json& doc) { return parsePolicy(doc); }

Json ReferencePolicy::toJson() const { return policyJson(*this); }

Result<ReferenceValues> ReferenceValues::fromJson(std::string_view text) {
  Result<Json> doc = parseStrictJson(text, "reference.json");
  if (!doc.ok()) {
    return bad("json", "reference values: " + doc.error().message);
  }
  return fromJsonDoc(*doc);
}

Result<ReferenceValues> ReferenceValues::fromJsonDoc(const Json& doc) {
  if (!doc.is_object()) {
    return bad("json", "reference values must be a JSON object");
  }
  ReferenceValues out;
  if (doc.contains("measurements")) {
    for (auto it = doc.begin(); it != doc.end(); ++it) {
      if (it.key() != "measurements" && it.key() != "policy") {
        return bad("key", "unknown top-level key \"" + it.key() +
                              "\" next to \"measurements\" (only \"measurements\" and \"policy\")");
      }
    }
    const Json& list = doc["measurements"];
    if (!list.is_array()) {
      return bad("measurements", "\"measurements\" must be an array");
    }
    for (size_t i = 0; i < list.size(); ++i) {
      Result<ReferenceDigest> d = parseDigest(list[i]);
      if (!d.ok()) {
        Error e = std::move(d).error();
        e.message = "measurements[" + std::to_string(i) + "]: " + e.message;
        return e;
      }
      out.measurements.push_back(std::move(d).value());
    }
    if (list.empty()) {
      return bad("measurements", "\"measurements\" is empty: nothing to compare the evidence with");
    }
  } else {
    IGVMKIT_RETURN_IF_ERROR(checkSingleDocumentKeys(doc));
    if (doc.contains("platform") || doc.contains("digest")) {
      IGVMKIT_ASSIGN_OR_RETURN(ReferenceDigest d, parseDigest(doc));
      out.measurements.push_back(std::move(d));
    }
  }
  if (doc.contains("policy")) {
    IGVMKIT_ASSIGN_OR_RETURN(out.policy, parsePolicy(doc["policy"]));
  }
  if (out.measurements.empty()) {
    return bad("empty", "reference values hold no measurement");
  }
  return out;
}

nlohmann::ordered_json ReferenceValues::toJson() const {
  if (measurements.size() == 1 && !policy) {
    return digestJson(measurements[0]);
  }
  Json out = Json::object();
  Json list = Json::array();
  for (const ReferenceDigest& d : measurements) {
    list.push_back(digestJson(d));
  }
  out["measurements"] = list;
  if (policy) {
    out["policy"] = policyJson(*policy);
  }
  return out;
}

}  // namespace igvmkit::measure
