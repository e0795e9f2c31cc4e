/* walk FILE: every header of FILE through the installed libigvm, as one JSON document
 * {"platforms": [...], "initialization": [...], "directives": [...]}, each header with its
 * type_code, decoded fields and its file data in hex ("data": null when IGVMAPI_NO_DATA).
 * install_test.sh compares this with `igvmkit dump --json`. */
#include <igvm/igvm.h>
#include <stdio.h>
#include <string.h>

static void field(const char *name, unsigned long long v) { printf(", \"%s\": %llu", name, v); }

static void fields(uint32_t type, const uint8_t *b) {
  switch (type) {
    case IGVM_VHT_SUPPORTED_PLATFORM: {
      const IGVM_VHS_SUPPORTED_PLATFORM *p = (const void *)b;
      field("compatibility_mask", p->compatibility_mask);
      field("highest_vtl", p->highest_vtl);
      field("platform_version", p->platform_version);
      field("shared_gpa_boundary", p->shared_gpa_boundary);
      break;
    }
    case IGVM_VHT_GUEST_POLICY: {
      const IGVM_VHS_GUEST_POLICY *p = (const void *)b;
      field("compatibility_mask", p->compatibility_mask);
      field("policy", p->policy);
      break;
    }
    case IGVM_VHT_PAGE_DATA: {
      IGVM_VHS_PAGE_DATA p;
      memcpy(&p, b, sizeof(p));
      field("gpa", p.gpa);
      field("compatibility_mask", p.compatibility_mask);
      field("flags", IGVM_UINT32_FLAGS_VALUE(p.flags));
      break;
    }
    case IGVM_VHT_PARAMETER_AREA: {
      const IGVM_VHS_PARAMETER_AREA *p = (const void *)b;
      field("number_of_bytes", p->number_of_bytes);
      field("parameter_area_index", p->parameter_area_index);
      break;
    }
    case IGVM_VHT_PARAMETER_INSERT: {
      const IGVM_VHS_PARAMETER_INSERT *p = (const void *)b;
      field("gpa", p->gpa);
      field("compatibility_mask", p->compatibility_mask);
      field("parameter_area_index", p->parameter_area_index);
      break;
    }
    case IGVM_VHT_VP_CONTEXT: {
      IGVM_VHS_VP_CONTEXT p;
      memcpy(&p, b, 20);
      field("compatibility_mask", p.compatibility_mask);
      field("vp_index", p.vp_index);
      break;
    }
    case IGVM_VHT_REQUIRED_MEMORY: {
      const IGVM_VHS_REQUIRED_MEMORY *p = (const void *)b;
      field("gpa", p->gpa);
      field("compatibility_mask", p->compatibility_mask);
      field("number_of_bytes", p->number_of_bytes);
      break;
    }
    case IGVM_VHT_VP_COUNT_PARAMETER: case IGVM_VHT_SRAT: case IGVM_VHT_MADT:
    case IGVM_VHT_MMIO_RANGES: case IGVM_VHT_MEMORY_MAP: case IGVM_VHT_COMMAND_LINE:
    case IGVM_VHT_SLIT: case IGVM_VHT_PPTT: case IGVM_VHT_DEVICE_TREE:
    case IGVM_VHT_ENVIRONMENT_INFO_PARAMETER: {
      const IGVM_VHS_PARAMETER *p = (const void *)b;
      field("parameter_area_index", p->parameter_area_index);
      field("byte_offset", p->byte_offset);
      break;
    }
    default: {
      uint32_t mask; /* the remaining masked types start with their mask, ERROR_RANGE at 8 */
      memcpy(&mask, b + (type == IGVM_VHT_ERROR_RANGE ? 8 : 0), 4);
      field("compatibility_mask", mask);
    }
  }
}

static int section(IgvmHandle igvm, IgvmHeaderSection s, const char *name) {
  int32_t n = igvm_header_count(igvm, s);
  if (n < 0) return n;
  printf("%s\"%s\": [", s == IGVM_HEADER_SECTION_PLATFORM ? "" : ", ", name);
  for (uint32_t i = 0; i < (uint32_t)n; ++i) {
    int32_t type = igvm_get_header_type(igvm, s, i);
    IgvmHandle h = igvm_get_header(igvm, s, i);
    if (type < 0 || h < 0) return type < 0 ? type : h;
    const IGVM_VHS_VARIABLE_HEADER *vh = (const void *)igvm_get_buffer(igvm, h);
    if ((int32_t)vh->typ != type) return IGVMAPI_INVALID_FILE;
    printf("%s{\"type_code\": %d", i ? ", " : "", type);
    fields(vh->typ, (const uint8_t *)vh + sizeof(*vh));
    igvm_free_buffer(igvm, h);
    printf(", \"data\": ");
    if (s == IGVM_HEADER_SECTION_PLATFORM) {
      printf("null}");
      continue;
    }
    IgvmHandle d = igvm_get_header_data(igvm, s, i);
    if (d == IGVMAPI_NO_DATA) {
      printf("null}");
      continue;
    }
    if (d < 0) return d;
    const uint8_t *bytes = igvm_get_buffer(igvm, d);
    int32_t size = igvm_get_buffer_size(igvm, d);
    putchar('"');
    for (int32_t k = 0; k < size; ++k) printf("%02x", bytes[k]);
    printf("\"}");
    igvm_free_buffer(igvm, d);
  }
  printf("]");
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: walk FILE\n");
    return 2;
  }
  FILE *f = fopen(argv[1], "rb");
  if (!f) return 2;
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *buf = malloc((size_t)len);
  if (!buf || fread(buf, 1, (size_t)len, f) != (size_t)len) return 2;
  fclose(f);
  IgvmHandle igvm = igvm_new_from_binary(buf, (uint32_t)len);
  free(buf); /* libigvm keeps its own copy, as the reference does */
  if (igvm < 0) {
    IgvmkitDiagnostic d;
    igvmkit_last_error(&d);
    fprintf(stderr, "error: %s: %d %s [%s]\n", argv[1], igvm, d.message, d.rule);
    return 1;
  }
  printf("{");
  int rc = section(igvm, IGVM_HEADER_SECTION_PLATFORM, "platforms");
  if (!rc) rc = section(igvm, IGVM_HEADER_SECTION_INITIALIZATION, "initialization");
  if (!rc) rc = section(igvm, IGVM_HEADER_SECTION_DIRECTIVE, "directives");
  printf("}\n");
  igvm_free(igvm);
  if (rc) fprintf(stderr, "error: %s: API call failed with %d\n", argv[1], rc);
  return rc ? 1 : 0;
}
