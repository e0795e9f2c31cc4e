// corim/corim.h: reference values as a CoRIM (IETF RATS, draft-ietf-rats-corim), in the shape of
// the AMD SEV-SNP CoRIM profile (draft-deeglaze-amd-sev-snp-corim-profile), optionally
// COSE_Sign1-signed (RFC 9052) with any sign::Signer, and the detached form IGVM's
// CORIM_DOCUMENT / CORIM_SIGNATURE headers carry (as OpenVMM's igvmfilegen patches them in).
// README.md states every encoding choice and where it comes from.
//
//   IGVMKIT_ASSIGN_OR_RETURN(ByteVector doc, corim::fromReference(ref, "my-image"));
//   IGVMKIT_ASSIGN_OR_RETURN(corim::SignedCorim s, corim::signCorim(doc, *signer));
//   // s.cose_sign1: tag 18, payload embedded; s.detached: payload nil, for CORIM_SIGNATURE
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "igvm/file.h"
#include "measure/id_block.h"
#include "measure/reference.h"
#include "sign/signer.h"

namespace igvmkit::corim {

// One platform's unsigned CoRIM (#6.501).
struct PlatformCorim {
  std::string platform;  // "snp", "tdx" or "vbs", as in measure::ReferenceDigest
  ByteVector document;
  std::optional<ByteVector> detached;  // set by makeCorim when signed: for CORIM_SIGNATURE
};

// One CoRIM per platform of `ref` that has a profile, in the order snp, tdx, vbs: SNP in AMD's
// profile (one reference triple per SNP measurement, named `id`), TDX (MRTD) and VBS in
// microsoft/igvm's launch-measurement profile (one digest each, "corim.digest" when the values
// hold different ones). "corim.empty" when none of the three is there. Deterministic.
Result<std::vector<PlatformCorim>> fromReference(const measure::ReferenceValues& ref,
                                                 std::string_view id);

struct SignedCorim {
  ByteVector cose_sign1;  // #6.18([protected, {}, payload, signature]): the signed CoRIM file
  ByteVector detached;    // the same with payload nil, for an IGVM CORIM_SIGNATURE header
};

// COSE_Sign1 with ES384 (alg -35), content type application/rim+cbor and corim-meta naming the
// signer, over `corim` (an unsigned CoRIM). The signature is checked under the signer's key.
Result<SignedCorim> signCorim(Bytes corim, sign::Signer& signer);

// What `--corim OUT` writes: each platform's COSE_Sign1 with its payload when signed, else its
// unsigned CoRIM, one after the other (an RFC 8742 CBOR sequence; one item for a one-platform
// file); and what `--embed-corim` puts in each platform's IGVM headers (`parts`).
struct CorimFiles {
  ByteVector file;
  std::vector<PlatformCorim> parts;
};
Result<CorimFiles> makeCorim(const measure::ReferenceValues& ref, std::string_view id,
                             sign::Signer* signer);

// Checks a COSE_Sign1 made by signCorim (payload embedded, or nil with `detached_payload`) under
// `key`. "corim.cose" for malformed input, "corim.signature_invalid" when it does not verify.
Status verifyCorim(Bytes cose_sign1, Bytes detached_payload,
                   const measure::SNP_ECDSA_PUBLIC_KEY& key);

// Reads reference values back out of a CoRIM file as makeCorim writes it (one CoRIM, or a CBOR
// sequence of them; each a COSE_Sign1 or an unsigned #6.501), for `verify --expect FILE.cbor`:
// SNP from AMD's profile (digests and ID-block identity), TDX and VBS from the launch-measurement
// profile. A signed CoRIM must verify under `key` ("corim.key_required", a usage error, without
// one; "corim.signature_invalid" when it does not); an unsigned one is refused
// ("corim.unsigned") unless `unsigned_ok`. "corim.structure" for CBOR that is not such a CoRIM.
struct ReadOptions {
  std::optional<measure::SNP_ECDSA_PUBLIC_KEY> key;
  bool unsigned_ok = false;
};
Result<measure::ReferenceValues> readReference(Bytes file, const ReadOptions& options);

// Any CBOR item decoded for `dump`: maps as {"<key>": value}, byte strings as hex, tags as
// {"tag": N, "value": ...}; the CBOR inside a CoMID (#6.506), a COSE protected header and a
// COSE payload is decoded too. "corim.cbor" for malformed CBOR or trailing bytes.
Result<nlohmann::ordered_json> decode(Bytes cbor);

// The file re-written with `document` as its CORIM_DOCUMENT and, when given, `signature` (a
// detached COSE_Sign1) as its CORIM_SIGNATURE for `mask`, replacing any there; the document comes
// first, as microsoft/igvm requires.
Result<ByteVector> withCorim(const igvm::File& file, uint32_t mask, Bytes document,
                             std::optional<Bytes> signature);

// The CORIM_DOCUMENT / CORIM_SIGNATURE headers of a file, decoded (for `dump`): header index ->
// decode() of its payload, or {"error": message} when it is not CBOR.
std::vector<std::pair<uint32_t, nlohmann::ordered_json>> embedded(const igvm::File& file);

}  // namespace igvmkit::corim
