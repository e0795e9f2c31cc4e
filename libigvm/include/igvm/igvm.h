/*
 * igvm/igvm.h: the C API of microsoft/igvm's igvm_c (same functions, types, return codes and
 * constants), implemented by igvmkit's libigvm on its C++ parser. A program written for the
 * reference compiles and runs unchanged: `pkg-config --cflags --libs igvm`.
 *
 *   IgvmHandle igvm = igvm_new_from_binary(bytes, length);   // < 0: an IGVMAPI_* error
 *   int32_t n = igvm_header_count(igvm, IGVM_HEADER_SECTION_DIRECTIVE);
 *   for (uint32_t i = 0; i < (uint32_t)n; ++i) {
 *     IgvmHandle h = igvm_get_header(igvm, IGVM_HEADER_SECTION_DIRECTIVE, i);
 *     const IGVM_VHS_VARIABLE_HEADER *vh =
 *         (const IGVM_VHS_VARIABLE_HEADER *)igvm_get_buffer(igvm, h);
 *     ... vh->typ, then the structure at (const uint8_t *)vh + sizeof *vh ...
 *     igvm_free_buffer(igvm, h);
 *   }
 *   igvm_free(igvm);
 *
 * Handles are positive int32 values; every function that returns an int32_t or IgvmHandle
 * returns a negative IgvmResult on error. Headers come back as the reference re-serializes them:
 * 8-byte type/length, the structure, zero padding to 8, with file_offset fields 0 (the data is
 * the separate buffer of igvm_get_header_data()) and reserved fields 0. Thread-safe.
 *
 * Beyond the reference (igvmkit_ prefix): why a file was rejected, and the rules igvmkit would
 * have enforced on a file the reference accepts, each with rule id, header index and offset.
 */
#ifndef IGVM_H
#define IGVM_H

#include "igvm_defs.h"

