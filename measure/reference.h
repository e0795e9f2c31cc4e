// measure/reference.h: reference values, the JSON that `igvmkit measure --json` prints and
// `igvmkit build --measurements` collects, and that `igvmkit verify --expect` compares evidence
// against. This header only defines the schema and its JSON conversion; it computes nothing.
//
// Two accepted shapes (fromJson takes either; toJson writes the first when there is exactly one
// measurement and no policy, else the second):
//
//   {"platform":"snp","host":"kvm","vcpus":1,"digest":"<96 hex>","pages_measured":12, ...}
//   {"measurements":[{...}, {...}], "policy":{"debug_allowed":false, "min_tcb":{...}, ...}}
//
// A single document may also carry "policy". Keys a document has beyond the known ones (the
// measurement's stated assumptions) are kept in `extra` and written back unchanged.
//
//   IGVMKIT_ASSIGN_OR_RETURN(measure::ReferenceValues ref, measure::ReferenceValues::fromJson(text));
//   for (const measure::ReferenceDigest& d : ref.forPlatform("snp")) { ... d.digest ... }
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"

namespace igvmkit::measure {

// One launch measurement: what `measure --json` prints.
struct ReferenceDigest {
  std::string platform;                  // "snp", "tdx", "vbs", "sev", "sev-es"
  std::string host;                      // "kvm" or "mshv" ("" when not stated)
  std::optional<uint32_t> vcpus;         // vCPU count the digest assumes
  ByteVector digest;                     // SNP: 48-byte launch digest; TDX: 48-byte MRTD
  std::optional<uint64_t> pages_measured;

  // SNP, for an image with an ID block signed for this digest: what the report shows and a
  // verifier pins. JSON keys in the measurement: id_key_digest, author_key_digest (absent without
  // an author key), family_id, image_id, guest_svn, guest_policy (the report's POLICY; not
  // "policy", which names the verification policy).
  struct IdBlockIdentity {
    ByteVector id_key_digest;                     // 48 bytes: SHA-384 of the AMD-format key
    std::optional<ByteVector> author_key_digest;  // 48 bytes
    ByteVector family_id;                         // 16 bytes
    ByteVector image_id;                          // 16 bytes
    uint32_t guest_svn = 0;
    uint64_t guest_policy = 0;
  };
  std::optional<IdBlockIdentity> id_block;

  nlohmann::ordered_json extra = nlohmann::ordered_json::object();  // every other key, verbatim

  // "snp/kvm/1 vcpu" style label naming this entry in verification output.
  std::string label() const;
};

// Minimum TCB component levels (SNP); an absent component is not checked.
struct MinimumTcb {
  std::optional<uint8_t> boot_loader, tee, snp, microcode, fmc;
};

// Optional verification policy. Every absent field means "not checked", except debug_allowed,
// whose absence means debug is forbidden.
struct ReferencePolicy {
  bool debug_allowed = false;
  std::optional<MinimumTcb> min_tcb;        // SNP: REPORTED_TCB components must be >= these
  std::optional<uint32_t> guest_svn;        // SNP: minimum GUEST_SVN
  std::optional<ByteVector> family_id;      // SNP: 16 bytes
  std::optional<ByteVector> image_id;       // SNP: 16 bytes
  std::optional<ByteVector> id_key_digest;  // SNP: 48 bytes
  std::optional<ByteVector> author_key_digest;  // SNP: 48 bytes
  std::optional<ByteVector> host_data;      // SNP: 32 bytes
  std::optional<ByteVector> report_data;    // SNP/TDX: up to 64 bytes; the rest must be zero
  std::vector<std::optional<ByteVector>> rtmrs;  // TDX: RTMR0..3, null = not checked
  std::optional<uint64_t> td_attributes;    // TDX: exact TDATTRIBUTES value
  std::optional<uint64_t> xfam;             // TDX: exact XFAM value
};

struct ReferenceValues {
  std::vector<ReferenceDigest> measurements;
  std::optional<ReferencePolicy> policy;

  // The measurements whose platform is `platform` (in file order).
  std::vector<const ReferenceDigest*> forPlatform(std::string_view platform) const;

  // Parses either accepted shape. Errors are kInvalidInput with rule "reference.*".
  static Result<ReferenceValues> fromJson(std::string_view text);
  static Result<ReferenceValues> fromJsonDoc(const nlohmann::ordered_json& doc);

  nlohmann::ordered_json toJson() const;
};

}  // namespace igvmkit::measure
