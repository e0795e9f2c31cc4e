#include "attest/event_log.h"

#include <algorithm>
#include <cstring>
#include <string_view>

#include "attest/internal/crypto.h"

namespace igvmkit::attest {
namespace {

// TCG_PCClientPCREvent: the SHA-1 format header of the first event.
struct TCG_PCClientPCREvent {
  uint32_t pcrIndex;     // 0
  uint32_t eventType;    // 4: EV_NO_ACTION
  uint8_t digest[20];    // 8: zero
  uint32_t eventDataSize;  // 28
};
static_assert(sizeof(TCG_PCClientPCREvent) == 32);

// TCG_EfiSpecIdEvent up to its variable-length algorithm list.
struct TCG_EfiSpecIdEventHead {
  char signature[16];          // 0: "Spec ID Event03\0"
  uint32_t platformClass;      // 16
  uint8_t specVersionMinor;    // 20
  uint8_t specVersionMajor;    // 21
  uint8_t specErrata;          // 22
  uint8_t uintnSize;           // 23
  uint32_t numberOfAlgorithms;  // 24
};
static_assert(sizeof(TCG_EfiSpecIdEventHead) == 28);

// UEFI_VARIABLE_DATA up to the variable's name (TCG PC Client PFP §10.2.6).
struct UEFI_VARIABLE_DATA_HEAD {
  uint8_t variableName[16];     // 0: the vendor GUID
  uint64_t unicodeNameLength;   // 16: CHAR16 count
  uint64_t variableDataLength;  // 24
};
static_assert(sizeof(UEFI_VARIABLE_DATA_HEAD) == 32);

// UEFI_IMAGE_LOAD_EVENT up to its device path.
struct UEFI_IMAGE_LOAD_EVENT_HEAD {
  uint64_t imageLocationInMemory;
  uint64_t imageLengthInMemory;
  uint64_t imageLinkTimeAddress;
  uint64_t lengthOfDevicePath;
};
static_assert(sizeof(UEFI_IMAGE_LOAD_EVENT_HEAD) == 32);

constexpr uint32_t kEvEfiVariableDriverConfig = 0x80000001;
constexpr uint32_t kEvEfiVariableBoot = 0x80000002;
constexpr uint32_t kEvEfiBootServicesApplication = 0x80000003;
constexpr uint32_t kEvEfiBootServicesDriver = 0x80000004;
constexpr uint32_t kEvEfiRuntimeServicesDriver = 0x80000005;
constexpr uint32_t kEvEfiPlatformFirmwareBlob2 = 0x8000000A;
constexpr uint32_t kEvEfiHandoffTables2 = 0x8000000B;
constexpr uint32_t kEvEfiVariableBoot2 = 0x8000000C;
constexpr uint32_t kEvEfiVariableAuthority = 0x800000E0;

// Linux EFI stub tagged events (drivers/firmware/efi/libstub/efistub.h).
constexpr uint32_t kLinuxInitrdTag = 0x8F3B22EC;
constexpr uint32_t kLinuxLoadOptionsTag = 0x8F3B22ED;

constexpr std::string_view kGrubCommand = "grub_cmd: ";
constexpr std::string_view kGrubKernelCmdline = "kernel_cmdline: ";

Error bad(const std::string& rule, const std::string& message, uint64_t offset) {
  Location where;
  where.offset = offset;
  return invalid(rule, message, where);
}

template <class T>
Result<T> readAt(Bytes log, uint64_t off, const char* what) {
  Result<T> v = readStruct<T>(log, off);
  if (!v.ok()) {
    return bad("eventlog.truncated",
               std::string(what) + " (" + std::to_string(sizeof(T)) + " bytes at " + hex(off) +
                   ") runs past the end of the log (" + hex(log.size()) + " bytes)",
               off);
  }
  return v;
}

Result<Bytes> takeAt(Bytes log, uint64_t off, uint64_t n, const char* what) {
  Result<Bytes> v = slice(log, off, n);
  if (!v.ok()) {
    return bad("eventlog.truncated",
               std::string(what) + " (" + hex(n) + " bytes at " + hex(off) +
                   ") runs past the end of the log (" + hex(log.size()) + " bytes)",
               off);
  }
  return v;
}

std::optional<uint16_t> knownDigestSize(uint16_t alg) {
  switch (alg) {
    case kTpmAlgSha1:
      return 20;
    case kTpmAlgSha256:
      return 32;
    case kTpmAlgSha384:
      return 48;
    case kTpmAlgSha512:
      return 64;
    default:
      return std::nullopt;
  }
}

bool printable(unsigned char c) { return (c >= 0x20 && c < 0x7f) || c == '\n' || c == '\t'; }

// ASCII text with optional trailing NULs, or "".
std::string asciiText(Bytes data) {
  size_t n = data.size();
  while (n > 0 && data[n - 1] == std::byte{0}) --n;
  if (n == 0) return "";
  std::string out(reinterpret_cast<const char*>(data.data()), n);
  return std::all_of(out.begin(), out.end(), [](char c) { return printable(c); }) ? out : "";
}

// UTF-16LE text (CHAR16, as UEFI names are) with optional trailing NULs; anything outside
// printable ASCII is shown as '?', so the result is always plain text.
std::string char16Text(Bytes data) {
  std::string out;
  for (size_t i = 0; i + 1 < data.size(); i += 2) {
    uint16_t c = static_cast<uint16_t>(data[i]) | static_cast<uint16_t>(data[i + 1]) << 8;
    out.push_back(c < 0x80 && printable(static_cast<unsigned char>(c)) ? static_cast<char>(c)
                                                                       : (c == 0 ? '\0' : '?'));
  }
  while (!out.empty() && out.back() == '\0') out.pop_back();
  return out.find('\0') == std::string::npos ? out : "";
}

// Printable ASCII as UTF-16LE (every odd byte zero), e.g. systemd-stub's EV_IPL strings.
bool looksChar16(Bytes data) {
  if (data.size() < 4 || data.size() % 2 != 0) return false;
  for (size_t i = 0; i < data.size(); i += 2) {
    if (data[i + 1] != std::byte{0}) return false;
  }
  return true;
}

// The GUID in its registry form (first three fields little endian).
std::string guidText(const uint8_t (&g)[16]) {
  static const int order[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
  std::string out;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out += hexBytes(bytesAt(&g[order[i]], 1));
  }
  return out;
}

bool isVariableEvent(uint32_t type) {
  return type == kEvEfiVariableDriverConfig || type == kEvEfiVariableBoot ||
         type == kEvEfiVariableBoot2 || type == kEvEfiVariableAuthority;
}

// "Name-guid" (efivarfs style) and the variable's value, for a well-formed UEFI_VARIABLE_DATA.
struct VariableData {
  std::string text;
  Bytes value;
};
std::optional<VariableData> decodeVariable(Bytes data) {
  Result<UEFI_VARIABLE_DATA_HEAD> head = readStruct<UEFI_VARIABLE_DATA_HEAD>(data, 0);
  if (!head.ok()) return std::nullopt;
  uint64_t rest = data.size() - sizeof(UEFI_VARIABLE_DATA_HEAD);
  if (head->unicodeNameLength > rest / 2 ||
      head->variableDataLength > rest - 2 * head->unicodeNameLength) {
    return std::nullopt;
  }
  Bytes name = data.subspan(sizeof(UEFI_VARIABLE_DATA_HEAD), 2 * head->unicodeNameLength);
  Bytes value = data.subspan(sizeof(UEFI_VARIABLE_DATA_HEAD) + name.size(),
                             head->variableDataLength);
  return VariableData{char16Text(name) + "-" + guidText(head->variableName), value};
}

// The file path nodes (type 4, subtype 4) of an image load event's device path, joined.
std::string imagePath(Bytes data) {
  Result<UEFI_IMAGE_LOAD_EVENT_HEAD> head = readStruct<UEFI_IMAGE_LOAD_EVENT_HEAD>(data, 0);
  if (!head.ok()) return "";
  Result<Bytes> path = slice(data, sizeof(UEFI_IMAGE_LOAD_EVENT_HEAD), head->lengthOfDevicePath);
  if (!path.ok()) return "";
  std::string out;
  uint64_t off = 0;
  while (off + 4 <= path->size()) {
    uint8_t type = static_cast<uint8_t>((*path)[off]);
    uint8_t subtype = static_cast<uint8_t>((*path)[off + 1]);
    uint16_t len = static_cast<uint16_t>((*path)[off + 2]) |
                   static_cast<uint16_t>((*path)[off + 3]) << 8;
    if (len < 4 || len > path->size() - off || type == 0x7F) break;
    if (type == 4 && subtype == 4) out += char16Text(path->subspan(off + 4, len - 4));
    off += len;
  }
  return out;
}

// The description string that a (BLOB2, HANDOFF_TABLES2) event starts with: one length byte,
// then that many ASCII bytes.
std::string leadingDescription(Bytes data) {
  if (data.empty()) return "";
  size_t n = static_cast<uint8_t>(data[0]);
  if (n == 0 || n >= data.size()) return "";
  return asciiText(data.subspan(1, n));
}

// Decodes `e.text` and `e.digest_of`; names grub's and the Linux EFI stub's events.
void decode(CcEvent& e) {
  auto sha = [](Bytes b) { return internal::sha384(b); };
  if (isVariableEvent(e.type)) {
    if (std::optional<VariableData> var = decodeVariable(e.data)) {
      e.text = var->text;
      if (sha(var->value) == e.digest) e.digest_of = "variable_data";
    }
  } else if (e.type == kEvEfiBootServicesApplication || e.type == kEvEfiBootServicesDriver ||
             e.type == kEvEfiRuntimeServicesDriver) {
    e.text = imagePath(e.data);
  } else if (e.type == kEvEfiPlatformFirmwareBlob2 || e.type == kEvEfiHandoffTables2) {
    e.text = leadingDescription(e.data);
  } else if (e.type == kEvEventTag) {
    // TCG_PCClientTaggedEvent: id, size, data.
    Result<uint32_t> id = readStruct<uint32_t>(e.data, 0);
    Result<uint32_t> size = readStruct<uint32_t>(e.data, 4);
    if (id.ok() && size.ok() && *size == e.data.size() - 8) {
      e.text = asciiText(e.data.subspan(8));
      if (*id == kLinuxInitrdTag) e.name = "initrd";
      if (*id == kLinuxLoadOptionsTag) e.name = "cmdline";
    }
  } else {
    e.text = asciiText(e.data);
    if (e.text.empty() && looksChar16(e.data)) e.text = char16Text(e.data);
  }
  if (e.digest_of.empty() && sha(e.data) == e.digest) {
    e.digest_of = "data";
  }
  if (e.type == kEvIpl && e.digest_of.empty()) {
    // grub measures its command lines and the kernel command line as the text after a prefix.
    for (std::string_view prefix : {kGrubCommand, kGrubKernelCmdline}) {
      if (e.text.rfind(prefix, 0) == 0 && sha(toBytes(e.text).subspan(prefix.size())) == e.digest) {
        e.digest_of = "text";
      }
    }
  }
  if (e.type == kEvIpl && e.text.rfind(kGrubKernelCmdline, 0) == 0) {
    e.name = "cmdline";
  }
}

// grub logs "grub_cmd: linux PATH ARGS" and then measures the file PATH as an EV_IPL event whose
// text is PATH; likewise "grub_cmd: initrd PATH...". Names those file events.
void nameGrubFiles(std::vector<CcEvent>& events) {
  std::vector<std::string> kernel_paths, initrd_paths;
  for (CcEvent& e : events) {
    if (e.type != kEvIpl) continue;
    if (e.text.rfind(kGrubCommand, 0) == 0) {
      std::vector<std::string> words;
      size_t pos = kGrubCommand.size();
      while (pos < e.text.size()) {
        size_t end = e.text.find_first_of(" \n\t", pos);
        if (end == std::string::npos) end = e.text.size();
        if (end > pos) words.push_back(e.text.substr(pos, end - pos));
        pos = end + 1;
      }
      if (words.empty()) continue;
      const std::string& cmd = words[0];
      if ((cmd == "linux" || cmd == "linuxefi" || cmd == "linux16") && words.size() > 1) {
        kernel_paths = {words[1]};
      } else if (cmd == "initrd" || cmd == "initrdefi" || cmd == "initrd16") {
        initrd_paths.assign(words.begin() + 1, words.end());
      }
      continue;
    }
    if (e.name.empty()) {
      if (std::find(kernel_paths.begin(), kernel_paths.end(), e.text) != kernel_paths.end()) {
        e.name = "kernel";
      } else if (std::find(initrd_paths.begin(), initrd_paths.end(), e.text) !=
                 initrd_paths.end()) {
        e.name = "initrd";
      }
    }
  }
}

bool allBytesAre(Bytes b, std::byte value) {
  return std::all_of(b.begin(), b.end(), [value](std::byte x) { return x == value; });
}

Result<std::vector<std::pair<uint16_t, uint16_t>>> parseSpecId(Bytes log, uint64_t& off) {
  IGVMKIT_ASSIGN_OR_RETURN(TCG_PCClientPCREvent first,
                           readAt<TCG_PCClientPCREvent>(log, 0, "Spec ID event header"));
  if (first.eventType != kEvNoAction || !allZero(asBytes(first.digest))) {
    return bad("eventlog.spec_id",
               "the first event is not the Spec ID event (type " + eventTypeName(first.eventType) +
                   ", want EV_NO_ACTION with a zero SHA-1 digest)",
               0);
  }
  IGVMKIT_ASSIGN_OR_RETURN(Bytes spec, takeAt(log, sizeof(first), first.eventDataSize,
                                              "Spec ID event data"));
  Result<TCG_EfiSpecIdEventHead> head = readStruct<TCG_EfiSpecIdEventHead>(spec, 0);
  if (!head.ok() ||
      std::memcmp(head->signature, "Spec ID Event03", sizeof(head->signature)) != 0) {
    return bad("eventlog.spec_id",
               "the first event does not hold a \"Spec ID Event03\" (crypto-agile) header",
               sizeof(first));
  }
  uint32_t count = head->numberOfAlgorithms;
  uint64_t list_off = sizeof(TCG_EfiSpecIdEventHead);
  // Each entry takes 4 bytes, so the count is bounded by the event's size before any loop.
  if (count == 0 || count > (spec.size() - list_off) / 4) {
    return bad("eventlog.spec_id",
               "Spec ID event lists " + std::to_string(count) + " algorithms in " +
                   std::to_string(spec.size()) + " bytes",
               sizeof(first) + 24);
  }
  std::vector<std::pair<uint16_t, uint16_t>> algs;
  for (uint32_t i = 0; i < count; ++i) {
    uint16_t alg = *readStruct<uint16_t>(spec, list_off + 4 * i);
    uint16_t size = *readStruct<uint16_t>(spec, list_off + 4 * i + 2);
    std::optional<uint16_t> known = knownDigestSize(alg);
    if ((known && *known != size) || size == 0) {
      return bad("eventlog.algorithm",
                 "Spec ID event gives algorithm " + hex(alg) + " a digest size of " +
                     std::to_string(size),
                 sizeof(first) + list_off + 4 * i);
    }
    for (const auto& [seen, unused] : algs) {
      if (seen == alg) {
        return bad("eventlog.algorithm", "Spec ID event lists algorithm " + hex(alg) + " twice",
                   sizeof(first) + list_off + 4 * i);
      }
    }
    algs.emplace_back(alg, size);
  }
  uint64_t vendor_off = list_off + 4ull * count;
  Result<uint8_t> vendor_size = readStruct<uint8_t>(spec, vendor_off);
  if (!vendor_size.ok() || vendor_off + 1 + *vendor_size != spec.size()) {
    return bad("eventlog.spec_id", "Spec ID event size does not match its contents",
               sizeof(first) + 28);
  }
  if (std::none_of(algs.begin(), algs.end(), [](auto a) { return a.first == kTpmAlgSha384; })) {
    return bad("eventlog.algorithm",
               "the log has no SHA-384 digests (Spec ID event): RTMRs cannot be replayed",
               sizeof(first));
  }
  off = sizeof(first) + spec.size();
  return algs;
}

}  // namespace

std::string eventTypeName(uint32_t type) {
  static const char* const kPreboot[] = {
      "EV_PREBOOT_CERT",        "EV_POST_CODE",        "EV_UNUSED",
      "EV_NO_ACTION",           "EV_SEPARATOR",        "EV_ACTION",
      "EV_EVENT_TAG",           "EV_S_CRTM_CONTENTS",  "EV_S_CRTM_VERSION",
      "EV_CPU_MICROCODE",       "EV_PLATFORM_CONFIG_FLAGS", "EV_TABLE_OF_DEVICES",
      "EV_COMPACT_HASH",        "EV_IPL",              "EV_IPL_PARTITION_DATA",
      "EV_NONHOST_CODE",        "EV_NONHOST_CONFIG",   "EV_NONHOST_INFO",
      "EV_OMIT_BOOT_DEVICE_EVENTS", "EV_POST_CODE2"};
  static const char* const kEfi[] = {
      "EV_EFI_EVENT_BASE",          "EV_EFI_VARIABLE_DRIVER_CONFIG",
      "EV_EFI_VARIABLE_BOOT",       "EV_EFI_BOOT_SERVICES_APPLICATION",
      "EV_EFI_BOOT_SERVICES_DRIVER", "EV_EFI_RUNTIME_SERVICES_DRIVER",
      "EV_EFI_GPT_EVENT",           "EV_EFI_ACTION",
      "EV_EFI_PLATFORM_FIRMWARE_BLOB", "EV_EFI_HANDOFF_TABLES",
      "EV_EFI_PLATFORM_FIRMWARE_BLOB2", "EV_EFI_HANDOFF_TABLES2",
      "EV_EFI_VARIABLE_BOOT2",      "EV_EFI_GPT_EVENT2"};
  if (type < std::size(kPreboot)) return kPreboot[type];
  if (type >= 0x80000000u && type - 0x80000000u < std::size(kEfi)) return kEfi[type - 0x80000000u];
  switch (type) {
    case 0x80000010:
      return "EV_EFI_HCRTM_EVENT";
    case 0x800000E0:
      return "EV_EFI_VARIABLE_AUTHORITY";
    case 0x800000E1:
      return "EV_EFI_SPDM_FIRMWARE_BLOB";
    case 0x800000E2:
      return "EV_EFI_SPDM_FIRMWARE_CONFIG";
    case 0x800000E3:
      return "EV_EFI_SPDM_DEVICE_POLICY";
    case 0x800000E4:
      return "EV_EFI_SPDM_DEVICE_AUTHORITY";
    default:
      return hex(type);
  }
}

Result<CCEL_ACPI_TABLE> parseCcelTable(Bytes table) {
  Result<CCEL_ACPI_TABLE> t = readStruct<CCEL_ACPI_TABLE>(table, 0);
  if (!t.ok()) {
    return bad("ccel.truncated",
               "the CCEL table is " + std::to_string(table.size()) + " bytes, less than 56", 0);
  }
  if (std::memcmp(t->signature, "CCEL", 4) != 0) {
    return bad("ccel.signature", "signature is not \"CCEL\"", 0);
  }
  if (t->length != table.size()) {
    return bad("ccel.length",
               "table length " + std::to_string(t->length) + " is not the file's " +
                   std::to_string(table.size()) + " bytes",
               4);
  }
  uint8_t sum = 0;
  for (std::byte b : table) sum = static_cast<uint8_t>(sum + static_cast<uint8_t>(b));
  if (sum != 0) {
    return bad("ccel.checksum", "bytes sum to " + hex(sum) + " mod 256, not 0", 9);
  }
  if (t->laml == 0) {
    return bad("ccel.log_area", "log area length is zero", 40);
  }
  return t;
}

Result<CcEventLog> parseCcEventLog(Bytes log, const CCEL_ACPI_TABLE* table) {
  if (table) {
    if (table->cc_type != kCcTypeTdx) {
      return bad("ccel.cc_type",
                 "CC type " + std::to_string(table->cc_type) + " is not TDX (2)", 36);
    }
    if (table->laml < log.size()) {
      log = log.subspan(0, table->laml);
    }
  }
  CcEventLog out;
  out.area_size = log.size();
  uint64_t off = 0;
  IGVMKIT_ASSIGN_OR_RETURN(out.algorithms, parseSpecId(log, off));
  for (ByteVector& r : out.rtmrs) r.assign(48, std::byte{0});

  while (off < log.size()) {
    // The unused rest of the log area is filler; a partial record there is a truncated log.
    Bytes rest = log.subspan(off);
    if (allBytesAre(rest, std::byte{0xFF}) || allBytesAre(rest, std::byte{0})) {
      break;
    }
    CcEvent e;
    e.index = static_cast<uint32_t>(out.events.size());
    e.offset = off;
    IGVMKIT_ASSIGN_OR_RETURN(e.mr_index, readAt<uint32_t>(log, off, "event MR index"));
    IGVMKIT_ASSIGN_OR_RETURN(e.type, readAt<uint32_t>(log, off + 4, "event type"));
    IGVMKIT_ASSIGN_OR_RETURN(uint32_t count, readAt<uint32_t>(log, off + 8, "digest count"));
    if (count == 0 || count > out.algorithms.size()) {
      return bad("eventlog.digests",
                 "event " + std::to_string(e.index) + " has " + std::to_string(count) +
                     " digests; the Spec ID event lists " +
                     std::to_string(out.algorithms.size()) + " algorithms",
                 off + 8);
    }
    uint64_t p = off + 12;
    std::vector<uint16_t> seen;
    for (uint32_t i = 0; i < count; ++i) {
      IGVMKIT_ASSIGN_OR_RETURN(uint16_t alg, readAt<uint16_t>(log, p, "digest algorithm"));
      auto it = std::find_if(out.algorithms.begin(), out.algorithms.end(),
                             [alg](auto a) { return a.first == alg; });
      if (it == out.algorithms.end()) {
        return bad("eventlog.algorithm",
                   "event " + std::to_string(e.index) + " has a digest of algorithm " + hex(alg) +
                       ", which the Spec ID event does not list",
                   p);
      }
      if (std::find(seen.begin(), seen.end(), alg) != seen.end()) {
        return bad("eventlog.algorithm",
                   "event " + std::to_string(e.index) + " has two " + hex(alg) + " digests", p);
      }
      seen.push_back(alg);
      IGVMKIT_ASSIGN_OR_RETURN(Bytes digest, takeAt(log, p + 2, it->second, "digest"));
      if (alg == kTpmAlgSha384) e.digest.assign(digest.begin(), digest.end());
      p += 2 + it->second;
    }
    IGVMKIT_ASSIGN_OR_RETURN(uint32_t size, readAt<uint32_t>(log, p, "event size"));
    IGVMKIT_ASSIGN_OR_RETURN(e.data, takeAt(log, p + 4, size, "event data"));
    off = p + 4 + size;
    if (e.type != kEvNoAction) {
      if (e.digest.empty()) {
        return bad("eventlog.algorithm",
                   "event " + std::to_string(e.index) + " has no SHA-384 digest", e.offset + 8);
      }
      if (e.mr_index < 1 || e.mr_index > 4) {
        return bad("eventlog.mr_index",
                   "event " + std::to_string(e.index) + " extends MR index " +
                       std::to_string(e.mr_index) + ", not RTMR0..3 (1..4)",
                   e.offset);
      }
      ByteVector& r = out.rtmrs[e.rtmr()];
      ByteVector both = r;
      both.insert(both.end(), e.digest.begin(), e.digest.end());
      r = internal::sha384(both);
    }
    decode(e);
    out.events.push_back(std::move(e));
  }
  out.log_size = off;
  nameGrubFiles(out.events);
  return out;
}

}  // namespace igvmkit::attest
