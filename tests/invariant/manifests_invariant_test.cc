// The loader's key invariant (loader/invariant_test.cc) over the example manifests: each
// testdata/manifests/*.toml that builds without outside inputs is built with builder::build(), and
// for every confidential platform it has, the digest the simulated hardware computes when a
// backend launches loader::plan(file) equals what measure/ predicts: kvm-snp <-> SNP --host kvm
// (1, 2 and 4 vCPUs), mshv-snp <-> SNP --host mshv, kvm-tdx <-> TDX MRTD. The simulated PSP also
// checks multi-platform.toml's signed ID block at LAUNCH_FINISH: it accepts the launch the block
// was signed for and refuses the others.
//
// Inputs: the probe (//testdata/guests:probe) and probe-info.bin are the real files; OVMF.fd is a
// synthetic 256 KiB image and the ID/author keys are fresh P-384 keys (the digest does not depend
// on them). linux.toml targets native only, so it has nothing to compare and is not built here.
#include <gtest/gtest.h>
#include <unistd.h>

#include <iostream>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <array>
#include <string>

#include "base/file.h"
#include "builder/build.h"
#include "builder/manifest.h"
#include "igvm/file.h"
#include "loader/plan.h"
#include "loader/testing/snp_psp.h"
#include "loader/testing/tdx_module.h"
#include "measure/measure.h"

namespace igvmkit {
namespace {

std::string hexOf(const std::array<uint8_t, 48>& d) {
  return hexBytes(Bytes(reinterpret_cast<const std::byte*>(d.data()), d.size()));
}

std::string baseName(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// A fresh ECDSA P-384 private key as PEM.
ByteVector p384Pem() {
  ByteVector out;
  EVP_PKEY* key = EVP_EC_gen("P-384");
  BIO* bio = BIO_new(BIO_s_mem());
  if (key != nullptr && bio != nullptr &&
      PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr) == 1) {
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    out.assign(reinterpret_cast<const std::byte*>(data), reinterpret_cast<const std::byte*>(data) + n);
  }
  BIO_free(bio);
  EVP_PKEY_free(key);
  return out;
}

// Files the manifests name, by base name.
Result<ByteVector> readInput(const std::string& path) {
  const std::string name = baseName(path);
  if (name == "probe.elf") {
    return readFile("testdata/guests/probe.elf");
  }
  if (name == "probe-info.bin") {
    return readFile("testdata/manifests/probe-info.bin");
  }
  if (name == "OVMF_CODE.fd" || name == "OVMF_VARS.fd") {
    return readFile(path);  // firmware.toml: Debian's ovmf package (tools/setup)
  }
  if (name == "OVMF.fd") {
    ByteVector fw(256 * 1024);
    for (size_t i = 0; i < fw.size(); ++i) {
      fw[i] = std::byte(static_cast<uint8_t>(i * 13 + (i >> 12)));
    }
    return fw;
  }
  if (name == "id-p384.pem" || name == "author-p384.pem") {
    return p384Pem();
  }
  return unreadable(path + ": not an input this test provides");
}

struct Case {
  loader::BackendKind backend;
  measure::Platform platform;
  measure::HostModel host;
};

TEST(ManifestInvariant, SimulatedLaunchEqualsMeasureForEveryExampleManifest) {
  const Case cases[] = {
      {loader::BackendKind::kKvmSnp, measure::Platform::kSnp, measure::HostModel::kKvm},
      {loader::BackendKind::kMshvSnp, measure::Platform::kSnp, measure::HostModel::kMshv},
      {loader::BackendKind::kKvmTdx, measure::Platform::kTdx, measure::HostModel::kKvm},
  };
  int compared = 0;
  int refused = 0;
  for (const char* name : {"demo", "firmware", "multi-platform", "relocatable"}) {
    SCOPED_TRACE(name);
    if (std::string(name) == "firmware" && access("/usr/share/OVMF/OVMF_CODE.fd", R_OK) != 0) {
      std::cout << "firmware.toml skipped: /usr/share/OVMF is missing (tools/setup installs ovmf)\n";
      continue;
    }
    const std::string path = std::string("testdata/manifests/") + name + ".toml";
    Result<std::string> text = readTextFile(path);
    ASSERT_TRUE(text.ok()) << text.error().describe();
    Result<builder::Manifest> m = builder::parseManifest(*text, path, "testdata/manifests");
    ASSERT_TRUE(m.ok()) << m.error().describe();
    Result<builder::BuildOutput> built = builder::build(*m, readInput);
    ASSERT_TRUE(built.ok()) << built.error().describe();
    Result<igvm::File> file = igvm::File::parse(built->igvm);
    ASSERT_TRUE(file.ok()) << file.error().describe();
    int before = compared;
    for (const Case& c : cases) {
      igvm::PlatformType want = c.platform == measure::Platform::kSnp ? igvm::PlatformType::kSevSnp
                                                                      : igvm::PlatformType::kTdx;
      if (file->platform(want) == nullptr) {
        continue;
      }
      for (uint32_t vcpus : {1u, 2u, 4u}) {
        SCOPED_TRACE(std::string(loader::backendName(c.backend)) + " with " +
                     std::to_string(vcpus) + " vcpus");
        loader::VmConfig config;
        config.memory_size = m->memory.ramBytes();
        config.vcpus = vcpus;
        Result<loader::Plan> p = loader::plan(*file, c.backend, config);
        ASSERT_TRUE(p.ok()) << p.error().describe();
        measure::MeasureOptions opts;
        opts.platform = c.platform;
        opts.host = c.host;
        opts.vcpus = vcpus;
        opts.threads = 1;
        Result<measure::Measurement> predicted = measure::measure(*file, opts);
        ASSERT_TRUE(predicted.ok()) << predicted.error().describe();
        auto launched = c.platform == measure::Platform::kSnp ? loader::testing::simulateSnpLaunch(*p)
                                                              : loader::testing::simulateTdxLaunch(*p);
        // A signed ID block holds the digest of one host model and vCPU count: the firmware
        // refuses every other launch at its last step (KVM: LAUNCH_FINISH with error 0xb, bad
        // measurement; MSHV: COMPLETE_ISOLATED_IMPORT), as the simulated PSP must.
        const bool signed_for_other =
            c.platform == measure::Platform::kSnp && m->snp && m->snp->id_block &&
            (vcpus != m->snp->vcpus ||
             (c.host == measure::HostModel::kKvm) != (m->snp->host == builder::HostModel::kKvm));
        if (signed_for_other) {
          ASSERT_FALSE(launched.ok());
          const std::string& why = launched.error().message;
          EXPECT_TRUE(c.host == measure::HostModel::kKvm
                          ? why.find("SNP_LAUNCH_FINISH failed") != std::string::npos &&
                                why.find("firmware error 0xb") != std::string::npos
                          : why.find("MSHV_COMPLETE_ISOLATED_IMPORT failed") != std::string::npos)
              << why;
          ++refused;
          continue;
        }
        ASSERT_TRUE(launched.ok()) << launched.error().describe();
        EXPECT_EQ(hexOf(*launched), hexBytes(predicted->digest));
        ++compared;
      }
    }
    EXPECT_GT(compared, before) << name << " has no confidential platform to compare";
  }
  // demo, relocatable, firmware: SNP (2 hosts) + TDX, 3 vCPU counts each; multi-platform: TDX,
  // and SNP only as signed (kvm, 2 vCPUs), the 5 other SNP launches refused.
  EXPECT_EQ(compared, 3 * 9 + 3 + 1);
  EXPECT_EQ(refused, 5);
}

}  // namespace
}  // namespace igvmkit
