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
#include <utility>
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

// Optional verification policy. Every absent field means "not checked", except debug_allowed
// and migrate_ma_allowed, whose absence means forbidden, and allowed_tcb_status, whose absence
// means "UpToDate" only.
struct ReferencePolicy {
  bool debug_allowed = false;
  bool migrate_ma_allowed = false;          // SNP: policy MIGRATE_MA (bit 18)
  std::optional<bool> smt_allowed;          // SNP: false requires policy SMT (bit 16) clear
  std::optional<uint32_t> vmpl;             // SNP: exact VMPL of the requesting guest
  std::optional<uint8_t> min_build;         // SNP: minimum CURRENT_BUILD of the firmware
  uint64_t platform_info_required = 0;      // SNP: PLATFORM_INFO bits that must be set
  uint64_t platform_info_forbidden = 0;     // SNP: PLATFORM_INFO bits that must be clear
  std::vector<ByteVector> chip_ids;         // SNP: CHIP_ID must be one of these (64 bytes)
  std::vector<std::string> allowed_tcb_status;  // TDX: TCB level statuses accepted
                                                // (platform and QE); empty = {"UpToDate"}
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
  // TDX event log: SHA-384 digests the named events ("kernel", "initrd", "cmdline") may have;
  // every event of that name must have one of them (attest/event_log.h names the events).
  std::vector<std::pair<std::string, std::vector<ByteVector>>> events;

  // The "policy" object (attest/README.md lists its keys). Unknown keys are errors.
  static Result<ReferencePolicy> fromJson(const nlohmann::ordered_json& doc);
  nlohmann::ordered_json toJson() const;
};

// PLATFORM_INFO bit names as the policy's "platform_info" takes them (SEV-SNP ABI 56860):
// smt_enabled 0, tsme_enabled 1, ecc_enabled 2, rapl_disabled 3, ciphertext_hiding_enabled 4,
// alias_check_complete 5, tio_enabled 7. Returns the bit, or nullopt.
std::optional<int> platformInfoBit(std::string_view name);

// JSON text parsed as reference files are: a duplicate key in any object is an error (never
// "the last one wins"), as is malformed text. Errors carry `rule`.
Result<nlohmann::ordered_json> parseStrictJson(std::string_view text, const std::string& rule);

struct ReferenceValues {
  std::vector<ReferenceDigest> measurements;
  std::optional<ReferencePolicy> policy;

  // The measurements whose platform is `platform` (in file order).
  std::vector<const ReferenceDigest*> forPlatform(std::string_view platform) const;

  // Parses either accepted shape. Errors are kInvalidInput with rule "reference.*": malformed
  // or duplicate keys, no measurement at all, a key of the {"measurements"} shape other than
  // "measurements" and "policy", and in a single document a key that is a near miss of a known
  // one ("polcy") or a policy key outside "policy".
  static Result<ReferenceValues> fromJson(std::string_view text);
  static Result<ReferenceValues> fromJsonDoc(const nlohmann::ordered_json& doc);

  nlohmann::ordered_json toJson() const;
};

}  // namespace igvmkit::measure
