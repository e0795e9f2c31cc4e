#include "vmm/testing/probe_guest.h"

#include <cstdlib>
#include <cstring>

#include "base/file.h"
#include "testdata/guests/probe_abi.h"
#include "vmm/testing/long_mode.h"

namespace igvmkit::vmm::testing {
namespace {

template <class T>
void put(ByteVector& area, uint64_t offset, const T& value) {
  std::memcpy(area.data() + offset, &value, sizeof(T));
}

}  // namespace

Result<ByteVector> probeImage() {
  // bazel test sets TEST_SRCDIR; bazel run starts in the workspace's runfiles directory.
  for (const char* var : {"TEST_SRCDIR", "RUNFILES_DIR"}) {
    if (const char* dir = std::getenv(var); dir != nullptr) {
      return readFile(std::string(dir) + "/igvmkit/testdata/guests/probe.bin");
    }
  }
  return readFile("testdata/guests/probe.bin");
}

ProbeRun probeRun(const ProbeOptions& o, ByteVector image) {
  ProbeRun r;
  r.setup = longModeGuest(o.memory_bytes, PROBE_LOAD_GPA, std::move(image), o.vcpus);
  ByteVector area(0x3000);
  const uint64_t cmdline_off = 0x100, memmap_off = 0x200, vp_off = 0x1200, blob_off = 0x2000;
  const uint64_t blob_size = 300;

  probe_info info{};
  info.magic = PROBE_INFO_MAGIC;
  info.version = PROBE_INFO_VERSION;
  info.flags = o.smp_flag ? PROBE_FLAG_SMP : 0;
  info.cmdline_gpa = kParamGpa + cmdline_off;
  info.cmdline_size = 0x100;
  info.memory_map_gpa = kParamGpa + memmap_off;
  info.memory_map_size = 0x1000;
  info.vp_count_gpa = kParamGpa + vp_off;
  info.blob_gpa = kParamGpa + blob_off;
  info.blob_size = blob_size;
  info.trampoline_gpa = kTrampolineGpa;

  std::memcpy(area.data() + cmdline_off, o.cmdline.data(),
              std::min<size_t>(o.cmdline.size(), 0xFF));
  uint64_t pages = o.memory_bytes >> 12;
  probe_memory_map_entry low{0, 0x9F, PROBE_MEMORY_TYPE_MEMORY, 0, 0};
  probe_memory_map_entry high{0x100, pages - 0x100, PROBE_MEMORY_TYPE_MEMORY, 0, 0};
  put(area, memmap_off, low);
  put(area, memmap_off + 24, high);  // then a zero entry ends the list
  put(area, vp_off, static_cast<uint32_t>(o.vcpus));
  for (uint64_t i = 0; i < blob_size; ++i) {
    area[blob_off + i] = static_cast<std::byte>(i * 7 + 3);
  }
  uint32_t sum = probe_fnv1a(reinterpret_cast<const uint8_t*>(area.data() + blob_off), blob_size);
  info.blob_checksum = o.bad_checksum ? sum ^ 1 : sum;
  put(area, 0, info);
  r.setup.loads.push_back({kParamGpa, std::move(area)});
  r.setup.bsp.rsi = kParamGpa;

  std::string& e = r.expected;
  e += "probe: igvmkit probe 1\n";
  e += "cmdline: " + o.cmdline + "\n";
  e += "memmap[0]: gpa 0x0 pages 0x9f type 0 flags 0\n";
  e += "memmap[1]: gpa " + hex(0x100000) + " pages " + hex(pages - 0x100) + " type 0 flags 0\n";
  e += "memmap: 2 entries\n";
  e += "vp_count: " + std::to_string(o.vcpus) + "\n";
  e += "blob: size " + hex(blob_size) + " checksum " + hex(sum) + " expected " +
       hex(info.blob_checksum) + (o.bad_checksum ? " mismatch\n" : " ok\n");
  return r;
}

}  // namespace igvmkit::vmm::testing
