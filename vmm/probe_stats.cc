// vmm/probe_stats: measures probe runs for vmm/README.md: wall time per run (VM creation to
// teardown) and the VMM's resident memory beyond the guest RAM it touched.
//
//   bazel run //vmm:probe_stats -- [RUNS] [VCPUS]
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "hv/device.h"
#include "vmm/testing/guest_setup.h"
#include "vmm/testing/probe_guest.h"
#include "vmm/vmm.h"

namespace igvmkit::vmm {
namespace {

// The real device layer, remembering the guest RAM mapping so its resident pages can be counted.
class RecordingLayer final : public hv::Device {
 public:
  int open(const std::string& path, int flags) override { return real_->open(path, flags); }
  int close(int fd) override { return real_->close(fd); }
  long ioctl(int fd, unsigned long request, void* arg) override {
    return real_->ioctl(fd, request, arg);
  }
  long ioctl(int fd, unsigned long request, unsigned long value) override {
    return real_->ioctl(fd, request, value);
  }
  long ioctlInterruptible(int fd, unsigned long request, void* arg) override {
    return real_->ioctlInterruptible(fd, request, arg);
  }
  int eventfd(unsigned int initval, int flags) override { return real_->eventfd(initval, flags); }
  void* mmap(size_t length, int prot, int flags, int fd, off_t offset, int* error) override {
    void* p = real_->mmap(length, prot, flags, fd, offset, error);
    if (p != nullptr && fd < 0) {
      ram = p;
      ram_size = length;
    }
    return p;
  }
  int munmap(void* addr, size_t length) override { return real_->munmap(addr, length); }

  size_t residentRamBytes() const {
    long page = sysconf(_SC_PAGESIZE);
    std::vector<unsigned char> vec((ram_size + page - 1) / page);
    if (ram == nullptr || mincore(ram, ram_size, vec.data()) != 0) {
      return 0;
    }
    return static_cast<size_t>(
               std::count_if(vec.begin(), vec.end(), [](unsigned char c) { return c & 1; })) *
           page;
  }

  void* ram = nullptr;
  size_t ram_size = 0;

 private:
  std::unique_ptr<hv::Device> real_ = hv::systemDevice();
};

size_t rssBytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      return std::strtoull(line.c_str() + 6, nullptr, 10) * 1024;
    }
  }
  return 0;
}

int main(int argc, char** argv) {
  int runs = argc > 1 ? std::atoi(argv[1]) : 10;
  unsigned vcpus = argc > 2 ? static_cast<unsigned>(std::atoi(argv[2])) : 1;
  Result<ByteVector> image = testing::probeImage();
  if (!image.ok()) {
    std::fprintf(stderr, "error: %s\n", image.error().describe().c_str());
    return 1;
  }
  testing::ProbeOptions options;
  options.vcpus = vcpus;
  options.cmdline = vcpus > 1 ? "smp" : "";
  testing::ProbeRun probe = testing::probeRun(options, *image);

  std::vector<double> ms;
  size_t rss_before = 0, rss_during = 0, guest_resident = 0;
  for (int i = 0; i < runs; ++i) {
    RecordingLayer layer;
    std::string out;
    bool sampled = false;
    RunConfig config;
    config.timeout = std::chrono::seconds(30);
    config.device = &layer;
    // Sample while the VM is alive: when the probe prints the last line, just before it exits.
    config.serial = [&](std::string_view bytes) {
      out.append(bytes);
      if (!sampled && out.size() >= 10 && out.compare(out.size() - 10, 10, "probe: ok\n") == 0) {
        sampled = true;
        rss_during = rssBytes();
        guest_resident = layer.residentRamBytes();
      }
    };
    if (i == 0) {
      rss_before = rssBytes();
    }
    auto start = std::chrono::steady_clock::now();
    Result<RunOutcome> outcome = run(probe.setup, config);
    auto end = std::chrono::steady_clock::now();
    if (!outcome.ok() || outcome->exit_status != 0) {
      std::fprintf(stderr, "error: probe run failed: %s\n",
                   outcome.ok() ? outcome->cause.c_str() : outcome.error().describe().c_str());
      return 1;
    }
    ms.push_back(std::chrono::duration<double, std::milli>(end - start).count());
    if (i == 0) {
      std::printf(
          "first run: rss before %zu KiB, during %zu KiB, guest ram resident %zu KiB, "
          "vmm overhead %zd KiB\n",
          rss_before / 1024, rss_during / 1024, guest_resident / 1024,
          (static_cast<ssize_t>(rss_during) - static_cast<ssize_t>(rss_before) -
           static_cast<ssize_t>(guest_resident)) /
              1024);
    }
  }
  std::sort(ms.begin(), ms.end());
  std::printf("%d runs, %u vcpu(s), 64 MiB: wall min %.1f ms, median %.1f ms, max %.1f ms\n", runs,
              vcpus, ms.front(), ms[ms.size() / 2], ms.back());
  return 0;
}

}  // namespace
}  // namespace igvmkit::vmm

int main(int argc, char** argv) { return igvmkit::vmm::main(argc, argv); }