#ifdef __cplusplus
extern "C" {
#endif

/* SEV-SNP page types of the reference's measurement code. */
#define NORMAL 1
#define VMSA 2
#define UNMEASURED 4
#define SECRETS 5
#define CPUID 6

#define IGVM_X64_PAGE_SIZE 4096
#define IGVM_X64_LARGE_PAGE_SIZE 2097152
#define IGVM_X64_1GB_PAGE_SIZE 1073741824

IGVM_ENUM_(IgvmHeaderSection) {
  IGVM_HEADER_SECTION_PLATFORM,
  IGVM_HEADER_SECTION_INITIALIZATION,
  IGVM_HEADER_SECTION_DIRECTIVE,
};
typedef uint32_t IgvmHeaderSection;

/* Results; all errors are negative so they can share a return value with handles and counts. */
IGVM_ENUM_(IgvmResult) {
  IGVMAPI_OK = 0,
  IGVMAPI_INVALID_PARAMETER = -1,
  IGVMAPI_NO_DATA = -2,
  IGVMAPI_INVALID_FILE = -3,
  IGVMAPI_INVALID_HANDLE = -4,
  IGVMAPI_NO_PLATFORM_HEADERS = -5,
  IGVMAPI_FILE_DATA_SECTION_TOO_LARGE = -6,
  IGVMAPI_VARIABLE_HEADER_SECTION_TOO_LARGE = -7,
  IGVMAPI_TOTAL_FILE_SIZE_TOO_LARGE = -8,
  IGVMAPI_INVALID_BINARY_PLATFORM_HEADER = -9,
  IGVMAPI_INVALID_BINARY_INITIALIZATION_HEADER = -10,
  IGVMAPI_INVALID_BINARY_DIRECTIVE_HEADER = -11,
  IGVMAPI_MULTIPLE_PLATFORM_HEADERS_WITH_SAME_ISOLATION = -12,
  IGVMAPI_INVALID_PARAMETER_AREA_INDEX = -13,
  IGVMAPI_INVALID_PLATFORM_TYPE = -14,
  IGVMAPI_NO_FREE_COMPATIBILITY_MASKS = -15,
  IGVMAPI_INVALID_FIXED_HEADER = -16,
  IGVMAPI_INVALID_BINARY_VARIABLE_HEADER_SECTION = -17,
  IGVMAPI_INVALID_CHECKSUM = -18,
  IGVMAPI_MULTIPLE_PAGE_TABLE_RELOCATION_HEADERS = -19,
  IGVMAPI_RELOCATION_REGIONS_OVERLAP = -20,
  IGVMAPI_PARAMETER_INSERT_INSIDE_PAGE_TABLE_REGION = -21,
  IGVMAPI_NO_MATCHING_VP_CONTEXT = -22,
  IGVMAPI_PLATFORM_ARCH_UNSUPPORTED = -23,
  IGVMAPI_INVALID_HEADER_ARCH = -24,
  IGVMAPI_UNSUPPORTED_PAGE_SIZE = -25,
  IGVMAPI_INVALID_FIXED_HEADER_ARCH = -26,
  IGVMAPI_MERGE_REVISION = -27,
  IGVMAPI_INVALID_CCA_POLICY_COMPATIBILITY_MASK = -28,
  IGVMAPI_CORIM_GENERATION = -29,
  IGVMAPI_MEASUREMENT_FAILED = -30,
};
typedef int32_t IgvmResult;

typedef int32_t IgvmHandle;

/* The bytes of a buffer, or NULL for an unknown handle. Valid until igvm_free_buffer() or
 * igvm_free(). */
const uint8_t *igvm_get_buffer(IgvmHandle igvm_handle, IgvmHandle buffer_handle);

/* The size of a buffer, or IGVMAPI_INVALID_HANDLE. */
int32_t igvm_get_buffer_size(IgvmHandle igvm_handle, IgvmHandle buffer_handle);

/* Frees a buffer; unknown handles are ignored. */
void igvm_free_buffer(IgvmHandle igvm_handle, IgvmHandle buffer_handle);

/* Validates and copies the `len` bytes at `data`; a handle (> 0) or a negative IgvmResult. */
IgvmHandle igvm_new_from_binary(const uint8_t *data, uint32_t len);

/* Frees a file handle and all its buffers; unknown handles are ignored. */
void igvm_free(IgvmHandle handle);

/* The number of headers in a section. */
int32_t igvm_header_count(IgvmHandle handle, IgvmHeaderSection section);

/* The IgvmVariableHeaderType of header `index` of a section. */
int32_t igvm_get_header_type(IgvmHandle handle, IgvmHeaderSection section, uint32_t index);

/* A buffer with header `index` of a section (variable header + structure + padding). */
IgvmHandle igvm_get_header(IgvmHandle handle, IgvmHeaderSection section, uint32_t index);

/* A buffer with the file data of header `index` (page, parameter area contents, VP context);
 * IGVMAPI_NO_DATA when it has none, IGVMAPI_INVALID_PARAMETER for the platform section. */
IgvmHandle igvm_get_header_data(IgvmHandle handle, IgvmHeaderSection section, uint32_t index);

/* ---- igvmkit extensions ------------------------------------------------------------------- */

/* One finding of igvmkit's validator. */
typedef struct IgvmkitDiagnostic {
  int32_t result;       /* the IGVMAPI_* code (IGVMAPI_OK for a warning) */
  int32_t header_index; /* 0-based among all variable headers of the file; -1 if none */
  int64_t offset;       /* byte offset in the file of the header or field; -1 if unknown */
  char rule[64];        /* igvmkit's rule id, e.g. "page_data.gpa_alignment" */
  char message[256];    /* "header #3 (PAGE_DATA 0x302) at offset 0x60: ...", truncated */
} IgvmkitDiagnostic;

/* Why the last igvm_new_from_binary() of this thread failed: IGVMAPI_OK and *out filled, or
 * IGVMAPI_NO_DATA when its last call succeeded (or none was made), IGVMAPI_INVALID_PARAMETER
 * when out is NULL. */
int32_t igvmkit_last_error(IgvmkitDiagnostic *out);

/* The number of igvmkit rules a file broke that the reference does not enforce (the file was
 * accepted, as the reference accepts it), or IGVMAPI_INVALID_HANDLE. */
int32_t igvmkit_warning_count(IgvmHandle handle);

/* Warning `index` of a file: IGVMAPI_OK and *out filled, IGVMAPI_INVALID_HANDLE or
 * IGVMAPI_INVALID_PARAMETER. */
int32_t igvmkit_get_warning(IgvmHandle handle, uint32_t index, IgvmkitDiagnostic *out);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* IGVM_H */
