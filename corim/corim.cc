#include "corim/corim.h"

#include <cbor.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "igvm/writer.h"

namespace igvmkit::corim {
namespace {

// CBOR tags (IANA CBOR Tags registry, as the CoRIM draft assigns them).
constexpr uint64_t kTagUnsignedCorim = 501;  // tagged-unsigned-corim-map
constexpr uint64_t kTagComid = 506;          // tagged-concise-mid-tag
constexpr uint64_t kTagCoseSign1 = 18;       // RFC 9052
constexpr uint64_t kTagUri = 32;             // RFC 8949
constexpr uint64_t kTagUuid = 37;            // tagged-uuid-type
constexpr uint64_t kTagSvn = 552;            // tagged-svn
constexpr uint64_t kTagBytes = 560;          // tagged-bytes
constexpr uint64_t kNiSha256 = 1;            // Named Information hash algorithm registry
constexpr uint64_t kNiSha384 = 7;
constexpr int64_t kCoseEs384 = -35;  // COSE algorithms registry
// The profile's class for reports signed by a VCEK ("by chip"); a VLEK launch needs the by-CSP
// class, which the image alone cannot know.
constexpr uint8_t kSnpByChipClass[16] = {0xd0, 0x5e, 0x6d, 0x1b, 0x9f, 0x46, 0x4a, 0xe2,
                                         0xa6, 0x10, 0xce, 0x3e, 0x6e, 0xe7, 0xe1, 0x53};
constexpr const char* kSnpProfile = "http://amd.com/please-permalink-me";

// microsoft/igvm's launch-measurement profile (README.md "TDX and VBS"): one CoRIM per platform.
constexpr const char* kLaunchMeasurementProfile = "tag:microsoft.com,2026:launch-measurement/v1";
struct LaunchPlatform {
  const char* platform;  // ReferenceDigest::platform
  const char* vendor;
  const char* model;
  const char* mkey;
  uint64_t alg;
  size_t digest_size;
  // UUIDv5(85f3f1c2-22a8-441e-a1b9-bccfb63ed5f7, "vendor/model"), lower case (RFC 9562 §5.5).
  const char* tag_id;
};
constexpr LaunchPlatform kLaunchPlatforms[] = {
    {"tdx", "Intel", "TDX", "MRTD", kNiSha384, 48, "e0510081-7b78-5b2a-97a6-d73d890e07b6"},
    {"vbs", "Microsoft", "VBS", "MEASUREMENT", kNiSha256, 32,
     "2e29068e-e0fa-59e6-b0ff-3bfe09132e13"},
};

struct ItemDeleter {
  void operator()(cbor_item_t* item) const {
    if (item != nullptr) {
      cbor_decref(&item);
    }
  }
};
using Item = std::unique_ptr<cbor_item_t, ItemDeleter>;

cbor_item_t* uint(uint64_t v) {
  if (v <= 0xFF) return cbor_build_uint8(static_cast<uint8_t>(v));
  if (v <= 0xFFFF) return cbor_build_uint16(static_cast<uint16_t>(v));
  if (v <= 0xFFFFFFFF) return cbor_build_uint32(static_cast<uint32_t>(v));
  return cbor_build_uint64(v);
}
cbor_item_t* sint(int64_t v) {
  if (v >= 0) return uint(static_cast<uint64_t>(v));
  const uint64_t n = static_cast<uint64_t>(-1 - v);
  if (n <= 0xFF) return cbor_build_negint8(static_cast<uint8_t>(n));
  if (n <= 0xFFFF) return cbor_build_negint16(static_cast<uint16_t>(n));
  if (n <= 0xFFFFFFFF) return cbor_build_negint32(static_cast<uint32_t>(n));
  return cbor_build_negint64(n);
}
cbor_item_t* bytes(Bytes b) {
  return cbor_build_bytestring(reinterpret_cast<cbor_data>(b.data()), b.size());
}
cbor_item_t* text(std::string_view s) { return cbor_build_stringn(s.data(), s.size()); }
cbor_item_t* tag(uint64_t t, cbor_item_t* inner) {
  cbor_item_t* out = cbor_build_tag(t, cbor_move(inner));
  return out;
}

// A definite map built in ascending key order (deterministic encoding, RFC 8949 §4.2.1: small
// non-negative keys sort before negative ones, which is the order callers add them in).
class Map {
 public:
  Map() = default;
  Map(const Map&) = delete;
  Map& operator=(const Map&) = delete;
  Map& add(int64_t key, cbor_item_t* value) {
    pairs_.push_back({sint(key), value});
    return *this;
  }
  cbor_item_t* release() {
    cbor_item_t* m = cbor_new_definite_map(pairs_.size());
    for (auto& [k, v] : pairs_) {
      cbor_map_add(m, cbor_pair{cbor_move(k), cbor_move(v)});
    }
    pairs_.clear();
    return m;
  }
  ~Map() {
    for (auto& [k, v] : pairs_) {
      cbor_decref(&k);
      cbor_decref(&v);
    }
  }

