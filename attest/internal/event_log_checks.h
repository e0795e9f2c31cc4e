// attest/internal/event_log_checks.h: what verifyTdxQuote() judges of a CC event log: its
// replay against the quote's RTMRs, and its named events against the reference values.
#pragma once

#include "attest/event_log.h"
#include "attest/tdx.h"
#include "attest/verdict.h"
#include "measure/reference.h"

namespace igvmkit::attest::internal {

// "rtmr.0".."rtmr.3": the replayed RTMR equals the quote's; and the field "event_log".
void checkEventLog(const TD_REPORT_BODY& body, const CcEventLog& log, Verdict& v);

// "ref.event.<name>" for every name the policy pins: the log holds at least one event of that
// name and each has one of the pinned digests. Without a log every such check fails.
void checkNamedEvents(const CcEventLog* log, const measure::ReferencePolicy& policy, Verdict& v);

}  // namespace igvmkit::attest::internal
