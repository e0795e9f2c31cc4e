/* c_api_test.c FILE: the scenario of microsoft/igvm's C-API test (igvm_c/tests/igvm_test.c)
 * against libigvm, in plain C: FILE is vector A (make_test_file), the reference's test data. */
#include <igvm/igvm.h>
#include <stdio.h>
#include <string.h>

static int failures = 0;
#define CHECK(cond)                                                   \
  do {                                                                \
    if (!(cond)) {                                                    \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                     \
    }                                                                 \
  } while (0)

static uint8_t *file_bytes;
static uint32_t file_length;

/* The structure after the variable header in a buffer from igvm_get_header(). */
static const void *body(IgvmHandle igvm, IgvmHandle buffer) {
  return igvm_get_buffer(igvm, buffer) + sizeof(IGVM_VHS_VARIABLE_HEADER);
}

static const IGVM_VHS_VARIABLE_HEADER *head(IgvmHandle igvm, IgvmHandle buffer) {
  return (const IGVM_VHS_VARIABLE_HEADER *)igvm_get_buffer(igvm, buffer);
}

static void parses(void) {
  IgvmHandle igvm = igvm_new_from_binary(file_bytes, file_length);
  CHECK(igvm > 0);
  igvm_free(igvm);
}

static void rejects_a_bad_fixed_header(void) {
  uint8_t junk[16];
  for (int i = 0; i < 16; ++i) junk[i] = (uint8_t)(i + 1);
  CHECK(igvm_new_from_binary(junk, sizeof(junk)) == IGVMAPI_INVALID_FIXED_HEADER);
}

static void counts_headers(void) {
  IgvmHandle igvm = igvm_new_from_binary(file_bytes, file_length);
  CHECK(igvm_header_count(igvm, IGVM_HEADER_SECTION_PLATFORM) == 1);
  CHECK(igvm_header_count(igvm, IGVM_HEADER_SECTION_INITIALIZATION) == 2);
  CHECK(igvm_header_count(igvm, IGVM_HEADER_SECTION_DIRECTIVE) == 11);
  igvm_free(igvm);
}

static void reads_the_platform(void) {
  IgvmHandle igvm = igvm_new_from_binary(file_bytes, file_length);
  IgvmHandle h = igvm_get_header(igvm, IGVM_HEADER_SECTION_PLATFORM, 0);
  CHECK(h > 0);
  CHECK(head(igvm, h)->typ == IGVM_VHT_SUPPORTED_PLATFORM);
  CHECK(head(igvm, h)->length == sizeof(IGVM_VHS_SUPPORTED_PLATFORM));
  const IGVM_VHS_SUPPORTED_PLATFORM *p = body(igvm, h);
  CHECK(p->platform_type == IGVM_PLATFORM_TYPE_VSM_ISOLATION);
  CHECK(p->compatibility_mask == 1);
  CHECK(p->platform_version == 1);
  CHECK(p->highest_vtl == 0);
  CHECK(p->shared_gpa_boundary == 0);
  igvm_free_buffer(igvm, h);
  igvm_free(igvm);
}

static void reads_both_policies(void) {
  IgvmHandle igvm = igvm_new_from_binary(file_bytes, file_length);
  for (uint32_t i = 0; i < 2; ++i) {
    IgvmHandle h = igvm_get_header(igvm, IGVM_HEADER_SECTION_INITIALIZATION, i);
    CHECK(h > 0);
    CHECK(head(igvm, h)->typ == IGVM_VHT_GUEST_POLICY);
    CHECK(head(igvm, h)->length == sizeof(IGVM_VHS_GUEST_POLICY));
    const IGVM_VHS_GUEST_POLICY *policy = body(igvm, h);
    CHECK(policy->policy == 0x30000);
    CHECK(policy->compatibility_mask == i + 1); /* 0x1, then 0x2 that no platform declares */
    CHECK(policy->reserved == 0);
    igvm_free_buffer(igvm, h);
  }
  igvm_free(igvm);
}

