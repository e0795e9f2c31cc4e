// attest/snp.h: AMD SEV-SNP attestation reports, verified end to end.
//
// verifySnpReport() checks, and names in its Verdict, each of:
//   - the report itself: VERSION 2, 3 or 5; SIGNATURE_ALGO 1; KEY_INFO signing
//   key VCEK or VLEK;
//     policy bit 17 set; reserved fields zero; the unsigned signature padding
//     zero;
//   - the product (Milan, Genoa, Turin) from CPUID_FAM/MOD (v3+) and the
//   certificates' names;
//   - the certificate chain: the ARK's SHA-256 fingerprint equals the one
//   pinned here for that
//     product, the ARK is self-signed, the ASK (VCEK) or ASVK (VLEK) is signed
//     by the ARK, the VCEK/VLEK by the ASK/ASVK (all RSASSA-PSS SHA-384), and
//     OpenSSL path validation at the verification time;
//   - the VCEK/VLEK against the report: certificate kind matches KEY_INFO, its
//   SPL extensions
//     equal REPORTED_TCB (Milan/Genoa or Turin layout), its hwID equals CHIP_ID
//     (VCEK);
//   - the report signature: ECDSA P-384 / SHA-384 over bytes 0x000..0x29F, r
//   and s little endian;
//   - with reference values (measure --json): MEASUREMENT against every "snp"
//   digest, debug
//     policy, minimum TCB and guest SVN, family/image ID, ID/author key
//     digests, host/report data.
//
// Certificates come from the caller (files, a KDS-style cache directory); only
// the three ARK fingerprints are built in. Certificates that strict parsers
// reject (serial number 0, the raw hwID extension) are read with OpenSSL and a
// bounded DER reader; no check is relaxed for them.
//
//   IGVMKIT_ASSIGN_OR_RETURN(ByteVector bytes, attest::decodeEvidence(file));
//   IGVMKIT_ASSIGN_OR_RETURN(Bytes report, attest::extractSnpReport(bytes));
//   attest::SnpEvidence ev{.report = report, .certificates = certs, .at = at};
//   IGVMKIT_ASSIGN_OR_RETURN(attest::Verdict v, attest::verifySnpReport(ev,
//   &reference));
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "attest/chain_cache.h"
#include "attest/verdict.h"
#include "base/bytes.h"
#include "base/status.h"
#include "measure/reference.h"

