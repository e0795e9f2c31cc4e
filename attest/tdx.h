// attest/tdx.h: Intel TDX DCAP quotes (v4 and v5, ECDSA P-256), verified end to end.
//
// verifyTdxQuote() checks, and names in its Verdict, each of:
//   - the header: attestation key type 2 (ECDSA P-256), TEE type 0x81 (TDX), Intel QE vendor ID;
//   - the PCK chain carried in the quote (certification data type 6 -> 5): its root is the
//     Intel SGX Root CA pinned here by SHA-256 fingerprint (or the caller's --root), and OpenSSL
//     path validation leaf -> Platform/Processor CA -> root at the verification time;
//   - the QE report signature with the PCK leaf key (ECDSA P-256 / SHA-256);
//   - the attestation key binding: QE report_data = SHA-256(attestation key || QE auth data)
//     followed by 32 zero bytes;
//   - the quote signature with the attestation key over header + body;
//   - with collateral: the TCB Info and QE Identity signatures over their exact JSON text, their
//     signing chains to the same root, the FMSPC against the PCK certificate, the QE report
//     against the QE Identity, and the PCK / root CA CRLs (signature, and no certificate of the
//     chain revoked);
//   - with an event log (attest/event_log.h): its replay against RTMR0-3;
//   - with reference values: MRTD against every "tdx" measurement, RTMRs, REPORTDATA,
//     TD attributes (DEBUG forbidden unless allowed), XFAM and the event log's named events.
//
//   IGVMKIT_ASSIGN_OR_RETURN(ByteVector quote, attest::decodeEvidence(file));
//   attest::TdxEvidence ev{.quote = quote, .root = {}, .collateral = {}, .tcb_signing_chain = {},
//                          .crls = {}, .at = at};
//   IGVMKIT_ASSIGN_OR_RETURN(attest::Verdict v, attest::verifyTdxQuote(ev, &reference));
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "attest/event_log.h"
#include "attest/verdict.h"
#include "base/bytes.h"
#include "base/status.h"
#include "measure/reference.h"

