// Azure's HCL report (attest-format.md §1): the wrapper around an SNP report that carries the
// vTPM's runtime data, and the check that binds that data to the signed report.
#include <algorithm>
#include <string>

#include "attest/internal/crypto.h"
#include "attest/internal/hcl_binding.h"
#include "attest/snp.h"
#include "base/bytes.h"
#include "measure/reference.h"

namespace igvmkit::attest {

bool isHclReport(Bytes bytes) {
  return bytes.size() >= 4 && std::memcmp(bytes.data(), "HCLA", 4) == 0;
}

Result<HclReport> parseHclReport(Bytes bytes) {
  auto at = [](uint64_t offset) {
    Location where;
    where.offset = offset;
    return where;
  };
  if (!isHclReport(bytes)) {
    return invalid("hcl.signature", "no \"HCLA\" signature", at(0));
  }
  constexpr size_t kFixed = kHclRequestDataOffset + sizeof(IGVM_REQUEST_DATA);
  if (bytes.size() < kFixed) {
    return invalid("hcl.truncated",
                   "HCL report is " + hex(bytes.size()) + " bytes, its fixed part " + hex(kFixed));
  }
  HclReport h;
  h.header = readStruct<HCL_REPORT_HEADER>(bytes, 0).value();
  h.request = readStruct<IGVM_REQUEST_DATA>(bytes, kHclRequestDataOffset).value();
  const HCL_REPORT_HEADER& hd = h.header;
  const IGVM_REQUEST_DATA& rq = h.request;
  if (hd.version != 1 && hd.version != 2) {
    return invalid("hcl.version", "version " + std::to_string(hd.version) + ", expected 1 or 2",
                   at(4));
  }
  if (hd.request_type != 2 || hd.status != 0 || !allZero(asBytes(hd.reserved))) {
    return invalid("hcl.header",
                   "request_type " + std::to_string(hd.request_type) + ", status " +
                       std::to_string(hd.status) + ", expected 2 and 0 with reserved bytes zero",
                   at(0xC));
  }
  if (rq.version != 1) {
    return invalid("hcl.request_version",
                   "request data version " + std::to_string(rq.version) + ", expected 1",
                   at(kHclRequestDataOffset + 4));
  }
  if (rq.report_type != 2) {
    return unsupported("hcl.report_type",
                       "report type " + std::to_string(rq.report_type) +
                           ": only SEV-SNP (2) hardware reports carry a signature to verify",
                       at(kHclRequestDataOffset + 8));
  }
  if (rq.report_data_hash_type < 1 || rq.report_data_hash_type > 3) {
    return invalid("hcl.hash_type",
                   "report data hash type " + std::to_string(rq.report_data_hash_type) +
                       ", expected 1 (SHA-256), 2 (SHA-384) or 3 (SHA-512)",
                   at(kHclRequestDataOffset + 12));
  }
  const uint64_t data_size = uint64_t{rq.variable_data_size} + sizeof(IGVM_REQUEST_DATA);
  if (rq.data_size != data_size || hd.report_size != kHclRequestDataOffset + data_size) {
    return invalid("hcl.size",
                   "report_size " + hex(hd.report_size) + ", data_size " + hex(rq.data_size) +
                       " and variable_data_size " + hex(rq.variable_data_size) + " disagree",
                   at(8));
  }
  if (hd.report_size > bytes.size()) {
    return invalid("hcl.truncated", "HCL report is " + hex(bytes.size()) +
                                        " bytes, its header says " + hex(hd.report_size));
  }
  if (!allZero(bytes.subspan(hd.report_size))) {
    return invalid("hcl.padding",
                   "bytes after report_size " + hex(hd.report_size) + " are not zero",
                   at(hd.report_size));
  }
  h.hardware_report = bytes.subspan(kHclReportOffset, kSnpReportSize);
  h.runtime_data = bytes.subspan(kFixed, rq.variable_data_size);
  return h;
}

Result<Bytes> extractSnpReport(Bytes bytes) {
  if (bytes.size() == kSnpReportSize) {
    return bytes;
  }
  if (isHclReport(bytes)) {
    IGVMKIT_ASSIGN_OR_RETURN(HclReport h, parseHclReport(bytes));
    return h.hardware_report;
  }
  return invalid("report.size", "report is " + hex(bytes.size()) + " bytes, expected " +
                                    hex(kSnpReportSize) + " (or an Azure HCL report)");
}

namespace internal {

// The HCL runtime data is what binds the vTPM's attestation key to the signed
// report: its digest must be REPORT_DATA (rest zero), and it must hold the
// HCLAkPub key that verifiers go on to use.
void checkHclBinding(const HclReport& hcl, const ATTESTATION_REPORT& r, Verdict& v) {
  const EVP_MD* md = hcl.request.report_data_hash_type == 1   ? EVP_sha256()
                     : hcl.request.report_data_hash_type == 2 ? EVP_sha384()
                                                              : EVP_sha512();
  ByteVector digest = internal::digest(md, hcl.runtime_data);
  Bytes report_data = asBytes(r.report_data);
  bool bound = std::equal(digest.begin(), digest.end(), report_data.begin()) &&
               allZero(report_data.subspan(digest.size()));
  std::string algo = hcl.request.report_data_hash_type == 1   ? "SHA-256"
                     : hcl.request.report_data_hash_type == 2 ? "SHA-384"
                                                              : "SHA-512";
  v.add("hcl.report_data", bound, "REPORT_DATA " + hexBytes(report_data),
        algo + "(runtime data) " + hexBytes(digest) +
            (digest.size() < report_data.size() ? " then zeros" : ""),
        std::to_string(hcl.runtime_data.size()) + " bytes of runtime data");

  nlohmann::ordered_json hcl_field = nlohmann::ordered_json::object();
  hcl_field["version"] = hcl.header.version;
  hcl_field["report_data_hash"] = algo;
  hcl_field["runtime_data_digest"] = hexBytes(digest);
  Result<nlohmann::ordered_json> claims = measure::parseStrictJson(
      std::string_view(reinterpret_cast<const char*>(hcl.runtime_data.data()),
                       hcl.runtime_data.size()),
      "hcl.runtime_data");
  std::string problem;
  if (!claims.ok()) {
    problem = claims.error().message;
  } else if (!claims->is_object() || !claims->contains("keys") || !(*claims)["keys"].is_array()) {
    problem = "runtime data has no \"keys\" array";
  } else {
    problem = "no RSA key \"HCLAkPub\" with \"n\" and \"e\"";
    for (const auto& key : (*claims)["keys"]) {
      if (key.is_object() && key.value("kid", "") == "HCLAkPub" && key.value("kty", "") == "RSA" &&
          key.contains("n") && key["n"].is_string() && key.contains("e") && key["e"].is_string()) {
        problem.clear();
        hcl_field["akpub"] = key;
      }
    }
  }
  if (claims.ok()) {
    hcl_field["runtime_claims"] = *claims;
  }
  v.field("hcl", hcl_field);
  v.add("hcl.runtime_claims", problem.empty(), problem.empty() ? "HCLAkPub present" : problem,
        "runtime claims JSON with HCLAkPub");
}

}  // namespace internal
}  // namespace igvmkit::attest
