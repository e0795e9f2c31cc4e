// vmm/testing/probe_guest.h: the probe guest (testdata/guests) set up the way a loader would: its
// image at 1 MiB, an info block, command line, IGVM memory map, VP count and a checksummed blob in
// the parameter area, and the serial output the probe must print for them (probe_abi.h).
//
//   testing::ProbeRun p = testing::probeRun({.vcpus = 2, .cmdline = "smp"});
//   auto outcome = vmm::run(p.setup, config);  // output == p.expected, status 0
#pragma once

#include <string>

#include "base/bytes.h"
#include "vmm/testing/guest_setup.h"

namespace igvmkit::vmm::testing {

struct ProbeOptions {
  unsigned vcpus = 1;
  uint64_t memory_bytes = 64 << 20;
  std::string cmdline;
  bool smp_flag = false;      // PROBE_FLAG_SMP (the cmdline token "smp" also asks for SMP)
  bool bad_checksum = false;  // the info block carries a wrong checksum
};

struct ProbeRun {
  GuestSetup setup;
  std::string expected;  // the full serial output when everything is consistent
};

// The flat probe image from the test's runfiles (testdata/guests/probe.bin), or an error.
Result<ByteVector> probeImage();

// `image` loaded at 1 MiB with its parameters. `expected` stops before the SMP lines and the final
// "probe: ok"/"probe: fail" line, which the caller appends for the case at hand.
ProbeRun probeRun(const ProbeOptions& options, ByteVector image);

}  // namespace igvmkit::vmm::testing
