#include "loader/testing/tdx_module.h"

#include <openssl/evp.h>

#include <cstring>

#include "loader/backend.h"
#include "hv/kvm_abi.h"

namespace igvmkit::loader::testing {

Result<std::array<uint8_t, 48>> simulateTdxLaunch(const Plan& plan) {
  if (plan.backend != BackendKind::kKvmTdx) {
    return usage("simulateTdxLaunch needs a kvm-tdx plan");
  }
  hv::testing::FakeDevice dev;
  TdxModule tdx(dev);
  std::unique_ptr<Backend> backend = makeBackend(plan.backend, dev);
  IGVMKIT_RETURN_IF_ERROR(launch(*backend, plan));
  if (!dev.violations().empty()) {
    return internal("fake device violation: " + dev.violations()[0]);
  }
  if (!tdx.mrtd()) {
    return internal("the tdx module was not finalized");
  }
  return *tdx.mrtd();
}

struct TdxModule::Ctx {
  EVP_MD_CTX* md = nullptr;
  ~Ctx() { EVP_MD_CTX_free(md); }
};

TdxModule::TdxModule(hv::testing::FakeDevice& device) : ctx_(std::make_unique<Ctx>()) {
  device.observe([this](const hv::testing::FakeCall& call, void*) { onCall(call); });
}

TdxModule::~TdxModule() = default;

void TdxModule::start() {
  EVP_MD_CTX_free(ctx_->md);
  ctx_->md = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx_->md, EVP_sha384(), nullptr);
  mrtd_.reset();
  pages_added_ = chunks_extended_ = 0;
}

void TdxModule::pageAdd(uint64_t gpa) {
  uint8_t block[128] = {};
  std::memcpy(block, "MEM.PAGE.ADD", 12);
  std::memcpy(block + 16, &gpa, 8);
  EVP_DigestUpdate(ctx_->md, block, sizeof(block));
  ++pages_added_;
}

void TdxModule::mrExtend(uint64_t gpa, const std::byte* chunk) {
  uint8_t block[128] = {};
  std::memcpy(block, "MR.EXTEND", 9);
  std::memcpy(block + 16, &gpa, 8);
  EVP_DigestUpdate(ctx_->md, block, sizeof(block));
  EVP_DigestUpdate(ctx_->md, chunk, 256);
  ++chunks_extended_;
}

void TdxModule::finalize() {
  std::array<uint8_t, 48> out{};
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx_->md, out.data(), &len);
  mrtd_ = out;
}

void TdxModule::onCall(const hv::testing::FakeCall& call) {
  if (call.result < 0) {
    return;
  }
  if (call.name == "KVM_TDX_INIT_VM") {
    start();
  } else if (call.name == "KVM_TDX_INIT_MEM_REGION" && ctx_->md != nullptr) {
    hv::kvm::kvm_tdx_cmd cmd;
    std::memcpy(&cmd, call.arg.data(), sizeof(cmd));
    hv::kvm::kvm_tdx_init_mem_region r;
    std::memcpy(&r, call.payload.data(), sizeof(r));  // as issued, before the kernel advanced it
    for (uint64_t p = 0; p < r.nr_pages; ++p) {
      uint64_t gpa = r.gpa + p * 4096;
      const auto* src = reinterpret_cast<const std::byte*>(r.source_addr + p * 4096);
      pageAdd(gpa);
      if ((cmd.flags & hv::kvm::kTdxMeasureMemoryRegion) != 0) {
        for (uint64_t c = 0; c < 16; ++c) {
          mrExtend(gpa + 256 * c, src + 256 * c);
        }
      }
    }
  } else if (call.name == "KVM_TDX_FINALIZE_VM" && ctx_->md != nullptr) {
    finalize();
  }
}

}  // namespace igvmkit::loader::testing
