// corim/read.cc: reference values read back out of a CoRIM file as corim.cc writes it
// (readReference(), for `igvmkit verify --expect FILE.cbor`).
#include <string>
#include <vector>

#include "corim/corim.h"
#include "corim/internal/cbor.h"

namespace igvmkit::corim {

using detail::bytesOf;
using detail::Item;
using detail::kCoseEs384;
using detail::kLaunchMeasurementProfile;
using detail::kLaunchPlatforms;
using detail::kNiSha384;
using detail::kSnpByChipClass;
using detail::kSnpProfile;
using detail::kTagBytes;
using detail::kTagComid;
using detail::kTagCoseSign1;
using detail::kTagSvn;
using detail::kTagUnsignedCorim;
using detail::kTagUri;
using detail::kTagUuid;
using detail::LaunchPlatform;
using detail::load;

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