 private:
  std::vector<std::pair<cbor_item_t*, cbor_item_t*>> pairs_;
};

cbor_item_t* array(std::initializer_list<cbor_item_t*> items) {
  cbor_item_t* a = cbor_new_definite_array(items.size());
  for (cbor_item_t* i : items) {
    cbor_array_push(a, cbor_move(i));
  }
  return a;
}

Result<ByteVector> serialize(cbor_item_t* raw) {
  Item item(raw);
  unsigned char* buffer = nullptr;
  size_t buffer_size = 0;
  const size_t n = cbor_serialize_alloc(item.get(), &buffer, &buffer_size);
  if (n == 0) {
    std::free(buffer);
    return internal("cbor encoding failed");
  }
  ByteVector out(reinterpret_cast<std::byte*>(buffer), reinterpret_cast<std::byte*>(buffer) + n);
  std::free(buffer);
  return out;
}

// SNP guest POLICY bits as the profile's flags-map extensions (-1 SMT allowed bit 16, -2
// migration agent bit 18, -3 debug bit 19, -4 single socket bit 20, then bits 21..24), plus
// is-debug (3) from bit 19.
cbor_item_t* policyFlags(uint64_t policy) {
  Map m;
  m.add(3, cbor_build_bool((policy >> 19) & 1));
  const int bits[] = {16, 18, 19, 20, 21, 22, 23, 24};
  for (int i = 0; i < 8; ++i) {
    m.add(-1 - i, cbor_build_bool((policy >> bits[i]) & 1));
  }
  return m.release();
}

std::string hexText(const ByteVector& b) { return hexBytes(b); }

// One reference triple: the SNP environment and the measurements the profile names: mkey 0
// (MEASUREMENT, and with an ID block IMAGE_ID, GUEST_SVN, POLICY flags, FAMILY_ID), mkey 1 (the
// policy's minimum ABI), mkey 5 / 6 (ID_KEY_DIGEST / AUTHOR_KEY_DIGEST).
cbor_item_t* referenceTriple(const measure::ReferenceDigest& d) {
  Map cls;
  cls.add(0, tag(kTagUuid, bytes(Bytes(reinterpret_cast<const std::byte*>(kSnpByChipClass), 16))));
  Map env;
  env.add(0, cls.release());

  Map guest;
  const auto& id = d.id_block;
  if (id) {
    Map version;
    version.add(0, text(hexText(id->image_id)));
    guest.add(0, version.release());
    guest.add(1, tag(kTagSvn, uint(id->guest_svn)));
  }
  guest.add(2, array({array({uint(kNiSha384), bytes(d.digest)})}));
  if (id) {
    guest.add(3, policyFlags(id->guest_policy));
    guest.add(4, tag(kTagBytes, bytes(id->family_id)));
  }
  Map guest_meas;
  guest_meas.add(0, uint(0)).add(1, guest.release());
  cbor_item_t* claims = cbor_new_definite_array(id ? (id->author_key_digest ? 4 : 3) : 1);
  cbor_array_push(claims, cbor_move(guest_meas.release()));
  if (id) {
    const uint64_t policy = id->guest_policy;
    Map abi_version;
    abi_version
        .add(0, text(std::to_string((policy >> 8) & 0xFF) + "." + std::to_string(policy & 0xFF) +
                     ".0"))
        .add(1, uint(16384));  // version-scheme semver
    Map abi_values;
    abi_values.add(0, abi_version.release());
    Map abi;
    abi.add(0, uint(1)).add(1, abi_values.release());
    cbor_array_push(claims, cbor_move(abi.release()));
    auto keyDigest = [&](uint64_t mkey, const ByteVector& digest) {
      Map v;
      v.add(4, tag(kTagBytes, bytes(digest)));
      Map m;
      m.add(0, uint(mkey)).add(1, v.release());
      cbor_array_push(claims, cbor_move(m.release()));
    };
    keyDigest(5, id->id_key_digest);
    if (id->author_key_digest) {
      keyDigest(6, *id->author_key_digest);
    }
  }
  return array({env.release(), claims});
}

// The profile's environment: a class with vendor (1) and model (2) only.
cbor_item_t* launchEnvironment(const LaunchPlatform& p) {
  Map cls;
  cls.add(1, text(p.vendor)).add(2, text(p.model));
  Map env;
  env.add(0, cls.release());
  return env.release();
}

// {0: mkey (text), 1: {2: [[alg, digest]]}}
cbor_item_t* launchMeasurement(const LaunchPlatform& p, Bytes digest) {
  Map values;
  values.add(2, array({array({uint(p.alg), bytes(digest)})}));
  Map m;
  m.add(0, text(p.mkey)).add(1, values.release());
  return m.release();
}

// One CoRIM in the launch-measurement profile: a reference triple holding the digest and a
// conditional-endorsement-series triple that, on that digest, endorses the exact SVN `svn`.
Result<ByteVector> launchCorim(const LaunchPlatform& p, Bytes digest, uint64_t svn) {
  Map addition_values;
  addition_values.add(1, tag(kTagSvn, uint(svn)));
  Map addition;
  addition.add(1, addition_values.release());
  cbor_item_t* series_record =
      array({array({launchMeasurement(p, digest)}), array({addition.release()})});
  cbor_item_t* condition = array({launchEnvironment(p), cbor_new_definite_array(0)});
  Map triples;
  triples.add(0, array({array({launchEnvironment(p), array({launchMeasurement(p, digest)})})}))
      .add(8, array({array({condition, array({series_record})})}));
  Map tag_identity;
  tag_identity.add(0, text(p.tag_id));
  Map comid;
  comid.add(1, tag_identity.release()).add(4, triples.release());
  IGVMKIT_ASSIGN_OR_RETURN(ByteVector comid_bytes, serialize(comid.release()));
  Map corim;
  corim.add(0, text(std::string(p.vendor) + "/" + p.model + "/launch-measurement"))
      .add(1, array({tag(kTagComid, bytes(comid_bytes))}))
      .add(3, tag(kTagUri, text(kLaunchMeasurementProfile)));
  return serialize(tag(kTagUnsignedCorim, corim.release()));
}

// --- decoding ---------------------------------------------------------------------------------

// libcbor 0.8 (Debian 12) reports a tag around an array holding an empty map, such as a
// COSE_Sign1's `18([h'..', {}, ...])`, as malformed. Leading tag heads are therefore read here and
// put back around the item libcbor decodes.
Result<Item> load(Bytes b, size_t* used = nullptr) {
  std::vector<uint64_t> tags;
  size_t at = 0;
  while (at < b.size() && (static_cast<uint8_t>(b[at]) >> 5) == 6 && tags.size() < 16) {
    const uint8_t info = static_cast<uint8_t>(b[at]) & 0x1f;
    const size_t extra = info < 24 ? 0 : info == 24 ? 1 : info == 25 ? 2 : info == 26 ? 4 : 8;
    if (info > 27 || at + 1 + extra > b.size()) {
      return invalid("corim.cbor", "not well-formed cbor at byte " + hex(at));
    }
    uint64_t value = info < 24 ? info : 0;
    for (size_t k = 0; k < extra; ++k) {
      value = value << 8 | static_cast<uint8_t>(b[at + 1 + k]);
    }
    tags.push_back(value);
    at += 1 + extra;
  }
  Bytes rest = b.subspan(at);
  cbor_load_result result;
  cbor_item_t* raw = cbor_load(reinterpret_cast<cbor_data>(rest.data()), rest.size(), &result);
  if (raw == nullptr || result.error.code != CBOR_ERR_NONE) {
    Item discard(raw);
    return invalid("corim.cbor", "not well-formed cbor at byte " + hex(at + result.error.position));
  }
  if (used != nullptr) {
    *used = at + result.read;
  } else if (result.read != rest.size()) {
    Item discard(raw);
    return invalid("corim.cbor", hex(rest.size() - result.read) + " bytes follow the cbor item");
  }
  for (auto t = tags.rbegin(); t != tags.rend(); ++t) {
    raw = cbor_build_tag(*t, cbor_move(raw));
  }
  return Item(raw);
}

Bytes bytesOf(const cbor_item_t* i) {
  return Bytes(reinterpret_cast<const std::byte*>(cbor_bytestring_handle(i)),
               cbor_bytestring_length(i));
}

nlohmann::ordered_json toJson(const cbor_item_t* i, int depth, bool decode_bytes);

// Byte strings that hold CBOR (a CoMID, a COSE payload or protected header) are shown decoded.
nlohmann::ordered_json nested(const cbor_item_t* i, int depth) {
  if (cbor_isa_bytestring(i) && cbor_bytestring_is_definite(i)) {
    Result<Item> inner = load(bytesOf(i));
    if (inner.ok()) {
      return nlohmann::ordered_json{{"cbor", toJson(inner->get(), depth + 1, true)}};
    }
  }
  return toJson(i, depth + 1, false);
}

nlohmann::ordered_json toJson(const cbor_item_t* i, int depth, bool decode_bytes) {
  using Json = nlohmann::ordered_json;
  if (depth > 64) {
    return "...";
  }
  switch (cbor_typeof(i)) {
    case CBOR_TYPE_UINT:
      return cbor_get_int(i);
    case CBOR_TYPE_NEGINT:
      return -1 - static_cast<int64_t>(cbor_get_int(i));
    case CBOR_TYPE_BYTESTRING:
      if (!cbor_bytestring_is_definite(i)) return "(indefinite bytes)";
      return hexBytes(bytesOf(i));
    case CBOR_TYPE_STRING:
      if (!cbor_string_is_definite(i)) return "(indefinite text)";
      return std::string(reinterpret_cast<const char*>(cbor_string_handle(i)),
                         cbor_string_length(i));
    case CBOR_TYPE_ARRAY: {
      Json a = Json::array();
      const size_t n = cbor_array_size(i);
      cbor_item_t** items = cbor_array_handle(i);
      for (size_t k = 0; k < n; ++k) {
        a.push_back(toJson(items[k], depth + 1, decode_bytes));
      }
      return a;
    }
    case CBOR_TYPE_MAP: {
      Json m = Json::object();
      const size_t n = cbor_map_size(i);
      cbor_pair* pairs = cbor_map_handle(i);
      for (size_t k = 0; k < n; ++k) {
        Json key = toJson(pairs[k].key, depth + 1, false);
        m[key.is_string() ? key.get<std::string>() : key.dump()] =
            toJson(pairs[k].value, depth + 1, decode_bytes);
      }
      return m;
    }
    case CBOR_TYPE_TAG: {
      Item inner(cbor_tag_item(i));
      const uint64_t t = cbor_tag_value(i);
      Json value;
      if (t == kTagComid) {
        value = nested(inner.get(), depth);
      } else if (t == kTagCoseSign1 && cbor_isa_array(inner.get()) &&
                 cbor_array_size(inner.get()) == 4) {
        cbor_item_t** parts = cbor_array_handle(inner.get());
        value = Json::array({nested(parts[0], depth), toJson(parts[1], depth + 1, false),
                             cbor_is_null(parts[2]) ? Json(nullptr) : nested(parts[2], depth),
                             toJson(parts[3], depth + 1, false)});
      } else {
        value = toJson(inner.get(), depth + 1, decode_bytes);
      }
      return Json{{"tag", t}, {"value", value}};
    }
    case CBOR_TYPE_FLOAT_CTRL:
      if (cbor_is_null(i)) return nullptr;
      if (cbor_is_bool(i)) return cbor_get_bool(i);
      return "(simple or float)";
  }
  return nullptr;
}

// The COSE Sig_structure (RFC 9052 §4.4) for Signature1 with empty external AAD.
Result<ByteVector> toBeSigned(Bytes protected_header, Bytes payload) {
  return serialize(
      array({text("Signature1"), bytes(protected_header), bytes(Bytes()), bytes(payload)}));
}

}  // namespace

namespace {

// The SNP CoRIM (AMD's profile): one reference triple per measurement.
Result<ByteVector> snpCorim(const std::vector<const measure::ReferenceDigest*>& snp,
                            std::string_view id) {
  cbor_item_t* triples = cbor_new_definite_array(snp.size());
  for (const measure::ReferenceDigest* d : snp) {
    if (d->digest.size() != 48) {
      cbor_decref(&triples);
      return invalid("corim.digest", d->label() + ": an snp digest has 48 bytes");
    }
    cbor_array_push(triples, cbor_move(referenceTriple(*d)));
  }
  Map triples_map;
  triples_map.add(0, triples);  // reference-triples
  Map tag_identity;
  tag_identity.add(0, text(id));  // tag-id
  Map comid;
  comid.add(1, tag_identity.release()).add(4, triples_map.release());
  IGVMKIT_ASSIGN_OR_RETURN(ByteVector comid_bytes, serialize(comid.release()));
  Map corim;
  corim
      .add(0, text(id))                                     // id
      .add(1, array({tag(kTagComid, bytes(comid_bytes))}))  // tags
      .add(3, tag(kTagUri, text(kSnpProfile)));             // profile
  return serialize(tag(kTagUnsignedCorim, corim.release()));
}

}  // namespace

Result<std::vector<PlatformCorim>> fromReference(const measure::ReferenceValues& ref,
                                                 std::string_view id) {
  std::vector<PlatformCorim> out;
  std::vector<const measure::ReferenceDigest*> snp = ref.forPlatform("snp");
  if (!snp.empty()) {
    IGVMKIT_ASSIGN_OR_RETURN(ByteVector doc, snpCorim(snp, id));
    out.push_back({"snp", std::move(doc), std::nullopt});
  }
  for (const LaunchPlatform& p : kLaunchPlatforms) {
    std::vector<const measure::ReferenceDigest*> found = ref.forPlatform(p.platform);
    if (found.empty()) {
      continue;
    }
    // The profile holds exactly one digest; host model and vCPU count do not change these.
    for (const measure::ReferenceDigest* d : found) {
      if (d->digest.size() != p.digest_size) {
        return invalid("corim.digest", d->label() + ": a " + p.platform + " digest has " +
                                           std::to_string(p.digest_size) + " bytes");
      }
      if (d->digest != found.front()->digest) {
        return invalid("corim.digest", d->label() + ": the launch-measurement profile holds one " +
                                           p.platform + " digest, the values hold several");
      }
    }
    IGVMKIT_ASSIGN_OR_RETURN(ByteVector doc, launchCorim(p, found.front()->digest, 0));
    out.push_back({p.platform, std::move(doc), std::nullopt});
  }
  if (out.empty()) {
    return invalid("corim.empty", "the reference values hold no snp, tdx or vbs measurement");
  }
  return out;
}

Result<SignedCorim> signCorim(Bytes corim, sign::Signer& signer) {
  Map signer_map;
  signer_map.add(0, text(signer.name().substr(0, signer.name().find('?'))));  // signer-name
  Map meta;
  meta.add(0, signer_map.release());  // corim-meta: signer
  IGVMKIT_ASSIGN_OR_RETURN(ByteVector meta_bytes, serialize(meta.release()));
  Map prot;
  prot.add(1, sint(kCoseEs384))              // alg
      .add(3, text("application/rim+cbor"))  // content type
      .add(8, bytes(meta_bytes));            // corim-meta
  IGVMKIT_ASSIGN_OR_RETURN(ByteVector protected_bytes, serialize(prot.release()));
  IGVMKIT_ASSIGN_OR_RETURN(ByteVector tbs, toBeSigned(protected_bytes, corim));
  IGVMKIT_ASSIGN_OR_RETURN(measure::SNP_ECDSA_SIGNATURE sig, signer.sign(tbs));
  // COSE ECDSA signatures are r || s, big endian, each 48 bytes (RFC 9053 §2.1).
  ByteVector rs(96);
  for (size_t k = 0; k < 48; ++k) {
    rs[k] = sig.r[47 - k];
    rs[48 + k] = sig.s[47 - k];
  }
  auto cose = [&](cbor_item_t* payload) {
    return serialize(tag(kTagCoseSign1, array({bytes(protected_bytes), cbor_new_definite_map(0),
                                               payload, bytes(rs)})));
  };
  SignedCorim out;
  IGVMKIT_ASSIGN_OR_RETURN(out.cose_sign1, cose(bytes(corim)));
  IGVMKIT_ASSIGN_OR_RETURN(out.detached, cose(cbor_new_null()));
  return out;
}

Result<CorimFiles> makeCorim(const measure::ReferenceValues& ref, std::string_view id,
                             sign::Signer* signer) {
  CorimFiles out;
  IGVMKIT_ASSIGN_OR_RETURN(out.parts, fromReference(ref, id));
  for (PlatformCorim& part : out.parts) {
    if (signer == nullptr) {
      out.file.insert(out.file.end(), part.document.begin(), part.document.end());
      continue;
    }
    IGVMKIT_ASSIGN_OR_RETURN(SignedCorim s, signCorim(part.document, *signer));
    out.file.insert(out.file.end(), s.cose_sign1.begin(), s.cose_sign1.end());
    part.detached = std::move(s.detached);
  }
  return out;
}

Status verifyCorim(Bytes cose_sign1, Bytes detached_payload,
                   const measure::SNP_ECDSA_PUBLIC_KEY& key) {
  Result<Item> item = load(cose_sign1);
  if (!item.ok()) {
    return invalid("corim.cose", item.error().message);
  }
  const cbor_item_t* top = item->get();
  Item inner;
  if (cbor_isa_tag(top)) {
    if (cbor_tag_value(top) != kTagCoseSign1) {
      return invalid("corim.cose", "tag " + std::to_string(cbor_tag_value(top)) + " is not 18");
    }
    inner.reset(cbor_tag_item(top));
    top = inner.get();
  }
  if (!cbor_isa_array(top) || cbor_array_size(top) != 4) {
    return invalid("corim.cose", "a cose_sign1 is an array of 4");
  }
  cbor_item_t** parts = cbor_array_handle(top);
  if (!cbor_isa_bytestring(parts[0]) || !cbor_bytestring_is_definite(parts[0]) ||
      !cbor_isa_bytestring(parts[3]) || !cbor_bytestring_is_definite(parts[3]) ||
      cbor_bytestring_length(parts[3]) != 96) {
    return invalid("corim.cose", "protected header or es384 signature malformed");
  }
  Bytes payload = detached_payload;
  if (!cbor_is_null(parts[2])) {
    if (!cbor_isa_bytestring(parts[2]) || !cbor_bytestring_is_definite(parts[2])) {
      return invalid("corim.cose", "the payload is neither a byte string nor nil");
    }
    payload = bytesOf(parts[2]);
  }
  IGVMKIT_ASSIGN_OR_RETURN(ByteVector tbs, toBeSigned(bytesOf(parts[0]), payload));
  Result<measure::ImportedSignature> checked =
      measure::importSignature(tbs, bytesOf(parts[3]), key);
  if (!checked.ok()) {
    return Error{Code::kVerifyFailed, "corim.signature_invalid", checked.error().message,
                 std::nullopt};
  }
  return okStatus();
}

Result<nlohmann::ordered_json> decode(Bytes cbor) {
  IGVMKIT_ASSIGN_OR_RETURN(Item item, load(cbor));
  return toJson(item.get(), 0, true);
}

Result<ByteVector> withCorim(const igvm::File& file, uint32_t mask, Bytes document,
                             std::optional<Bytes> signature) {
  igvm::Model model = igvm::fromFile(file);
  // CORIM_DOCUMENT (0x104) and CORIM_SIGNATURE (0x105) are initialization headers.
  std::vector<igvm::Entry> kept;
  for (igvm::Entry& e : model.initialization) {
    const auto* c = std::get_if<igvm::IGVM_VHS_CORIM_DATA>(&e.body);
    if (c != nullptr && (c->compatibility_mask & mask) != 0 &&
        (e.type == igvm::kVhtCorimDocument || e.type == igvm::kVhtCorimSignature)) {
      continue;
    }
    kept.push_back(std::move(e));
  }
  model.initialization = std::move(kept);
  igvm::IGVM_VHS_CORIM_DATA header{};
  header.compatibility_mask = mask;
  model.initialization.push_back(igvm::makeEntry(igvm::kVhtCorimDocument, header,
                                                 ByteVector(document.begin(), document.end())));
  if (signature) {
    model.initialization.push_back(igvm::makeEntry(
        igvm::kVhtCorimSignature, header, ByteVector(signature->begin(), signature->end())));
  }
  return igvm::write(model, {.version = file.version()});
}

std::vector<std::pair<uint32_t, nlohmann::ordered_json>> embedded(const igvm::File& file) {
  std::vector<std::pair<uint32_t, nlohmann::ordered_json>> out;
  const std::span<const igvm::Header> headers = file.headers();
  for (size_t i = 0; i < headers.size(); ++i) {
    const igvm::Header& h = headers[i];
    if (h.type != igvm::kVhtCorimDocument && h.type != igvm::kVhtCorimSignature) {
      continue;
    }
    Result<nlohmann::ordered_json> j = decode(h.data);
    out.emplace_back(static_cast<uint32_t>(i),
                     j.ok() ? *j : nlohmann::ordered_json{{"error", j.error().message}});
  }
  return out;
}

// --- reading reference values back (verify --expect FILE.cbor) --------------------------------
namespace {

Error malformed(const std::string& what) { return invalid("corim.structure", what); }

bool isKey(const cbor_item_t* k, int64_t key) {
  if (key >= 0) {
    return cbor_isa_uint(k) && cbor_get_int(k) == static_cast<uint64_t>(key);
  }
  return cbor_isa_negint(k) && cbor_get_int(k) == static_cast<uint64_t>(-1 - key);
}

// The value under integer `key` of a definite map, or nullptr.
const cbor_item_t* get(const cbor_item_t* map, int64_t key) {
  if (map == nullptr || !cbor_isa_map(map) || !cbor_map_is_definite(map)) return nullptr;
  cbor_pair* pairs = cbor_map_handle(map);
  for (size_t k = 0; k < cbor_map_size(map); ++k) {
    if (isKey(pairs[k].key, key)) return pairs[k].value;
  }
  return nullptr;
}

// The item inside tag `t` (borrowed: the tag holds a reference), or nullptr.
const cbor_item_t* untag(const cbor_item_t* i, uint64_t t) {
  if (i == nullptr || !cbor_isa_tag(i) || cbor_tag_value(i) != t) return nullptr;
  cbor_item_t* inner = cbor_tag_item(i);
  cbor_item_t* added = inner;
  cbor_decref(&added);  // cbor_tag_item adds a reference; the tag keeps its own
  return inner;
}

std::vector<const cbor_item_t*> items(const cbor_item_t* a) {
  std::vector<const cbor_item_t*> out;
  if (a != nullptr && cbor_isa_array(a) && cbor_array_is_definite(a)) {
    for (size_t k = 0; k < cbor_array_size(a); ++k) out.push_back(cbor_array_handle(a)[k]);
  }
  return out;
}

std::optional<std::string> textOf(const cbor_item_t* i) {
  if (i == nullptr || !cbor_isa_string(i) || !cbor_string_is_definite(i)) return std::nullopt;
  return std::string(reinterpret_cast<const char*>(cbor_string_handle(i)), cbor_string_length(i));
}
std::optional<ByteVector> bytesIn(const cbor_item_t* i) {
  if (i == nullptr || !cbor_isa_bytestring(i) || !cbor_bytestring_is_definite(i)) {
    return std::nullopt;
  }
  Bytes b = bytesOf(i);
  return ByteVector(b.begin(), b.end());
}
std::optional<uint64_t> uintOf(const cbor_item_t* i) {
  if (i == nullptr || !cbor_isa_uint(i)) return std::nullopt;
  return cbor_get_int(i);
}

// The one digest [[alg, bytes]] of a measurement-values-map, checked against alg and size.
Result<ByteVector> digestOf(const cbor_item_t* values, uint64_t alg, size_t size) {
  std::vector<const cbor_item_t*> digests = items(get(values, 2));
  if (digests.size() != 1 || items(digests[0]).size() != 2 || uintOf(items(digests[0])[0]) != alg) {
    return malformed("a reference measurement holds one digest of algorithm " +
                     std::to_string(alg));
  }
  std::optional<ByteVector> d = bytesIn(items(digests[0])[1]);
  if (!d || d->size() != size) {
    return malformed("a digest of algorithm " + std::to_string(alg) + " has " +
                     std::to_string(size) + " bytes");
  }
  return *d;
}

// AMD's profile: one SNP ReferenceDigest per reference triple, with the ID-block identity when
// mkey 0 carries it (the inverse of referenceTriple).
Result<measure::ReferenceDigest> snpTriple(const cbor_item_t* triple) {
  std::vector<const cbor_item_t*> t = items(triple);
  if (t.size() != 2) return malformed("a reference triple is [environment, measurements]");
  const cbor_item_t* cls = untag(get(get(t[0], 0), 0), kTagUuid);
  std::optional<ByteVector> class_id = bytesIn(cls);
  if (!class_id ||
      *class_id != ByteVector(reinterpret_cast<const std::byte*>(kSnpByChipClass),
                              reinterpret_cast<const std::byte*>(kSnpByChipClass) + 16)) {
    return malformed("the snp environment is not the profile's by-chip class");
  }
  measure::ReferenceDigest d;
  d.platform = "snp";
  measure::ReferenceDigest::IdBlockIdentity id;
  bool has_id = false, has_digest = false;
  for (const cbor_item_t* m : items(t[1])) {
    std::optional<uint64_t> mkey = uintOf(get(m, 0));
    const cbor_item_t* values = get(m, 1);
    if (!mkey || values == nullptr) return malformed("a measurement-map lacks mkey or mval");
    if (*mkey == 0) {
      IGVMKIT_ASSIGN_OR_RETURN(d.digest, digestOf(values, kNiSha384, 48));
      has_digest = true;
      if (get(values, 0) != nullptr) {
        has_id = true;
        std::optional<std::string> image = textOf(get(get(values, 0), 0));
        Result<ByteVector> image_id =
            image ? parseHexBytes(*image) : Result<ByteVector>(malformed(""));
        std::optional<uint64_t> svn = uintOf(untag(get(values, 1), kTagSvn));
        std::optional<ByteVector> family = bytesIn(untag(get(values, 4), kTagBytes));
        const cbor_item_t* flags = get(values, 3);
        if (!image_id.ok() || image_id->size() != 16 || !svn || *svn > 0xFFFFFFFF || !family ||
            family->size() != 16 || flags == nullptr) {
          return malformed("the snp identity (image id, guest svn, flags, family id) is malformed");
        }
        id.image_id = *image_id;
        id.guest_svn = static_cast<uint32_t>(*svn);
        id.family_id = *family;
        // POLICY bit 17 must be one (SEV-SNP ABI); the flags give bits 16 and 18..24.
        id.guest_policy |= uint64_t{1} << 17;
        const int bits[] = {16, 18, 19, 20, 21, 22, 23, 24};
        for (int i = 0; i < 8; ++i) {
          const cbor_item_t* f = get(flags, -1 - i);
          if (f != nullptr && cbor_is_bool(f) && cbor_get_bool(f)) {
            id.guest_policy |= uint64_t{1} << bits[i];
          }
        }
      }
    } else if (*mkey == 1) {
      std::optional<std::string> abi = textOf(get(get(values, 0), 0));
      unsigned major = 0, minor = 0;
      if (!abi || std::sscanf(abi->c_str(), "%u.%u.0", &major, &minor) != 2 || major > 255 ||
          minor > 255) {
        return malformed("the minimum abi is not MAJOR.MINOR.0");
      }
      id.guest_policy |= major << 8 | minor;
    } else if (*mkey == 5 || *mkey == 6) {
      std::optional<ByteVector> key = bytesIn(untag(get(values, 4), kTagBytes));
      if (!key || key->size() != 48) return malformed("a key digest has 48 bytes");
      (*mkey == 5 ? id.id_key_digest : id.author_key_digest.emplace()) = *key;
    }
  }
  if (!has_digest) return malformed("an snp reference triple holds no MEASUREMENT (mkey 0)");
  if (has_id) {
    if (id.id_key_digest.empty()) return malformed("an snp identity without ID_KEY_DIGEST");
    d.id_block = std::move(id);
  }
  return d;
}

// microsoft/igvm's launch-measurement profile: the one reference triple's digest.
Result<measure::ReferenceDigest> launchTriple(const cbor_item_t* triples) {
  std::vector<const cbor_item_t*> refs = items(get(triples, 0));
  if (refs.size() != 1 || items(refs[0]).size() != 2) {
    return malformed("the launch-measurement profile holds one reference triple");
  }
  const cbor_item_t* cls = get(items(refs[0])[0], 0);
  const std::optional<std::string> vendor = textOf(get(cls, 1)), model = textOf(get(cls, 2));
  for (const LaunchPlatform& p : kLaunchPlatforms) {
    if (vendor != p.vendor || model != p.model) continue;
    std::vector<const cbor_item_t*> m = items(items(refs[0])[1]);
    if (m.size() != 1 || textOf(get(m[0], 0)) != p.mkey) {
      return malformed(std::string("a ") + p.platform + " reference holds one " + p.mkey);
    }
    measure::ReferenceDigest d;
    d.platform = p.platform;
    IGVMKIT_ASSIGN_OR_RETURN(d.digest, digestOf(get(m[0], 1), p.alg, p.digest_size));
    return d;
  }
  return malformed("vendor/model " + vendor.value_or("?") + "/" + model.value_or("?") +
                   " is not one the launch-measurement profile registers");
}

// One unsigned CoRIM (#6.501): its reference values appended to `out`.
Status readCorim(Bytes document, measure::ReferenceValues& out) {
  IGVMKIT_ASSIGN_OR_RETURN(Item item, load(document));
  const cbor_item_t* map = untag(item.get(), kTagUnsignedCorim);
  if (map == nullptr) return malformed("not a tagged unsigned corim (#6.501)");
  std::optional<std::string> profile = textOf(untag(get(map, 3), kTagUri));
  const bool snp = profile == kSnpProfile;
  if (!snp && profile != kLaunchMeasurementProfile) {
    return malformed("profile " + profile.value_or("(none)") + " is not AMD's snp profile or " +
                     kLaunchMeasurementProfile);
  }
  std::vector<const cbor_item_t*> tags = items(get(map, 1));
  if (tags.size() != 1) return malformed("a corim of these profiles holds one comid");
  std::optional<ByteVector> comid_bytes = bytesIn(untag(tags[0], kTagComid));
  if (!comid_bytes) return malformed("the tag is not a concise-mid-tag (#6.506)");
  IGVMKIT_ASSIGN_OR_RETURN(Item comid, load(*comid_bytes));
  const cbor_item_t* triples = get(comid.get(), 4);
  if (!snp) {
    IGVMKIT_ASSIGN_OR_RETURN(measure::ReferenceDigest d, launchTriple(triples));
    out.measurements.push_back(std::move(d));
    return okStatus();
  }
  std::vector<const cbor_item_t*> refs = items(get(triples, 0));
  if (refs.empty()) return malformed("the snp comid holds no reference triple");
  for (const cbor_item_t* t : refs) {
    IGVMKIT_ASSIGN_OR_RETURN(measure::ReferenceDigest d, snpTriple(t));
    out.measurements.push_back(std::move(d));
  }
  return okStatus();
}

// The COSE_Sign1's protected header names ES384, the algorithm verifyCorim checks.
Status checkAlgorithm(const cbor_item_t* sign1) {
  std::optional<ByteVector> prot = bytesIn(items(sign1)[0]);
  if (!prot) return invalid("corim.cose", "the protected header is not a byte string");
  IGVMKIT_ASSIGN_OR_RETURN(Item header, load(*prot));
  const cbor_item_t* alg = get(header.get(), 1);
  if (alg == nullptr || !cbor_isa_negint(alg) || cbor_get_int(alg) != uint64_t(-1 - kCoseEs384)) {
    return invalid("corim.cose", "the protected header's alg is not ES384 (-35)");
  }
  return okStatus();
}

}  // namespace

Result<measure::ReferenceValues> readReference(Bytes file, const ReadOptions& options) {
  measure::ReferenceValues out;
  size_t at = 0;
  while (at < file.size()) {
    size_t used = 0;
    Bytes rest = file.subspan(at);
    IGVMKIT_ASSIGN_OR_RETURN(Item item, load(rest, &used));
    Bytes one = rest.first(used);
    const cbor_item_t* sign1 = untag(item.get(), kTagCoseSign1);
    if (sign1 != nullptr) {
      if (!options.key) {
        return usage("corim.key_required",
                     "the corim is signed: give its public key (--corim-pubkey)");
      }
      if (items(sign1).size() != 4) return invalid("corim.cose", "a cose_sign1 is an array of 4");
      IGVMKIT_RETURN_IF_ERROR(checkAlgorithm(sign1));
      std::optional<ByteVector> payload = bytesIn(items(sign1)[2]);
      if (!payload) return invalid("corim.cose", "the cose_sign1 has no embedded payload");
      IGVMKIT_RETURN_IF_ERROR(verifyCorim(one, {}, *options.key));
      IGVMKIT_RETURN_IF_ERROR(readCorim(*payload, out));
    } else if (untag(item.get(), kTagUnsignedCorim) != nullptr) {
      if (!options.unsigned_ok) {
        return Error{Code::kVerifyFailed, "corim.unsigned",
                     "the corim is not signed (accept it with --corim-unsigned-ok)", std::nullopt};
      }
      IGVMKIT_RETURN_IF_ERROR(readCorim(one, out));
    } else {
      return malformed("item at byte " + hex(at) +
                       " is neither a cose_sign1 (#6.18) nor a corim "
                       "(#6.501)");
    }
    at += used;
  }
  if (out.measurements.empty()) {
    return invalid("corim.empty", "the file holds no corim");
  }
  return out;
}

}  // namespace igvmkit::corim