namespace igvmkit::attest {

// Quote header (48 bytes, offset 0).
struct TDX_QUOTE_HEADER {
  uint16_t version;             // 0: 4 or 5
  uint16_t attestation_key_type;  // 2: 2 = ECDSA-256 with P-256
  uint32_t tee_type;            // 4: 0x81 = TDX
  uint16_t reserved_8;          // 8
  uint16_t reserved_10;         // 10
  uint8_t qe_vendor_id[16];     // 12: Intel 939a7233f79c4ca9940a0db3957f0607
  uint8_t user_data[20];        // 28
};
static_assert(sizeof(TDX_QUOTE_HEADER) == 48);

// TD report body, TDX 1.0 (584 bytes); TDX 1.5 appends TD_REPORT_BODY_15_EXT.
struct TD_REPORT_BODY {
  uint8_t tee_tcb_svn[16];     // 0
  uint8_t mr_seam[48];         // 16
  uint8_t mr_signer_seam[48];  // 64
  uint64_t seam_attributes;    // 112
  uint64_t td_attributes;      // 120: bit 0 DEBUG, bit 28 SEPT_VE_DISABLE
  uint64_t xfam;               // 128
  uint8_t mr_td[48];           // 136
  uint8_t mr_config_id[48];    // 184
  uint8_t mr_owner[48];        // 232
  uint8_t mr_owner_config[48];  // 280
  uint8_t rtmr[4][48];         // 328
  uint8_t report_data[64];     // 520
};
static_assert(sizeof(TD_REPORT_BODY) == 584);
static_assert(offsetof(TD_REPORT_BODY, mr_td) == 136 && offsetof(TD_REPORT_BODY, report_data) == 520);

struct TD_REPORT_BODY_15_EXT {
  uint8_t tee_tcb_svn_2[16];   // 584
  uint8_t mr_service_td[48];   // 600
};
static_assert(sizeof(TD_REPORT_BODY_15_EXT) == 64);

// SGX report body of the Quoting Enclave (384 bytes).
struct SGX_REPORT_BODY {
  uint8_t cpu_svn[16];          // 0
  uint32_t misc_select;         // 16
  uint8_t reserved_20[12];      // 20
  uint8_t isv_ext_prod_id[16];  // 32
  uint8_t attributes[16];       // 48
  uint8_t mr_enclave[32];       // 64
  uint8_t reserved_96[32];      // 96
  uint8_t mr_signer[32];        // 128
  uint8_t reserved_160[32];     // 160
  uint8_t config_id[64];        // 192
  uint16_t isv_prod_id;         // 256
  uint16_t isv_svn;             // 258
  uint16_t config_svn;          // 260
  uint8_t reserved_262[42];     // 262
  uint8_t isv_family_id[16];    // 304
  uint8_t report_data[64];      // 320
};
static_assert(sizeof(SGX_REPORT_BODY) == 384 && offsetof(SGX_REPORT_BODY, report_data) == 320);

inline constexpr uint64_t kTdAttributesDebug = 1ull << 0;

// A parsed quote. Byte views point into the caller's buffer (keep it alive).
struct TdxQuote {
  TDX_QUOTE_HEADER header{};
  uint16_t body_type = 2;       // 2 = TDX 1.0 (v4 always), 3 = TDX 1.5
  uint32_t body_size = 584;
  TD_REPORT_BODY body{};
  std::optional<TD_REPORT_BODY_15_EXT> body_15;
  Bytes signed_region;          // header + (descriptor +) body
  Bytes signature;              // 64: r||s big endian
  Bytes attestation_key;        // 64: X||Y
  uint16_t certification_type = 0;  // outer: 6
  Bytes qe_report_bytes;        // 384
  SGX_REPORT_BODY qe_report{};
  Bytes qe_report_signature;    // 64
  Bytes qe_auth_data;
  uint16_t pck_certification_type = 0;  // inner: 5
  Bytes pck_chain;              // PEM, may end in NUL bytes
  size_t size = 0;              // bytes the quote occupies (trailing bytes are ignored)
};

// Parses the structure (version 4/5, TD body type 2/3, certification data 6 -> 5) with every
// length checked; does not judge signatures or values. Errors: rule "quote.*".
Result<TdxQuote> parseTdxQuote(Bytes quote);

// The PCK certificate's SGX extension (OID 1.2.840.113741.1.13.1).
struct PckExtensions {
  ByteVector ppid;                      // .1
  std::array<uint8_t, 16> tcb_components{};  // .2.1 .. .2.16
  uint16_t pce_svn = 0;                 // .2.17
  ByteVector cpu_svn;                   // .2.18
  ByteVector pce_id;                    // .3
  ByteVector fmspc;                     // .4
  std::optional<uint64_t> sgx_type;     // .5
};
// From the extension's extnValue contents. Errors: rule "pck.extension".
Result<PckExtensions> parsePckExtension(Bytes value);

struct TdxEvidence {
  Bytes quote;                          // the quote; bytes after it are ignored
  std::optional<ByteVector> root;       // DER: trust this root instead of the pinned Intel one
  std::string collateral;               // JSON text, "" for none: a dcap-qvl collateral bundle,
                                        // or a PCS {"tcbInfo":..} / {"enclaveIdentity":..} body
  std::vector<ByteVector> tcb_signing_chain;  // DER: signer chain for PCS bodies without one
  std::vector<ByteVector> crls;         // DER CRLs (PCK CA, root CA) beyond the bundle's
  std::optional<int64_t> at;            // verification time (Unix seconds); now when absent
  const CcEventLog* event_log = nullptr;  // replayed and checked against RTMR0-3 (rtmr.N)
};

// Verifies the quote and, when `reference` is given, compares it against the reference values.
// Errors only for unreadable evidence (structure, collateral that is not JSON).
Result<Verdict> verifyTdxQuote(const TdxEvidence& evidence,
                               const measure::ReferenceValues* reference = nullptr);

}  // namespace igvmkit::attest
