// hv/mshv_abi.h: the /dev/mshv uAPI (upstream and the downstream Microsoft kernels),
// from loader-vmm.md §2.2-2.4. No system header exists on this machine; the sizes and offsets
// below are the documented ones.
#pragma once

#include <cstddef>
#include <cstdint>

#include "hv/kvm_abi.h"

namespace igvmkit::hv::mshv {

using kvm::ioc;
inline constexpr unsigned kMshvIo = 0xB8;

struct mshv_create_partition {
  uint64_t pt_flags;
  uint64_t pt_isolation;
};
static_assert(sizeof(mshv_create_partition) == 16);
inline constexpr uint64_t kPtBitLapic = 1ull << 0, kPtBitX2apic = 1ull << 1,
                          kPtBitGpaSuperPages = 1ull << 2;
inline constexpr uint64_t kKnownPtFlags = (1ull << 6) - 1;  // bits 0-5 (upstream + downstream)
inline constexpr uint64_t kIsolationNone = 0, kIsolationSnp = 1;

struct mshv_create_vp {
  uint32_t vp_index;
};

struct mshv_user_mem_region {
  uint64_t size;
  uint64_t guest_pfn;
  uint64_t userspace_addr;
  uint8_t flags;
  uint8_t rsvd[7];
};
static_assert(sizeof(mshv_user_mem_region) == 32);
static_assert(offsetof(mshv_user_mem_region, flags) == 24);
inline constexpr uint8_t kMemWritable = 1, kMemExecutable = 2, kMemUnmap = 4;

struct mshv_root_hvcall {
  uint16_t code;
  uint16_t reps;
  uint16_t in_sz;
  uint16_t out_sz;
  uint16_t status;
  uint8_t rsvd[6];
  uint64_t in_ptr;
  uint64_t out_ptr;
};
static_assert(sizeof(mshv_root_hvcall) == 32);
static_assert(offsetof(mshv_root_hvcall, status) == 8);
static_assert(offsetof(mshv_root_hvcall, in_ptr) == 16);

// Downstream MSHV_IMPORT_ISOLATED_PAGES argument: this header, then page_count u64 GPNs.
struct mshv_import_isolated_pages {
  uint8_t page_type;
  uint8_t rsvd[7];
  uint64_t page_count;
};
static_assert(sizeof(mshv_import_isolated_pages) == 16);
// HV_ISOLATED_PAGE_TYPE_* (loader-vmm.md §2.4: not the KVM numbering).
inline constexpr uint8_t kIsoPageNormal = 0, kIsoPageVmsa = 1, kIsoPageZero = 2,
                         kIsoPageUnmeasured = 3, kIsoPageSecrets = 4, kIsoPageCpuid = 5;

// hv_partition_complete_isolated_import_data (3334 bytes, packed; §2.3).
#pragma pack(push, 1)
struct hv_snp_id_block {
  uint8_t launch_digest[48];
  uint8_t family_id[16];
  uint8_t image_id[16];
  uint32_t version;
  uint32_t guest_svn;
  uint64_t policy;
};
struct hv_psp_id_auth_info {
  uint32_t id_key_algorithm;
  uint32_t auth_key_algorithm;
  uint8_t rsvd1[56];
  uint8_t id_block_signature[512];
  uint8_t id_key[1028];
  uint8_t rsvd2[60];
  uint8_t id_key_signature[512];
  uint8_t author_key[1028];
};
struct hv_psp_launch_finish_data {
  hv_snp_id_block id_block;
  hv_psp_id_auth_info id_auth_info;
  uint8_t host_data[32];
  uint8_t id_block_enabled;
  uint8_t author_key_enabled;
};
struct hv_partition_complete_isolated_import_data {
  hv_psp_launch_finish_data psp_parameters;  // union with a reserved u64
};
#pragma pack(pop)
static_assert(sizeof(hv_snp_id_block) == 96);
static_assert(sizeof(hv_psp_id_auth_info) == 3204);
static_assert(offsetof(hv_psp_launch_finish_data, id_auth_info) == 96);
static_assert(offsetof(hv_psp_launch_finish_data, host_data) == 3300);
static_assert(offsetof(hv_psp_launch_finish_data, id_block_enabled) == 3332);
static_assert(offsetof(hv_psp_launch_finish_data, author_key_enabled) == 3333);
static_assert(sizeof(hv_partition_complete_isolated_import_data) == 3334);

// Hypercall inputs (packed, §2.3).
struct hv_input_set_partition_property {
  uint64_t partition_id;
  uint32_t property_code;
  uint32_t padding;
  uint64_t property_value;
};
static_assert(sizeof(hv_input_set_partition_property) == 24);
struct hv_input_get_partition_property {
  uint64_t partition_id;
  uint32_t property_code;
  uint32_t padding;
};
static_assert(sizeof(hv_input_get_partition_property) == 16);
struct hv_input_set_vp_registers {
  uint64_t partition_id;
  uint32_t vp_index;
  uint8_t input_vtl;
  uint8_t rsvd_z8;
  uint16_t rsvd_z16;
  // hv_register_assoc elements follow (rep)
};
static_assert(sizeof(hv_input_set_vp_registers) == 16);
struct hv_register_assoc {
  uint32_t name;
  uint32_t reserved1;
  uint64_t reserved2;
  uint8_t value[16];
};
static_assert(sizeof(hv_register_assoc) == 32);
// The 16-byte value forms.
struct hv_x64_segment_register {
  uint64_t base;
  uint32_t limit;
  uint16_t selector;
  // The descriptor's attribute bits where the descriptor has them: type 0-3, S 4, DPL 5-6, P 7,
  // reserved 8-11, AVL 12, L 13, D/B 14, G 15 (Linux include/hyperv/hvgdk_mini.h,
  // hv_x64_segment_register; the TLFS's HV_X64_SEGMENT_REGISTER), x86::Segment's form. Not the
  // SVM/VMSA form, which packs AVL, L, D/B and G into bits 8-11 (x86::descriptorAttributes()).
  uint16_t attributes;
};
static_assert(offsetof(hv_x64_segment_register, attributes) == 14);
struct hv_x64_table_register {
  uint16_t pad[3];
  uint16_t limit;
  uint64_t base;
};
static_assert(sizeof(hv_x64_segment_register) == 16 && sizeof(hv_x64_table_register) == 16);

inline constexpr uint16_t kHvcallGetPartitionProperty = 0x0044;
inline constexpr uint16_t kHvcallSetPartitionProperty = 0x0045;
inline constexpr uint16_t kHvcallGetVpRegisters = 0x0050;
inline constexpr uint16_t kHvcallSetVpRegisters = 0x0051;

// GET_VP_REGISTERS (rep): the SET_VP_REGISTERS header, then u32 register names as rep data; the
// output is one 16-byte hv_register_value per name (loader-vmm.md §2.3).
using hv_input_get_vp_registers = hv_input_set_vp_registers;
inline constexpr size_t kHvRegisterValueSize = 16;

// Partition properties.
inline constexpr uint32_t kPropIsolationState = 0x5000C, kPropIsolationPolicy = 0x50014;
inline constexpr uint64_t kIsolationStateSecure = 3;

// Register names (Hyper-V TLFS HV_REGISTER_NAME values).
inline constexpr uint32_t kRegRax = 0x20000, kRegRcx = 0x20001, kRegRdx = 0x20002,
                          kRegRbx = 0x20003, kRegRsp = 0x20004, kRegRbp = 0x20005,
                          kRegRsi = 0x20006, kRegRdi = 0x20007, kRegR8 = 0x20008, kRegRip = 0x20010,
                          kRegRflags = 0x20011;
inline constexpr uint32_t kRegCr0 = 0x40000, kRegCr3 = 0x40002, kRegCr4 = 0x40003;
inline constexpr uint32_t kRegEs = 0x60000, kRegCs = 0x60001, kRegSs = 0x60002, kRegDs = 0x60003,
                          kRegFs = 0x60004, kRegGs = 0x60005, kRegLdtr = 0x60006, kRegTr = 0x60007;
inline constexpr uint32_t kRegIdtr = 0x70000, kRegGdtr = 0x70001;
inline constexpr uint32_t kRegEfer = 0x80001;
inline constexpr uint32_t kRegSevControl = 0x00090040;

// The message MSHV_RUN_VP returns (upstream include/uapi/linux/mshv.h: struct mshv_run_vp holds
// one 256-byte hv_message; the Hyper-V TLFS SynIC message format, hvhdk.h for the intercepts).
#pragma pack(push, 1)
struct hv_message_header {
  uint32_t message_type;
  uint8_t payload_size;  // bytes of payload that are valid (at most 240)
  uint8_t message_flags;  // bit 0: another message is pending
  uint8_t reserved[2];
  uint64_t sender;  // union with the port id; unused for intercepts
};
struct hv_message {
  hv_message_header header;
  uint8_t payload[240];
};
// Every x64 intercept message starts with this header.
struct hv_x64_intercept_message_header {
  uint32_t vp_index;
  uint8_t instruction_length_cr8;  // bits 3:0 instruction length (0 = not provided), 7:4 CR8
  uint8_t intercept_access_type;   // 0 read, 1 write, 2 execute
  uint16_t execution_state;        // bits 1:0 CPL, 2 CR0.PE, 4 EFER.LMA, 6 interruption pending
  hv_x64_segment_register cs_segment;
  uint64_t rip;
  uint64_t rflags;
};
// HVMSG_X64_IO_PORT_INTERCEPT.
struct hv_x64_io_port_intercept_message {
  hv_x64_intercept_message_header header;
  uint16_t port_number;
  uint8_t access_info;  // bits 2:0 access size (1, 2, 4), 3 string op, 4 rep prefix
  uint8_t instruction_byte_count;
  uint32_t reserved;
  uint64_t rax;
  uint8_t instruction_bytes[16];
  hv_x64_segment_register ds_segment;
  hv_x64_segment_register es_segment;
  uint64_t rcx;
  uint64_t rsi;
  uint64_t rdi;
};
// HVMSG_UNMAPPED_GPA and HVMSG_GPA_INTERCEPT.
struct hv_x64_memory_intercept_message {
  hv_x64_intercept_message_header header;
  uint32_t cache_type;
  uint8_t instruction_byte_count;
  uint8_t memory_access_info;  // bit 0 gva valid, bit 1 gva->gpa valid
  uint8_t tpr_priority;
  uint8_t reserved1;
  uint64_t guest_virtual_address;
  uint64_t guest_physical_address;
  uint8_t instruction_bytes[16];
};
#pragma pack(pop)
static_assert(sizeof(hv_message_header) == 16 && sizeof(hv_message) == 256);
static_assert(offsetof(hv_message, payload) == 16);
static_assert(sizeof(hv_x64_intercept_message_header) == 40);
static_assert(offsetof(hv_x64_intercept_message_header, cs_segment) == 8);
static_assert(offsetof(hv_x64_intercept_message_header, rip) == 24);
static_assert(offsetof(hv_x64_intercept_message_header, rflags) == 32);
static_assert(sizeof(hv_x64_io_port_intercept_message) == 128);
static_assert(offsetof(hv_x64_io_port_intercept_message, port_number) == 40);
static_assert(offsetof(hv_x64_io_port_intercept_message, access_info) == 42);
static_assert(offsetof(hv_x64_io_port_intercept_message, rax) == 48);
static_assert(offsetof(hv_x64_io_port_intercept_message, ds_segment) == 72);
static_assert(offsetof(hv_x64_io_port_intercept_message, rdi) == 120);
static_assert(sizeof(hv_x64_memory_intercept_message) == 80);
static_assert(offsetof(hv_x64_memory_intercept_message, guest_physical_address) == 56);
static_assert(offsetof(hv_x64_memory_intercept_message, instruction_bytes) == 64);

// HV_MESSAGE_TYPE values the run loop decodes (hvhdk.h; the TLFS's HvMessageType*).
inline constexpr uint32_t kHvMsgNone = 0x00000000, kHvMsgUnmappedGpa = 0x80000000,
                          kHvMsgGpaIntercept = 0x80000001, kHvMsgTimerExpired = 0x80000010,
                          kHvMsgInvalidVpRegisterValue = 0x80000020,
                          kHvMsgUnrecoverableException = 0x80000021,
                          kHvMsgUnsupportedFeature = 0x80000022,
                          kHvMsgX64IoPortIntercept = 0x80010000, kHvMsgX64MsrIntercept = 0x80010001,
                          kHvMsgX64CpuidIntercept = 0x80010002,
                          kHvMsgX64ExceptionIntercept = 0x80010003, kHvMsgX64Halt = 0x80010007;
inline constexpr uint8_t kHvInterceptRead = 0, kHvInterceptWrite = 1, kHvInterceptExecute = 2;

struct mshv_partition_property {
  uint64_t property_code;
  uint64_t property_value;
};
static_assert(sizeof(mshv_partition_property) == 16);

inline constexpr unsigned long MSHV_CREATE_PARTITION = ioc(kvm::kWrite, kMshvIo, 0x00, 16);
inline constexpr unsigned long MSHV_INITIALIZE_PARTITION = ioc(kvm::kNone, kMshvIo, 0x00, 0);
inline constexpr unsigned long MSHV_CREATE_VP = ioc(kvm::kWrite, kMshvIo, 0x01, 4);
inline constexpr unsigned long MSHV_SET_GUEST_MEMORY = ioc(kvm::kWrite, kMshvIo, 0x02, 32);
inline constexpr unsigned long MSHV_ROOT_HVCALL = ioc(kvm::kRead | kvm::kWrite, kMshvIo, 0x07, 32);
inline constexpr unsigned long MSHV_IMPORT_ISOLATED_PAGES = ioc(kvm::kWrite, kMshvIo, 0x0A, 16);
inline constexpr unsigned long MSHV_GET_PARTITION_PROPERTY =
    ioc(kvm::kRead | kvm::kWrite, kMshvIo, 0xF3, 16);
inline constexpr unsigned long MSHV_COMPLETE_ISOLATED_IMPORT =
    ioc(kvm::kWrite, kMshvIo, 0xF4, 3334);
// vp fd: runs the VP until the hypervisor delivers an intercept message (or a signal arrives:
// -EINTR). The argument is struct mshv_run_vp { hv_message }.
inline constexpr unsigned long MSHV_RUN_VP = ioc(kvm::kRead, kMshvIo, 0x00, 256);
static_assert(MSHV_RUN_VP == 0x8100B800);
static_assert(MSHV_CREATE_PARTITION == 0x4010B800 && MSHV_INITIALIZE_PARTITION == 0xB800);
static_assert(MSHV_CREATE_VP == 0x4004B801 && MSHV_SET_GUEST_MEMORY == 0x4020B802);
static_assert(MSHV_ROOT_HVCALL == 0xC020B807 && MSHV_IMPORT_ISOLATED_PAGES == 0x4010B80A);
static_assert(MSHV_GET_PARTITION_PROPERTY == 0xC010B8F3);
static_assert(MSHV_COMPLETE_ISOLATED_IMPORT == 0x4D06B8F4);

}  // namespace igvmkit::hv::mshv
