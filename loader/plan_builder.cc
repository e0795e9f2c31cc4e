#include "loader/plan_builder.h"

#include <algorithm>
#include <cstring>

#include "igvm/defs.h"
#include "igvm/gpa.h"
#include "igvm/vp_state.h"
#include "loader/internal/vmsa.h"
#include "loader/params.h"
#include "measure/id_block.h"

namespace igvmkit::loader {
namespace {

bool confidential(BackendKind b) {
  return b == BackendKind::kKvmSnp || b == BackendKind::kKvmTdx || b == BackendKind::kMshvSnp;
}

bool inAnyRange(const std::vector<GpaRange>& ranges, uint64_t gpa, uint64_t end) {
  for (const GpaRange& r : ranges) {
    if (gpa >= r.gpa && end <= r.end()) {
      return true;
    }
  }
  return false;
}

}  // namespace

PlanBuilder::PlanBuilder(BackendKind backend, VmConfig config)
    : backend_(backend), config_(std::move(config)) {
  Result<std::vector<GpaRange>> ram = config_.ramLayout();
  if (ram.ok()) {
    ram_ = *ram;
  } else {
    config_status_ = ram.status();
  }
}

Status PlanBuilder::setGuestPolicy(uint64_t policy) {
  if (isSnp(backend_)) {
    setup_.snp_policy = policy;
    return okStatus();
  }
  if (backend_ == BackendKind::kKvmTdx) {
    if ((policy & ~uint64_t{0x3}) != 0) {
      return unsupported("plan.tdx_policy",
                         "tdx policy " + hex(policy) +
                             " asks for migration or unknown bits, which kvm-tdx does not offer");
    }
    setup_.tdx_attributes = ((policy & 1) != 0 ? 1ull : 0) | ((policy & 2) != 0 ? (1ull << 28) : 0);
  }
  return okStatus();
}

void PlanBuilder::noteOutsideRam(uint64_t gpa, uint64_t size) {
  if (inAnyRange(ram_, gpa, gpa + size)) {
    return;
  }
  // Extend the last extra region when contiguous, else start a new one.
  if (!extra_.empty() && extra_.back().end() == gpa) {
    extra_.back().size += size;
    return;
  }
  if (!inAnyRange(extra_, gpa, gpa + size)) {
    extra_.push_back({gpa, size});
  }
}

Status PlanBuilder::pageData(uint64_t gpa, uint32_t flags, uint16_t data_type, Bytes data,
                             std::shared_ptr<const void> keep_alive) {
  uint64_t size = (flags & kIgvmPageIs2Mb) != 0 ? 0x200000 : kPageSize;
  // Before alignment, so plan and measure name a page past the width (or 2^64) alike.
  IGVMKIT_RETURN_IF_ERROR(igvm::checkGpaRange(platformFor(backend_), "page data", gpa, size));
  if (gpa % size != 0) {
    return invalid("plan.page_alignment",
                   "page data gpa " + hex(gpa) + " is not aligned to " + hex(size));
  }
  if (data.size() > size) {
    return invalid("plan.page_data_size", "page data at " + hex(gpa) + " has " +
                                                 hex(data.size()) + " bytes, more than its page");
  }
  PageType type;
  switch (data_type) {
    case kIgvmDataNormal:
      type = (flags & kIgvmPageUnmeasured) != 0 ? PageType::kUnmeasured : PageType::kNormal;
      break;
    case kIgvmDataSecrets:
      type = PageType::kSecrets;
      break;
    case kIgvmDataCpuid:
    case kIgvmDataCpuidXf:
      type = PageType::kCpuid;
      break;
    default:
      return invalid("plan.page_data_type",
                     "page data at " + hex(gpa) + " has unknown data type " + hex(data_type));
  }
  uint32_t op_flags = 0;
  if ((flags & kIgvmPageShared) != 0 &&
      (backend_ == BackendKind::kMshvSnp || backend_ == BackendKind::kKvmTdx)) {
    op_flags = kPageFlagShared;
    if (type == PageType::kUnmeasured) {
      type = PageType::kNormal;  // a shared page is not measured either way
    }
  }
  ImportPages op;
  op.gpa = gpa;
  op.page_count = size / kPageSize;
  op.type = type;
  op.flags = op_flags;
  op.data = data;
  op.keep_alive = std::move(keep_alive);
  noteOutsideRam(gpa, size);
  appendCoalesced(ops_, backend_, std::move(op));
  return okStatus();
}

Status PlanBuilder::parameterArea(uint32_t index, uint64_t size, Bytes initial) {
  // The parser enforces the same limit (parameter_area.limit); this covers direct callers.
  if (size == 0 || size % kPageSize != 0 || size > igvm::kMaxParameterAreaBytes ||
      size > igvm::kMaxParameterAreasTotalBytes - area_bytes_) {
    return invalid("plan.area_size",
                   "parameter area " + std::to_string(index) + " size " + hex(size) +
                       " is not a whole number of pages up to 1 GiB (all areas together too)");
  }
  if (initial.size() > size) {
    return invalid("plan.area_size", "parameter area " + std::to_string(index) +
                                            " initial data " + hex(initial.size()) +
                                            " exceeds its size " + hex(size));
  }
  if (areas_.count(index) != 0) {
    return invalid("plan.area_index",
                   "parameter area " + std::to_string(index) + " is declared twice");
  }
  Area area;
  area.size = size;
  if (!initial.empty()) {
    area.writes.push_back({0, ByteVector(initial.begin(), initial.end())});
  }
  areas_[index] = std::move(area);
  area_bytes_ += size;
  return okStatus();
}

Result<PlanBuilder::Area*> PlanBuilder::liveArea(uint32_t index, const char* what) {
  auto it = areas_.find(index);
  if (it == areas_.end()) {
    return invalid("plan.area_index",
                   std::string(what) + " names undeclared parameter area " + std::to_string(index));
  }
  if (it->second.inserted) {
    return invalid("plan.area_index", std::string(what) + " names parameter area " +
                                             std::to_string(index) +
                                             ", which was already inserted");
  }
  return &it->second;
}

Status PlanBuilder::parameter(ParameterKind kind, uint32_t area_index, uint32_t byte_offset) {
  IGVMKIT_RETURN_IF_ERROR(config_status_);
  IGVMKIT_ASSIGN_OR_RETURN(Area * area, liveArea(area_index, "a parameter"));
  if (byte_offset > area->size) {
    return invalid("params.too_large", "parameter offset " + hex(byte_offset) +
                                           " is past the area of " + hex(area->size) + " bytes");
  }
  uint64_t room = area->size - byte_offset;
  ByteVector value;
  switch (kind) {
    case ParameterKind::kVpCount:
      value = vpCount(config_);
      break;
    case ParameterKind::kMemoryMap: {
      IGVMKIT_ASSIGN_OR_RETURN(value, memoryMap(config_, {}, room));
      break;
    }
    case ParameterKind::kCommandLine: {
      IGVMKIT_ASSIGN_OR_RETURN(value, commandLine(config_.cmdline, room));
      break;
    }
    case ParameterKind::kMadt: {
      IGVMKIT_ASSIGN_OR_RETURN(value, madt(config_));
      break;
    }
    case ParameterKind::kDeviceTree: {
      IGVMKIT_ASSIGN_OR_RETURN(value, deviceTree(config_));
      break;
    }
    case ParameterKind::kEnvironmentInfo:
      // Memory an mshv-snp guest has not accepted is host-owned; kvm-snp and kvm-tdx memory
      // starts private (this loader marks all RAM private at map time).
      value = environmentInfo(backend_ == BackendKind::kMshvSnp);
      break;
    case ParameterKind::kMmioRanges: {
      // IGVM_VHS_MMIO_RANGES: exactly two {starting_gpa_page_number, number_of_pages}.
      for (size_t i = 0; i < 2; ++i) {
        GpaRange g = i < config_.mmio_gaps.size() ? config_.mmio_gaps[i] : GpaRange{};
        appendStruct(value, g.gpa / kPageSize);
        appendStruct(value, g.size / kPageSize);
      }
      break;
    }
    case ParameterKind::kSrat:
    case ParameterKind::kSlit:
    case ParameterKind::kPptt:
      return unsupported(
          "plan.parameter_kind",
          "parameter " + std::string(parameterKindName(kind)) + " is not supported by this loader");
  }
  if (value.size() > room) {
    return invalid("params.too_large", "parameter of " + hex(value.size()) + " bytes at offset " +
                                           hex(byte_offset) + " does not fit the area of " +
                                           hex(area->size) + " bytes");
  }
  area->writes.push_back({byte_offset, std::move(value)});
  area->kinds.push_back(kind);
  return okStatus();
}

Status PlanBuilder::parameterInsert(uint64_t gpa, uint32_t area_index) {
  IGVMKIT_ASSIGN_OR_RETURN(Area * area, liveArea(area_index, "a parameter insert"));
  IGVMKIT_RETURN_IF_ERROR(
      igvm::checkGpaRange(platformFor(backend_), "parameter area", gpa, area->size));
  if (gpa % kPageSize != 0) {
    return invalid("plan.insert_gpa",
                   "parameter insert gpa " + hex(gpa) + " is not page aligned");
  }
  area->inserted = true;
  noteOutsideRam(gpa, area->size);
  FillParameter f;
  f.kinds = area->kinds;
  f.gpa = gpa;
  f.size = area->size;
  f.writes = std::move(area->writes);
  ops_.push_back(std::move(f));
  return okStatus();
}

Status PlanBuilder::vpContextSnp(uint16_t vp_index, uint64_t gpa, Bytes vmsa) {
  if (vmsa.size() > sizeof(igvm::SevVmsa)) {
    return invalid("vmsa.size", "vmsa is " + hex(vmsa.size()) + " bytes, expected 0x1000");
  }
  igvm::SevVmsa fields{};
  std::memcpy(&fields, vmsa.data(), vmsa.size());
  const Bytes whole = asBytes(fields);
  ByteVector page(whole.begin(), whole.end());
  if (vp_index == 0) {
    setup_.sev_features = fields.sev_features;
  }
  switch (backend_) {
    case BackendKind::kKvmSnp:
      if (gpa != kKvmSnpVmsaGpa) {
        return unsupported("kvm_snp.vmsa_gpa",
                           "vmsa of vp " + std::to_string(vp_index) + " is at " + hex(gpa) +
                               ", but kvm places every vmsa at " + hex(kKvmSnpVmsaGpa));
      }
      if (kvm_vmsas_.count(vp_index) != 0) {
        return invalid("plan.vp_twice", "vp " + std::to_string(vp_index) + " has two vmsas");
      }
      if (vp_index >= config_.vcpus) {
        // QEMU's IGVM loader gives VP context i to vCPU i and refuses one for a vCPU the VM lacks
        // (target/i386/sev.c sev_set_cpu_context: "out of bounds CPU index"); `measure` warns.
        return unsupported("kvm_snp.vp_count",
                           "the file has a vmsa for vp " + std::to_string(vp_index) +
                               " but the vm has " + std::to_string(config_.vcpus) +
                               " vcpus; give at least " + std::to_string(vp_index + 1));
      }
      kvm_vmsas_[vp_index] = std::move(page);
      return okStatus();
    case BackendKind::kMshvSnp: {
      if (vp_index >= config_.vcpus) {
        // MSHV measures every VMSA it imports and `measure --host mshv` counts every one in the
        // file: skipping this one would launch a guest whose digest nobody predicted.
        return unsupported("mshv_snp.vp_count",
                           "the file has a vmsa for vp " + std::to_string(vp_index) +
                               " but the vm has " + std::to_string(config_.vcpus) +
                               " vcpus; give at least " + std::to_string(vp_index + 1));
      }
      noteOutsideRam(gpa, kPageSize);
      SetVpState s;
      s.vp_index = vp_index;
      s.state = SnpVmsa{gpa, std::move(page)};
      ops_.push_back(std::move(s));
      return okStatus();
    }
    default:
      return unsupported("plan.vp_vmsa",
                         std::string(backendName(backend_)) + " cannot load an snp vmsa");
  }
}

Status PlanBuilder::vpContextNative(uint16_t vp_index, Bytes c) {
  if (backend_ != BackendKind::kKvm && backend_ != BackendKind::kMshv) {
    return unsupported("plan.vp_registers",
                       std::string(backendName(backend_)) + " cannot load a native vp context");
  }
  if (c.size() < kIgvmNativeContextSize) {
    return invalid("plan.native_context",
                   "native vp context is " + hex(c.size()) + " bytes, expected 0xe8");
  }
  if (vp_index >= config_.vcpus) {
    return okStatus();
  }
  IGVMKIT_ASSIGN_OR_RETURN(const igvm::IgvmNativeVpContextX64 context,
                           readStruct<igvm::IgvmNativeVpContextX64>(c, 0));
  // The context's attributes are the descriptor form with bits 11:8 zero (igvm-format.md §5.4).
  if ((context.code_attributes & 0x0F00) != 0 || (context.data_attributes & 0x0F00) != 0) {
    return invalid("plan.native_context", "native vp context segment attributes " +
                                                 hex(context.code_attributes) + "/" +
                                                 hex(context.data_attributes) + " set bits 11:8");
  }
  SetVpState s;
  s.vp_index = vp_index;
  s.state = igvm::vpStateFromNativeContext(context);
  ops_.push_back(std::move(s));
  return okStatus();
}

Status PlanBuilder::requiredMemory(uint64_t gpa, uint64_t size) {
  IGVMKIT_RETURN_IF_ERROR(config_status_);
  if (gpa > UINT64_MAX - size || !inAnyRange(ram_, gpa, gpa + size)) {
    return invalid("plan.required_memory",
                   "required memory " + hex(gpa) + " size " + hex(size) + " is not guest ram");
  }
  return okStatus();
}

Status PlanBuilder::snpIdBlock(Bytes b) {
  if (!isSnp(backend_)) {
    return okStatus();  // not this platform's business
  }
  if (b.size() != sizeof(igvm::IGVM_VHS_SNP_ID_BLOCK)) {
    return invalid("plan.id_block", "snp id block is " + hex(b.size()) + " bytes, expected " +
                                        hex(sizeof(igvm::IGVM_VHS_SNP_ID_BLOCK)));
  }
  if (id_block_) {
    return invalid("plan.id_block", "a second snp id block");
  }
  id_block_ = ByteVector(b.begin(), b.end());
  return okStatus();
}

Result<Plan> PlanBuilder::finish() {
  IGVMKIT_RETURN_IF_ERROR(config_status_);
  Plan plan;
  plan.backend = backend_;
  plan.config = config_;
  plan.setup = setup_;
  bool priv = confidential(backend_);
  for (const GpaRange& r : ram_) {
    plan.ops.push_back(MapMemory{r.gpa, r.size, priv});
  }
  // Extra regions: page-aligned runs outside RAM, merged where they touch.
  std::vector<GpaRange> extra = extra_;
  std::sort(extra.begin(), extra.end(),
            [](const GpaRange& a, const GpaRange& b) { return a.gpa < b.gpa; });
  std::vector<GpaRange> merged;
  for (const GpaRange& r : extra) {
    if (!merged.empty() && merged.back().end() >= r.gpa) {
      merged.back().size = std::max(merged.back().end(), r.end()) - merged.back().gpa;
    } else {
      merged.push_back(r);
    }
  }
  for (const GpaRange& r : merged) {
    plan.ops.push_back(MapMemory{r.gpa, r.size, priv});
  }
  for (LaunchOp& op : ops_) {
    plan.ops.push_back(std::move(op));
  }
  ops_.clear();
  if (backend_ == BackendKind::kKvmSnp) {
    if (kvm_vmsas_.count(0) == 0) {
      return invalid("kvm_snp.vp_missing", "the file has no snp vmsa for vp 0");
    }
    for (uint32_t i = 0; i < config_.vcpus; ++i) {
      auto it = kvm_vmsas_.find(static_cast<uint16_t>(i));
      SetVpState s;
      s.vp_index = i;
      s.state = SnpVmsa{kKvmSnpVmsaGpa, (it != kvm_vmsas_.end() ? it : kvm_vmsas_.find(0))->second};
      plan.ops.push_back(std::move(s));
    }
  }
  Finalize fin;
  fin.host_data = host_data_;
  if (id_block_) {
    // The directive (igvm-format.md §6) re-packed as LAUNCH_FINISH takes it (measurement.md
    // §2): VERSION forced to 1 and the policy from GUEST_POLICY, as QEMU does; algorithms and
    // author fields are passed on as the file has them (the firmware judges them).
    igvm::IGVM_VHS_SNP_ID_BLOCK d;
    std::memcpy(&d, id_block_->data(), sizeof(d));
    measure::SNP_ID_BLOCK block{};
    std::memcpy(block.ld, d.ld, sizeof(block.ld));
    std::memcpy(block.family_id, d.family_id, sizeof(block.family_id));
    std::memcpy(block.image_id, d.image_id, sizeof(block.image_id));
    block.version = 1;
    block.guest_svn = d.guest_svn;
    block.policy = setup_.snp_policy;
    measure::SNP_ID_AUTH_INFO auth{};
    auth.id_key_algo = d.id_key_algorithm;
    auth.auth_key_algo = d.author_key_algorithm;
    const auto signature = [](const igvm::IGVM_VHS_SNP_ID_BLOCK_SIGNATURE& from,
                              measure::SNP_ECDSA_SIGNATURE& to) {
      std::memcpy(to.r, from.r_comp, sizeof(to.r));
      std::memcpy(to.s, from.s_comp, sizeof(to.s));
    };
    // The IGVM key's reserved u32 after the curve is not part of the firmware's form.
    const auto public_key = [](const igvm::IGVM_VHS_SNP_ID_BLOCK_PUBLIC_KEY& from,
                               measure::SNP_ECDSA_PUBLIC_KEY& to) {
      to.curve = from.curve;
      std::memcpy(to.qx, from.qx, sizeof(to.qx));
      std::memcpy(to.qy, from.qy, sizeof(to.qy));
    };
    signature(d.id_key_signature, auth.id_block_sig);
    public_key(d.id_public_key, auth.id_key);
    signature(d.author_key_signature, auth.id_key_sig);
    public_key(d.author_public_key, auth.author_key);
    SnpIdBlock id;
    static_assert(sizeof(block) == sizeof(id.id_block) && sizeof(auth) == sizeof(id.id_auth));
    std::memcpy(id.id_block.data(), &block, sizeof(block));
    std::memcpy(id.id_auth.data(), &auth, sizeof(auth));
    id.author_key_enabled = d.author_key_enabled != 0;
    fin.snp_id = id;
  }
  plan.ops.push_back(fin);
  coalesce(plan);
  IGVMKIT_RETURN_IF_ERROR(checkPlan(plan));
  return plan;
}

}  // namespace igvmkit::loader
