// libFuzzer target: Firmware::parse must never crash, and what it accepts must be consistent:
// every entry's data lies inside the image, and every error names a rule of ovmf.h.
// bazel build --config=fuzz //ovmf:parse_fuzz; replayed over ovmf/testdata/fuzz/ by
// //ovmf:parse_fuzz_replay.
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "ovmf/ovmf.h"

namespace igvmkit::ovmf {
namespace {

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "ovmf parse_fuzz: %s\n", what);
  std::abort();
}

void check(Bytes image) {
  Result<Firmware> fw = Firmware::parse(image);
  if (!fw.ok()) {
    if (fw.error().rule.rfind("ovmf.", 0) != 0 || fw.error().message.empty()) {
      die("error without an ovmf rule or message");
    }
    return;
  }
  const std::byte* begin = image.data();
  for (const TableEntry& e : fw->entries()) {
    if (e.data.data() < begin || e.offset + e.data.size() > image.size() ||
        e.data.data() != begin + e.offset) {
      die("entry data outside the image");
    }
    if (fw->find(e.guid) != &e) {
      die("duplicate GUID accepted");
    }
    (void)e.guid.toString();
  }
  for (const SevSection& s : fw->sevSections()) {
    if (s.size == 0 || s.gpa % 4096 != 0 || s.size % 4096 != 0) {
      die("SEV section not whole pages");
    }
  }
  for (const TdvfSection& s : fw->tdvfSections()) {
    if (s.memory_data_size < s.raw_data_size || s.memory_address % 4096 != 0) {
      die("TDVF section accepted with bad sizes");
    }
  }
}

}  // namespace
}  // namespace igvmkit::ovmf

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  igvmkit::ovmf::check(igvmkit::Bytes(reinterpret_cast<const std::byte*>(data), size));
  return 0;
}