namespace igvmkit::attest {

// ATTESTATION_REPORT (SEV-SNP ABI 56860, table "ATTESTATION_REPORT Structure");
// 0x4A0 bytes, little endian. Fields marked v3+ / v5 are reserved (zero) in
// earlier versions.
struct ATTESTATION_REPORT {
  uint32_t version;                 // 0x000: 2, 3 or 5
  uint32_t guest_svn;               // 0x004
  uint64_t policy;                  // 0x008: guest policy (kSnpPolicy* bits)
  uint8_t family_id[16];            // 0x010
  uint8_t image_id[16];             // 0x020
  uint32_t vmpl;                    // 0x030
  uint32_t signature_algo;          // 0x034: 1 = ECDSA P-384 with SHA-384
  uint64_t current_tcb;             // 0x038: TCB_VERSION
  uint64_t platform_info;           // 0x040
  uint32_t key_info;                // 0x048: bit0 AUTHOR_KEY_EN, bit1 MASK_CHIP_KEY, 4:2
                                    // SIGNING_KEY
  uint32_t reserved_04c;            // 0x04C: MBZ
  uint8_t report_data[64];          // 0x050
  uint8_t measurement[48];          // 0x090
  uint8_t host_data[32];            // 0x0C0
  uint8_t id_key_digest[48];        // 0x0E0
  uint8_t author_key_digest[48];    // 0x110
  uint8_t report_id[32];            // 0x140
  uint8_t report_id_ma[32];         // 0x160
  uint64_t reported_tcb;            // 0x180: the TCB the VCEK is issued for
  uint8_t cpuid_fam_id;             // 0x188: v3+
  uint8_t cpuid_mod_id;             // 0x189: v3+
  uint8_t cpuid_step;               // 0x18A: v3+
  uint8_t reserved_18b[21];         // 0x18B: MBZ
  uint8_t chip_id[64];              // 0x1A0
  uint64_t committed_tcb;           // 0x1E0
  uint8_t current_build;            // 0x1E8
  uint8_t current_minor;            // 0x1E9
  uint8_t current_major;            // 0x1EA
  uint8_t reserved_1eb;             // 0x1EB: MBZ
  uint8_t committed_build;          // 0x1EC
  uint8_t committed_minor;          // 0x1ED
  uint8_t committed_major;          // 0x1EE
  uint8_t reserved_1ef;             // 0x1EF: MBZ
  uint64_t launch_tcb;              // 0x1F0
  uint64_t launch_mit_vector;       // 0x1F8: v5
  uint64_t current_mit_vector;      // 0x200: v5
  uint8_t reserved_208[0x98];       // 0x208: MBZ
  uint8_t signature_r[72];          // 0x2A0: little endian, only the low 48 bytes non-zero
  uint8_t signature_s[72];          // 0x2E8
  uint8_t signature_reserved[368];  // 0x330: zero
};
static_assert(sizeof(ATTESTATION_REPORT) == 0x4A0);
static_assert(offsetof(ATTESTATION_REPORT, measurement) == 0x90);
static_assert(offsetof(ATTESTATION_REPORT, reported_tcb) == 0x180);
static_assert(offsetof(ATTESTATION_REPORT, chip_id) == 0x1A0);
static_assert(offsetof(ATTESTATION_REPORT, launch_tcb) == 0x1F0);
static_assert(offsetof(ATTESTATION_REPORT, signature_r) == 0x2A0);
static_assert(offsetof(ATTESTATION_REPORT, signature_s) == 0x2E8);

inline constexpr size_t kSnpReportSize = 0x4A0;
inline constexpr size_t kSnpSignedSize = 0x2A0;  // bytes 0x000..0x29F are signed

inline constexpr uint64_t kSnpPolicySmt = 1ull << 16;
inline constexpr uint64_t kSnpPolicyReservedOne = 1ull << 17;  // must be 1
inline constexpr uint64_t kSnpPolicyMigrateMa = 1ull << 18;
inline constexpr uint64_t kSnpPolicyDebug = 1ull << 19;
inline constexpr uint64_t kSnpPolicySingleSocket = 1ull << 20;

enum class SnpProduct { kMilan, kGenoa, kTurin };
std::string productName(SnpProduct product);  // "Milan", "Genoa", "Turin"

enum class SnpSigningKey { kVcek, kVlek, kNone, kReserved };
SnpSigningKey signingKey(const ATTESTATION_REPORT& report);

// What an endorsement key certificate (DER) is by its subject: kVcek for CN
// "SEV-VCEK", kVlek for "SEV-VLEK"; nullopt for anything else (an ASK, an ARK,
// not a certificate).
std::optional<SnpSigningKey> endorsementKeyKind(Bytes der);

// TCB_VERSION decoded; the byte layout depends on the product (Turin adds FMC
// and moves fields).
struct TcbVersion {
  uint64_t raw = 0;
  uint8_t fmc = 0;  // Turin only
  uint8_t boot_loader = 0;
  uint8_t tee = 0;
  uint8_t snp = 0;
  uint8_t microcode = 0;

