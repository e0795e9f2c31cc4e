// libFuzzer target: CC event log (and ACPI CCEL table) parsing must never crash, whatever the
// bytes. First byte: 1 = the next 56 bytes are a CCEL table bounding the log, else no table.
#include <cstddef>
#include <cstdint>

#include "attest/event_log.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace igvmkit;
  if (size == 0) {
    return 0;
  }
  Bytes input(reinterpret_cast<const std::byte*>(data + 1), size - 1);
  std::optional<attest::CCEL_ACPI_TABLE> table;
  if (data[0] == 1 && input.size() >= sizeof(attest::CCEL_ACPI_TABLE)) {
    Result<attest::CCEL_ACPI_TABLE> t =
        attest::parseCcelTable(input.subspan(0, sizeof(attest::CCEL_ACPI_TABLE)));
    if (!t.ok()) {
      return 0;
    }
    table = *t;
    input = input.subspan(sizeof(attest::CCEL_ACPI_TABLE));
  }
  Result<attest::CcEventLog> log = attest::parseCcEventLog(input, table ? &*table : nullptr);
  if (!log.ok()) {
    return 0;
  }
  // Every view stays inside the input, and the replay has four 48-byte registers.
  if (log->log_size > input.size()) {
    __builtin_trap();
  }
  for (const attest::CcEvent& e : log->events) {
    if (e.data.data() < input.data() || e.data.data() + e.data.size() > input.data() + input.size() ||
        (e.type != attest::kEvNoAction && (e.digest.size() != 48 || e.mr_index < 1 || e.mr_index > 4))) {
      __builtin_trap();
    }
    (void)attest::eventTypeName(e.type);
  }
  for (const ByteVector& r : log->rtmrs) {
    if (r.size() != 48) {
      __builtin_trap();
    }
  }
  return 0;
}
