#include "attest/internal/event_log_checks.h"

#include <algorithm>

namespace igvmkit::attest::internal {

void checkEventLog(const TD_REPORT_BODY& body, const CcEventLog& log, Verdict& v) {
  nlohmann::ordered_json events = nlohmann::ordered_json::array();
  size_t extended[4] = {0, 0, 0, 0};
  for (const CcEvent& e : log.events) {
    nlohmann::ordered_json j = nlohmann::ordered_json::object();
    j["index"] = e.index;
    j["offset"] = e.offset;
    j["mr_index"] = e.mr_index;
    if (e.type != kEvNoAction) {
      j["rtmr"] = e.rtmr();
      ++extended[e.rtmr()];
    }
    j["type"] = eventTypeName(e.type);
    j["digest"] = hexBytes(e.digest);
    j["size"] = e.data.size();
    if (!e.text.empty()) j["text"] = e.text;
    if (!e.name.empty()) j["name"] = e.name;
    if (!e.digest_of.empty()) j["digest_of"] = e.digest_of;
    events.push_back(std::move(j));
  }
  nlohmann::ordered_json summary = nlohmann::ordered_json::object();
  summary["events"] = log.events.size();
  summary["log_size"] = log.log_size;
  summary["area_size"] = log.area_size;
  nlohmann::ordered_json algs = nlohmann::ordered_json::array();
  for (const auto& [alg, size] : log.algorithms) algs.push_back(hex(alg));
  summary["algorithms"] = algs;
  summary["list"] = std::move(events);
  v.field("event_log", std::move(summary));
  for (uint32_t i = 0; i < 4; ++i) {
    Bytes quoted = bytesAt(body.rtmr[i], 48);
    const ByteVector& replayed = log.rtmrs[i];
    bool same = std::equal(replayed.begin(), replayed.end(), quoted.begin(), quoted.end());
    v.add("rtmr." + std::to_string(i), same, hexBytes(replayed), hexBytes(quoted),
          "replay of " + std::to_string(extended[i]) + " event(s) against the quote's RTMR" +
              std::to_string(i));
  }
}

void checkNamedEvents(const CcEventLog* log, const measure::ReferencePolicy& policy, Verdict& v) {
  for (const auto& [name, digests] : policy.events) {
    std::string expected;
    for (const ByteVector& d : digests) expected += (expected.empty() ? "" : " or ") + hexBytes(d);
    if (log == nullptr) {
      v.add("ref.event." + name, false, "no event log given", expected,
            "pinning events needs the event log (--event-log)");
      continue;
    }
    std::string actual;
    size_t found = 0;
    bool all_match = true;
    for (const CcEvent& e : log->events) {
      if (e.name != name || e.type == kEvNoAction) continue;
      ++found;
      actual += (actual.empty() ? "" : ", ") + hexBytes(e.digest) + " (event " +
                std::to_string(e.index) + ")";
      all_match = all_match && std::find(digests.begin(), digests.end(), e.digest) != digests.end();
    }
    v.add("ref.event." + name, found > 0 && all_match,
          found > 0 ? actual : "no " + name + " event in the log", expected,
          std::to_string(found) + " " + name + " event(s)");
  }
}

}  // namespace igvmkit::attest::internal
