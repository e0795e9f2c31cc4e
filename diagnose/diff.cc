// diffLaunches() and the operation lists it compares.
#include <map>
#include <tuple>

#include "diagnose/diagnose.h"
#include "measure/snp.h"

namespace igvmkit::diagnose {
namespace {

LaunchOp opOf(const measure::SnpTraceRecord& r) {
  return {r.gpa, measure::snpPageTypeName(r.type),
          measure::snpPageTypeHasContents(r.type) ? measure::hexDigest(r.contents) : "zero"};
}

}  // namespace

Result<std::vector<LaunchOp>> launchOps(const igvm::File& file, const measure::MeasureOptions& o) {
  if (o.platform != measure::Platform::kSnp) {
    return usage("--against compares snp launches");
  }
  std::vector<LaunchOp> ops;
  Status parse_error;
  measure::MeasureOptions traced = o;
  traced.trace = [&](const std::string& line) {
    Result<measure::SnpTraceRecord> r = measure::parseSnpTrace(line);
    if (r.ok()) {
      ops.push_back(opOf(*r));
    } else {
      parse_error = r.error();
    }
  };
  IGVMKIT_ASSIGN_OR_RETURN(measure::Measurement m, measure::measure(file, traced));
  (void)m;
  IGVMKIT_RETURN_IF_ERROR(parse_error);
  return ops;
}

Result<std::vector<LaunchOp>> launchOpsFromTrace(std::string_view text) {
  std::vector<LaunchOp> ops;
  uint64_t line_no = 0;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    Result<measure::SnpTraceRecord> r = measure::parseSnpTrace(line);
    if (!r.ok()) {
      continue;  // JSON, warnings and other lines around the trace
    }
    if (r->index != ops.size()) {
      return invalid("diagnose.trace", "line " + std::to_string(line_no) + ": operation " +
                                           std::to_string(r->index) + " where " +
                                           std::to_string(ops.size()) + " was expected");
    }
    ops.push_back(opOf(*r));
  }
  if (ops.empty()) {
    return invalid("diagnose.trace",
                   "no snp trace line (run `igvmkit measure --platform snp --trace`)");
  }
  return ops;
}

LaunchDiff diffLaunches(std::span<const LaunchOp> first, std::span<const LaunchOp> second) {
  LaunchDiff d;
  d.first_count = first.size();
  d.second_count = second.size();
  for (size_t i = 0; i < std::max(first.size(), second.size()); ++i) {
    if (i < first.size() && i < second.size() && first[i] == second[i]) {
      continue;
    }
    d.first_difference = i;
    if (i < first.size()) {
      d.first = first[i];
    }
    if (i < second.size()) {
      d.second = second[i];
    }
    break;
  }
  // Multiset difference: an operation repeated (a VMSA per vCPU) counts each time.
  using Key = std::tuple<uint64_t, std::string, std::string>;
  std::map<Key, int64_t> balance;
  for (const LaunchOp& op : first) {
    ++balance[{op.gpa, op.type, op.contents}];
  }
  for (const LaunchOp& op : second) {
    --balance[{op.gpa, op.type, op.contents}];
  }
  for (const auto& [key, n] : balance) {
    if (n > 0) {
      d.only_in_first += static_cast<uint64_t>(n);
    } else {
      d.only_in_second += static_cast<uint64_t>(-n);
    }
  }
  return d;
}

}  // namespace igvmkit::diagnose
