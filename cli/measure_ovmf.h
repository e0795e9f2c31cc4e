// cli/measure_ovmf.h: `igvmkit measure --ovmf FILE ...`, a QEMU launch of OVMF without IGVM
// (cli-contract.md "measure"), with sev-snp-measure's flags. cli/measure.cc adds these options to
// the measure subcommand and hands over when --ovmf is given.
#pragma once

#include <CLI/CLI.hpp>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/file.h"
#include "measure/measure.h"
#include "measure/ovmf_launch.h"

namespace igvmkit::cli {

struct OvmfMeasureArgs {
  std::string ovmf;
  std::optional<std::string> vcpu_type;
  std::optional<std::string> vcpu_sig;
  std::optional<uint32_t> vcpu_family, vcpu_model, vcpu_stepping;
  std::string vmm = "qemu";
  std::string guest_features = "0x1";
  std::optional<std::string> kernel, initrd, append;
  std::optional<std::string> svsm, vars_file;
  std::optional<uint64_t> vars_size;
};

// Adds --ovmf and the flags only it takes to `cmd`; the returned state is filled by CLI11.
std::shared_ptr<OvmfMeasureArgs> addOvmfMeasureOptions(CLI::App* cmd);

// Runs the measurement for `platform` (snp, sev, sev-es, tdx), each vCPU count of the inclusive
// range (snp and sev-es; the others measure once), with the shared output flags. Returns the
// exit status.
int runOvmfMeasure(const OvmfMeasureArgs& args, const std::string& platform,
                   std::pair<uint32_t, uint32_t> vcpus, bool json, bool trace);

// The launch inputs --kernel/--initrd/--append and --svsm with --vars-size/--vars-file name, as
// `measure --ovmf` and `diagnose --ovmf` both read them: regular files mapped, a pipe or a
// character device (sev-snp-measure's users pass /dev/null for "empty") read whole. The kernel
// hashes and the SVSM launch view into those files, which this object keeps: keep it alive while
// they are used.
class OvmfLaunchInputs {
 public:
  struct Paths {
    std::optional<std::string> kernel, initrd, append, svsm, vars_file;
    std::optional<uint64_t> vars_size;
  };
  // Reads what `paths` names. On failure prints the error, naming the file, and returns its exit
  // status; kExitOk otherwise.
  int read(const Paths& paths);

  std::optional<measure::SevKernelHashes> kernel_hashes;
  std::optional<measure::SvsmLaunch> svsm;

 private:
  Result<Bytes> open(const std::string& path);
  std::deque<MappedFile> mapped_;  // deques: views stay valid as inputs are added
  std::deque<ByteVector> read_;
};

// Output shared by `measure FILE` and `measure --ovmf`: where --trace lines go (stderr with
// --json, so stdout stays one JSON document; else stdout), and the plain output, one digest per
// line, prefixed by the vCPU count when a range was measured.
measure::TraceFn traceSink(bool json);
void printDigests(const std::vector<measure::Measurement>& results);

}  // namespace igvmkit::cli