  // "bl3/tee0/snp8/ucode115" (Turin: "fmc1/bl3/tee2/snp5/ucode97").
  std::string describe(SnpProduct product) const;
};
TcbVersion decodeTcb(uint64_t raw, SnpProduct product);

// A copy of the report (exactly 0x4A0 bytes; no field is judged here,
// verifySnpReport does).
Result<ATTESTATION_REPORT> parseSnpReport(Bytes report);

// The product named by CPUID_FAM_ID/CPUID_MOD_ID (v3+), or nullopt (v2, unknown
// model).
std::optional<SnpProduct> productFromCpuid(const ATTESTATION_REPORT& report);

// Azure vTPM "HCL report" (attest-format.md §1; microsoft/openhcl igvm_attest):
// a header, the hardware report in a 0x4A0 slot at 0x20, then the IGVM request
// data whose variable data, the runtime-claims JSON holding the HCL attestation
// key "HCLAkPub", is bound to the report by REPORT_DATA = hash(runtime data)
// (hash per report_data_hash_type), zero beyond the digest.
struct HCL_REPORT_HEADER {
  uint8_t signature[4];   // 0x00: "HCLA"
  uint32_t version;       // 0x04: 1 or 2
  uint32_t report_size;   // 0x08: bytes used: 0x4C0 + IGVM_REQUEST_DATA.data_size
  uint32_t request_type;  // 0x0C: 2
  uint32_t status;        // 0x10: 0
  uint32_t reserved[3];   // 0x14: 0
};
static_assert(sizeof(HCL_REPORT_HEADER) == 0x20);

struct IGVM_REQUEST_DATA {
  uint32_t data_size;              // 0x00: 20 + variable_data_size
  uint32_t version;                // 0x04: 1
  uint32_t report_type;            // 0x08: 2 = SNP (TDX HCL reports carry an unsigned TDREPORT)
  uint32_t report_data_hash_type;  // 0x0C: 1 SHA-256, 2 SHA-384, 3 SHA-512
  uint32_t variable_data_size;     // 0x10
};
static_assert(sizeof(IGVM_REQUEST_DATA) == 20);

inline constexpr size_t kHclReportOffset = 0x20;
inline constexpr size_t kHclRequestDataOffset = 0x4C0;

struct HclReport {
  HCL_REPORT_HEADER header{};
  IGVM_REQUEST_DATA request{};
  Bytes hardware_report;  // the 0x4A0-byte SNP report (a view into the caller's
                          // buffer)
  Bytes runtime_data;     // the variable data: runtime-claims JSON
};

// True when `bytes` begin with the HCL magic (then only parseHclReport
// decides).
bool isHclReport(Bytes bytes);

// The wrapper, parsed strictly: every header field known, the sizes consistent
// with each other and with the file, the bytes after report_size zero. Errors:
// rule "hcl.*". Does not judge the runtime data's binding to REPORT_DATA;
// verifySnpReport does.
Result<HclReport> parseHclReport(Bytes bytes);

// The 0x4A0-byte report inside `bytes`: the bytes themselves, or the report
// inside an Azure HCL report (parsed with parseHclReport).
Result<Bytes> extractSnpReport(Bytes bytes);

struct SnpEvidence {
  // 0x4A0 bytes, or a whole Azure HCL report: then the runtime data's digest
  // must equal REPORT_DATA (check "hcl.report_data") and the runtime claims
  // (HCLAkPub, ...) are reported.
  Bytes report;
  std::vector<ByteVector> certificates;  // DER: VCEK or VLEK, ASK/ASVK, ARK, in any order
  std::optional<int64_t> at;             // verification time (Unix seconds); now when absent
  std::vector<ByteVector> crls = {};     // DER: KDS CRLs (ARK-signed) to check the chain against
  ChainCache* chain_cache = nullptr;     // chains verified once and reused (attest/chain_cache.h)
};

// Verifies `evidence` and, when `reference` is given, compares it against the
// reference values. Errors only for unreadable evidence (wrong report size);
// every judgement is a Check.
Result<Verdict> verifySnpReport(const SnpEvidence& evidence,
                                const measure::ReferenceValues* reference = nullptr);

// KDS's name for the VCEK that signed `report` on `product`, relative to a KDS base URL or a
// cache directory (attest-format.md "AMD KDS URLs"):
//   vcek/v1/<Product>/<hwid>?blSPL=NN&teeSPL=NN&snpSPL=NN&ucodeSPL=NN
// (Turin: hwid is CHIP_ID[0:8] and fmcSPL=NN& comes first). KDS pads each SPL to two digits;
// `padded_spls = false` gives the unpadded form some caches use. collateral/ fetches this name,
// loadSnpCertCache() reads it.
std::string kdsVcekPath(const ATTESTATION_REPORT& report, SnpProduct product,
                        bool padded_spls = true);

// Certificates for `report` from a local cache laid out like AMD's KDS
// (attest/README.md):
//   DIR/vcek/v1/<Product>/cert_chain            ASK then ARK (PEM)
//   DIR/vlek/v1/<Product>/cert_chain            ASVK then ARK (PEM)
//   DIR/vcek/v1/<Product>/<hwid>?blSPL=..&teeSPL=..&snpSPL=..&ucodeSPL=..   the
//   VCEK (DER or PEM) (Turin: hwid is CHIP_ID[0:8] and fmcSPL=.. comes first; a
//   file named just <hwid> also works)
// Only the products the report can be (all three for v2) are looked at. Missing
// files are not an error; an empty list is returned when nothing is found.
Result<std::vector<ByteVector>> loadSnpCertCache(const std::string& dir,
                                                 const ATTESTATION_REPORT& report);

// A VCEK/VLEK's AMD extensions (OID 1.3.6.1.4.1.3704.1.*), as read by
// verifySnpReport.
struct AmdCertExtensions {
  std::optional<uint64_t> struct_version;   // .1
  std::optional<std::string> product_name;  // .2 ("Milan-B0", "Genoa", "Turin")
  std::optional<uint64_t> bl_spl, tee_spl, snp_spl, ucode_spl,
      fmc_spl;                        // .3.1 .3.2 .3.3 .3.8 .3.9
  std::optional<ByteVector> hwid;     // .4 (raw bytes; VCEK only)
  std::optional<std::string> csp_id;  // .5 (VLEK only)
};
// From (dotted OID, extnValue contents) pairs; malformed values are errors
// (rule "vek.extension").
Result<AmdCertExtensions> parseAmdExtensions(
    const std::vector<std::pair<std::string, ByteVector>>& extensions);

}  // namespace igvmkit::attest