static void reads_directives(void) {
  IgvmHandle igvm = igvm_new_from_binary(file_bytes, file_length);
  IgvmHandle h = igvm_get_header(igvm, IGVM_HEADER_SECTION_DIRECTIVE, 1);
  CHECK(h > 0);
  CHECK(head(igvm, h)->typ == IGVM_VHT_PAGE_DATA);
  CHECK(head(igvm, h)->length == sizeof(IGVM_VHS_PAGE_DATA));
  const IGVM_VHS_PAGE_DATA *page = body(igvm, h);
  CHECK(page->data_type == IGVM_PAGE_DATA_TYPE_NORMAL);
  CHECK(page->compatibility_mask == 1);
  CHECK(page->file_offset == 0); /* the reference hands headers out with offsets into the data */
  CHECK(page->flags.is_2mb_page == 0 && page->flags.unmeasured == 0 && page->flags.reserved == 0);
  CHECK(IGVM_UINT32_FLAGS_VALUE(((IGVM_VHS_PAGE_DATA *)page)->flags) == 0);
  CHECK(page->gpa == 0x1000);
  CHECK(page->reserved == 0);
  igvm_free_buffer(igvm, h);

  h = igvm_get_header(igvm, IGVM_HEADER_SECTION_DIRECTIVE, 8);
  CHECK(head(igvm, h)->typ == IGVM_VHT_PARAMETER_AREA);
  CHECK(head(igvm, h)->length == sizeof(IGVM_VHS_PARAMETER_AREA));
  const IGVM_VHS_PARAMETER_AREA *area = body(igvm, h);
  CHECK(area->parameter_area_index == 0);
  CHECK(area->file_offset == 0);
  CHECK(area->number_of_bytes == 0x1000);
  igvm_free_buffer(igvm, h);

  h = igvm_get_header(igvm, IGVM_HEADER_SECTION_DIRECTIVE, 9);
  CHECK(head(igvm, h)->typ == IGVM_VHT_VP_COUNT_PARAMETER);
  CHECK(head(igvm, h)->length == sizeof(IGVM_VHS_PARAMETER));
  const IGVM_VHS_PARAMETER *param = body(igvm, h);
  CHECK(param->parameter_area_index == 0 && param->byte_offset == 0);
  igvm_free_buffer(igvm, h);

  h = igvm_get_header(igvm, IGVM_HEADER_SECTION_DIRECTIVE, 10);
  CHECK(head(igvm, h)->typ == IGVM_VHT_PARAMETER_INSERT);
  CHECK(head(igvm, h)->length == sizeof(IGVM_VHS_PARAMETER_INSERT));
  const IGVM_VHS_PARAMETER_INSERT *insert = body(igvm, h);
  CHECK(insert->parameter_area_index == 0);
  CHECK(insert->compatibility_mask == 1);
  CHECK(insert->gpa == 0x14000);
  igvm_free_buffer(igvm, h);
  igvm_free(igvm);
}

static void reads_page_contents(void) {
  IgvmHandle igvm = igvm_new_from_binary(file_bytes, file_length);
  IgvmHandle data = igvm_get_header_data(igvm, IGVM_HEADER_SECTION_DIRECTIVE, 3);
  CHECK(data > 0);
  int32_t size = igvm_get_buffer_size(igvm, data);
  CHECK(size == 0x1000);
  const uint8_t *bytes = igvm_get_buffer(igvm, data);
  int all_four = 1;
  for (int32_t i = 0; i < size; ++i) all_four &= bytes[i] == 4;
  CHECK(all_four);
  igvm_free_buffer(igvm, data);
  CHECK(igvm_get_buffer(igvm, data) == NULL); /* freed */
  igvm_free(igvm);
}

static void has_no_data_for_a_parameter(void) {
  IgvmHandle igvm = igvm_new_from_binary(file_bytes, file_length);
  CHECK(igvm_get_header_data(igvm, IGVM_HEADER_SECTION_DIRECTIVE, 9) == IGVMAPI_NO_DATA);
  igvm_free(igvm);
}

/* Beyond the reference: igvmkit's strict rule on the undeclared mask 0x2 is a warning. */
static void warns_about_the_undeclared_mask(void) {
  IgvmHandle igvm = igvm_new_from_binary(file_bytes, file_length);
  CHECK(igvmkit_warning_count(igvm) == 1);
  IgvmkitDiagnostic d;
  CHECK(igvmkit_get_warning(igvm, 0, &d) == IGVMAPI_OK);
  CHECK(strcmp(d.rule, "mask.undeclared") == 0);
  CHECK(d.header_index == 2); /* the second GUEST_POLICY, third header of the file */
  CHECK(d.offset == 0x48);
  igvm_free(igvm);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: c_api_test FILE\n");
    return 2;
  }
  FILE *f = fopen(argv[1], "rb");
  if (!f) {
    perror(argv[1]);
    return 2;
  }
  fseek(f, 0, SEEK_END);
  file_length = (uint32_t)ftell(f);
  fseek(f, 0, SEEK_SET);
  file_bytes = malloc(file_length);
  if (!file_bytes || fread(file_bytes, 1, file_length, f) != file_length) {
    fprintf(stderr, "cannot read %s\n", argv[1]);
    return 2;
  }
  fclose(f);
  parses();
  rejects_a_bad_fixed_header();
  counts_headers();
  reads_the_platform();
  reads_both_policies();
  reads_directives();
  reads_page_contents();
  has_no_data_for_a_parameter();
  warns_about_the_undeclared_mask();
  free(file_bytes);
  printf("%s\n", failures == 0 ? "PASS" : "FAIL");
  return failures == 0 ? 0 : 1;
}
