#include "corim/corim.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "corim/internal/cbor.h"
#include "igvm/writer.h"

namespace igvmkit::corim {

using detail::array;
using detail::bytes;
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
using detail::Map;
using detail::serialize;
using detail::sint;
using detail::tag;
using detail::text;
using detail::uint;
namespace {

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

// --- decode() for `dump` -------------------------------------------------------------------------

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
  igvm::EntryList kept;
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

}  // namespace igvmkit::corim
