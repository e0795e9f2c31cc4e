// attest/event_log.h: the TDX confidential-computing event log (CCEL), read and replayed.
//
// A TD's firmware and boot loaders log every measurement they extend into RTMR0-3 in a TCG2
// crypto-agile event log (TCG PC Client Platform Firmware Profile: a TCG_PCClientPCREvent in
// SHA-1 format holding the Spec ID event, then TCG_PCR_EVENT2 records with digest lists). The
// log's "PCR index" is the CC measurement register index of UEFI 2.10 §38.4.1: 0 = MRTD,
// 1..4 = RTMR0..3 (EDK2 MdePkg/Include/Protocol/CcMeasurement.h, TDX_MR_INDEX_*). The guest's
// ACPI CCEL table says where the log area is and how long (Linux exposes the area as
// /sys/firmware/acpi/tables/data/CCEL and the table as /sys/firmware/acpi/tables/CCEL).
//
// parseCcEventLog() reads every event with every length bounded by the bytes really there,
// replays the SHA-384 digests into RTMR0-3, and decodes what is text (EFI variable names, boot
// loader strings, the kernel command line). It judges nothing: verifyTdxQuote() compares the
// replay with the quote (checks rtmr.0..3) and the named events with the reference values.
//
//   IGVMKIT_ASSIGN_OR_RETURN(attest::CcelTable table, attest::parseCcelTable(table_bytes));
//   IGVMKIT_ASSIGN_OR_RETURN(attest::CcEventLog log, attest::parseCcEventLog(log_bytes, &table));
//   for (const attest::CcEvent& e : log.events) { ... e.type, e.digest, e.text ... }
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"

namespace igvmkit::attest {

// The ACPI CCEL table (ACPI 6.5 §5.2.34; EDK2 EFI_CC_EVENTLOG_ACPI_TABLE, Linux struct
// acpi_table_ccel).
struct CCEL_ACPI_TABLE {
  char signature[4];           // 0: "CCEL"
  uint32_t length;             // 4: 56
  uint8_t revision;            // 8
  uint8_t checksum;            // 9: all `length` bytes sum to 0 mod 256
  char oem_id[6];              // 10
  char oem_table_id[8];        // 16
  uint32_t oem_revision;       // 24
  uint32_t creator_id;         // 28
  uint32_t creator_revision;   // 32
  uint8_t cc_type;             // 36: 1 SEV, 2 TDX (EFI_CC_TYPE_*)
  uint8_t cc_subtype;          // 37
  uint16_t reserved;           // 38
  uint64_t laml;               // 40: log area minimum length
  uint64_t lasa;               // 48: log area start address (guest physical)
};
static_assert(sizeof(CCEL_ACPI_TABLE) == 56);
static_assert(offsetof(CCEL_ACPI_TABLE, cc_type) == 36 && offsetof(CCEL_ACPI_TABLE, laml) == 40 &&
              offsetof(CCEL_ACPI_TABLE, lasa) == 48);

inline constexpr uint8_t kCcTypeTdx = 2;

// Signature, length (the whole input, at least 56), checksum and a non-zero log area length.
// Errors: rule "ccel.*".
Result<CCEL_ACPI_TABLE> parseCcelTable(Bytes table);

// TCG algorithm ids (TCG Algorithm Registry).
inline constexpr uint16_t kTpmAlgSha1 = 0x0004;
inline constexpr uint16_t kTpmAlgSha256 = 0x000B;
inline constexpr uint16_t kTpmAlgSha384 = 0x000C;
inline constexpr uint16_t kTpmAlgSha512 = 0x000D;

// Event types used below (TCG PC Client PFP §10.4.1).
inline constexpr uint32_t kEvNoAction = 0x3;
inline constexpr uint32_t kEvEventTag = 0x6;
inline constexpr uint32_t kEvIpl = 0xD;

// The spec name of an event type ("EV_EFI_VARIABLE_BOOT"), or "0x..." when unknown.
std::string eventTypeName(uint32_t type);

struct CcEvent {
  uint32_t index = 0;      // position in the log (0 = first event after the Spec ID event)
  uint64_t offset = 0;     // byte offset of the event in the log
  uint32_t mr_index = 0;   // CC MR index: 1..4 = RTMR0..3
  uint32_t type = 0;
  ByteVector digest;       // the SHA-384 digest (48 bytes) extended into the RTMR
  Bytes data;              // the event data (a view into the caller's log)
  std::string text;        // decoded text ("" when the data is not text): EFI variable
                           // "Name-guid", boot loader strings, image device paths, tag strings
  std::string name;        // "kernel", "initrd" or "cmdline" when recognised (README), else ""
  std::string digest_of;   // what the digest is the SHA-384 of, when that can be seen here:
                           // "data" (the event data), "variable_data" (a UEFI variable's
                           // value), "text" (the boot loader string after its prefix); "" else

  // RTMR number 0..3; only meaningful for an extended (non EV_NO_ACTION) event.
  uint32_t rtmr() const { return mr_index - 1; }
};

struct CcEventLog {
  std::vector<std::pair<uint16_t, uint16_t>> algorithms;  // Spec ID: (algorithm id, digest size)
  std::vector<CcEvent> events;
  std::array<ByteVector, 4> rtmrs;  // RTMR0..3 replayed from zero
  uint64_t log_size = 0;            // bytes holding the Spec ID event and the events
  uint64_t area_size = 0;           // bytes of the log area examined (the file, or the table's
                                    // log area length when that is shorter)
};

// Parses and replays the log. With `table`, its CC type must be TDX and the log area is its
// first `laml` bytes (bytes beyond are not part of the log). After the last event the area must
// hold only filler (all 0xFF, as EDK2 leaves it, or all zero). Errors: rule "eventlog.*" with the
// offset: truncated records, an event size past the end, an algorithm the Spec ID event does not
// list, no SHA-384 bank, an MR index other than RTMR0..3 on an extended event.
Result<CcEventLog> parseCcEventLog(Bytes log, const CCEL_ACPI_TABLE* table = nullptr);

}  // namespace igvmkit::attest
