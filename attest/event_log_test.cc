// CC event log parsing and RTMR replay: the real Google Cloud (COS 113) TD's CCEL log and table
// from $IGVMKIT_SHARED replay to its quote's RTMRs exactly; damaged copies of it are rejected or
// fail the named check; synthetic logs cover what the real one lacks (Linux EFI stub events,
// other banks, filler).
#include "attest/event_log.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>

#include "attest/internal/crypto.h"
#include "attest/tdx.h"
#include "attest/testing/shared.h"
#include "base/testing/matchers.h"

namespace igvmkit::attest {
namespace {

using ::igvmkit::testing::HasRule;
using ::igvmkit::testing::IsOk;
using testing::readShared;

constexpr const char* kDir = "intel/tdx/tdx03_v4_gcp_gotdx/";

// Known facts of the real log (read from it with an independent Python replay).
constexpr size_t kEvents = 43;
constexpr uint64_t kLogSize = 18101;  // then 0xFF filler up to 262144 bytes
constexpr uint64_t kEvent5Offset = 2825;
constexpr uint64_t kEvent10Offset = 8797;
constexpr uint64_t kEvent41Offset = 17900;
constexpr const char* kKernelDigest =
    "b1012372f421ad28";  // event 39, "/syslinux/vmlinuz.A", prefix of the SHA-384

void put32(ByteVector& b, uint64_t off, uint32_t v) { std::memcpy(b.data() + off, &v, 4); }
void put16(ByteVector& b, uint64_t off, uint16_t v) { std::memcpy(b.data() + off, &v, 2); }

struct Real {
  ByteVector log, table, quote_bytes;
  TdxQuote quote;
};

bool loadReal(const std::string& dir, Real& r) {
  r.log = readShared(dir, std::string(kDir) + "ccel_data.dat");
  r.table = readShared(dir, std::string(kDir) + "ccel_table.dat");
  r.quote_bytes = readShared(dir, std::string(kDir) + "cos-113-tdx-quote.dat");
  Result<TdxQuote> q = parseTdxQuote(r.quote_bytes);
  if (!q.ok()) return false;
  r.quote = *q;
  return !r.log.empty() && !r.table.empty();
}

Verdict verify(const Real& r, const CcEventLog* log, const measure::ReferenceValues* ref = nullptr) {
  Result<Verdict> v = verifyTdxQuote(TdxEvidence{.quote = r.quote_bytes,
                                                 .root = {},
                                                 .collateral = {},
                                                 .tcb_signing_chain = {},
                                                 .crls = {},
                                                 .at = 1764547200,  // 2025-12-01
                                                 .event_log = log},
                                     ref);
  EXPECT_THAT(v, IsOk());
  return v.ok() ? *v : Verdict{};
}

bool passed(const Verdict& v, const std::string& name) {
  const Check* c = v.find(name);
  return c != nullptr && c->passed;
}

TEST(EventLog, RealCcelTableParses) {
  IGVMKIT_SHARED_OR_SKIP(dir);
  Real r;
  ASSERT_TRUE(loadReal(dir, r));
  Result<CCEL_ACPI_TABLE> t = parseCcelTable(r.table);
  ASSERT_THAT(t, IsOk());
  EXPECT_EQ(t->cc_type, kCcTypeTdx);
  EXPECT_EQ(t->laml, 0x40000u);
  EXPECT_EQ(t->lasa, 0xbedbf000u);
  EXPECT_EQ(std::string(t->oem_id, 6), "INTEL ");
}

TEST(EventLog, RealLogReplaysToTheQuotesRtmrs) {
  IGVMKIT_SHARED_OR_SKIP(dir);
  Real r;
  ASSERT_TRUE(loadReal(dir, r));
  Result<CCEL_ACPI_TABLE> table = parseCcelTable(r.table);
  ASSERT_THAT(table, IsOk());
  Result<CcEventLog> log = parseCcEventLog(r.log, &*table);
  ASSERT_THAT(log, IsOk());
  EXPECT_EQ(log->events.size(), kEvents);
  EXPECT_EQ(log->log_size, kLogSize);
  EXPECT_EQ(log->area_size, 262144u);
  ASSERT_EQ(log->algorithms.size(), 1u);
  EXPECT_EQ(log->algorithms[0].first, kTpmAlgSha384);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(hexBytes(log->rtmrs[i]), hexBytes(bytesAt(r.quote.body.rtmr[i], 48))) << "RTMR" << i;
  }
  // RTMR3 is never extended in this boot, so its replay and the quote's are both zero.
  EXPECT_TRUE(allZero(log->rtmrs[3]));

  const std::vector<CcEvent>& e = log->events;
  EXPECT_EQ(eventTypeName(e[0].type), "EV_EFI_HANDOFF_TABLES2");
  EXPECT_EQ(e[0].text, "TdxTable");
  EXPECT_EQ(e[1].text, "Fv(48DB5E17-707C-472D-91CD-1613E7EF51B0)");
  EXPECT_EQ(eventTypeName(e[2].type), "EV_EFI_VARIABLE_DRIVER_CONFIG");
  EXPECT_EQ(e[2].text, "SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c");
  EXPECT_EQ(e[2].digest_of, "data");
  EXPECT_EQ(e[11].text, "BootOrder-8be4df61-93ca-11d2-aa0d-00e098032b8c");
  EXPECT_EQ(e[11].digest_of, "variable_data");  // EDK2 hashes EV_EFI_VARIABLE_BOOT's value only
  EXPECT_EQ(eventTypeName(e[17].type), "EV_EFI_BOOT_SERVICES_APPLICATION");
  EXPECT_EQ(e[23].text, "\\EFI\\BOOT\\grub-lakitu.efi");
  EXPECT_EQ(e[18].rtmr(), 2u);
  EXPECT_EQ(e[18].text, "MokList");
  EXPECT_EQ(e[25].text, "grub_cmd: defaultA=2");
  EXPECT_EQ(e[25].digest_of, "text");
  EXPECT_EQ(e[39].text, "/syslinux/vmlinuz.A");
  EXPECT_EQ(e[39].name, "kernel");
  EXPECT_EQ(hexBytes(e[39].digest).substr(0, 16), kKernelDigest);
  EXPECT_EQ(e[40].name, "cmdline");
  EXPECT_EQ(e[40].digest_of, "text");
  EXPECT_EQ(e[40].text.rfind("kernel_cmdline: /syslinux/vmlinuz.A init=", 0), 0u);
  EXPECT_EQ(e[42].text, "Exit Boot Services Returned with Success");
  for (const CcEvent& ev : e) {
    EXPECT_TRUE(ev.name != "initrd") << "COS boots without an initrd";
  }
}

TEST(EventLog, VerdictChecksRtmrsAndNamedEvents) {
  IGVMKIT_SHARED_OR_SKIP(dir);
  Real r;
  ASSERT_TRUE(loadReal(dir, r));
  Result<CcEventLog> log = parseCcEventLog(r.log);
  ASSERT_THAT(log, IsOk());
  Verdict v = verify(r, &*log);
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(passed(v, "rtmr." + std::to_string(i))) << i;
  }
  EXPECT_TRUE(v.passed()) << ::testing::PrintToString(v.failedChecks());

  std::string kernel = hexBytes(log->events[39].digest);
  std::string cmdline = hexBytes(log->events[40].digest);
  Result<measure::ReferenceValues> ref = measure::ReferenceValues::fromJson(
      R"({"measurements":[{"platform":"tdx","digest":")" + std::string(96, '0') +
      R"("}],"policy":{"events":{"kernel":")" + kernel + R"(","cmdline":[")" +
      std::string(96, 'a') + R"(",")" + cmdline + R"("],"initrd":")" + std::string(96, 'b') +
      R"("}}})");
  ASSERT_THAT(ref, IsOk());
  Verdict pinned = verify(r, &*log, &*ref);
  EXPECT_TRUE(passed(pinned, "ref.event.kernel"));
  EXPECT_TRUE(passed(pinned, "ref.event.cmdline"));  // any of the listed digests
  ASSERT_NE(pinned.find("ref.event.initrd"), nullptr);
  EXPECT_FALSE(passed(pinned, "ref.event.initrd"));  // none in the log: never a silent pass
  EXPECT_EQ(pinned.find("ref.event.initrd")->actual, "no initrd event in the log");

  // Pinning events without giving the log fails the check.
  Verdict no_log = verify(r, nullptr, &*ref);
  ASSERT_NE(no_log.find("ref.event.kernel"), nullptr);
  EXPECT_FALSE(passed(no_log, "ref.event.kernel"));
  EXPECT_EQ(no_log.find("rtmr.0"), nullptr);

  // Another kernel digest fails.
  Result<measure::ReferenceValues> other = measure::ReferenceValues::fromJson(
      R"({"measurements":[{"platform":"tdx","digest":")" + std::string(96, '0') +
      R"("}],"policy":{"events":{"kernel":")" + std::string(96, 'c') + R"("}}})");
  ASSERT_THAT(other, IsOk());
  EXPECT_FALSE(passed(verify(r, &*log, &*other), "ref.event.kernel"));
}

TEST(EventLog, ReferenceEventsKeyIsStrict) {
  for (const char* events : {R"({"vmlinuz":"00"})", R"({})", R"({"kernel":[]})",
                             R"({"kernel":"0011"})", R"(["kernel"])"}) {
    EXPECT_THAT(measure::ReferenceValues::fromJson(
                    R"({"measurements":[{"platform":"tdx","digest":")" + std::string(96, '0') +
                    R"("}],"policy":{"events":)" + events + "}}"),
                HasRule("reference.events"))
        << events;
  }
}

TEST(EventLog, TamperedDigestFailsOnlyItsRtmr) {
  IGVMKIT_SHARED_OR_SKIP(dir);
  Real r;
  ASSERT_TRUE(loadReal(dir, r));
  ByteVector log_bytes = r.log;
  // Event 5 (RTMR0): count at +8, algorithm id at +12, digest at +14.
  log_bytes[kEvent5Offset + 14 + 7] ^= std::byte{1};
  Result<CcEventLog> log = parseCcEventLog(log_bytes);
  ASSERT_THAT(log, IsOk());
  Verdict v = verify(r, &*log);
  EXPECT_FALSE(passed(v, "rtmr.0"));
  EXPECT_TRUE(passed(v, "rtmr.1"));
  EXPECT_TRUE(passed(v, "rtmr.2"));
  EXPECT_TRUE(passed(v, "rtmr.3"));
  EXPECT_FALSE(v.passed());
}

TEST(EventLog, TruncatedLogs) {
  IGVMKIT_SHARED_OR_SKIP(dir);
  Real r;
  ASSERT_TRUE(loadReal(dir, r));
  // Cut inside an event: an error naming the offset, never a partial replay.
  Result<CcEventLog> cut = parseCcEventLog(Bytes(r.log).subspan(0, 10000));
  EXPECT_THAT(cut, HasRule("eventlog.truncated"));
  // Cut between events (the last two, on RTMR1, are lost): the replay no longer matches.
  Result<CcEventLog> short_log = parseCcEventLog(Bytes(r.log).subspan(0, kEvent41Offset));
  ASSERT_THAT(short_log, IsOk());
  EXPECT_EQ(short_log->events.size(), kEvents - 2);
  Verdict v = verify(r, &*short_log);
  EXPECT_FALSE(passed(v, "rtmr.1"));
  EXPECT_TRUE(passed(v, "rtmr.0"));
  // The table's log area length bounds the log: shorter than the events is truncation.
  ByteVector table = r.table;
  put32(table, 40, 10000);
  put32(table, 44, 0);
  uint8_t sum = 0;
  table[9] = std::byte{0};
  for (std::byte b : table) sum = static_cast<uint8_t>(sum + static_cast<uint8_t>(b));
  table[9] = static_cast<std::byte>(static_cast<uint8_t>(-sum));
  Result<CCEL_ACPI_TABLE> t = parseCcelTable(table);
  ASSERT_THAT(t, IsOk());
  EXPECT_THAT(parseCcEventLog(r.log, &*t), HasRule("eventlog.truncated"));
  for (size_t n : {0, 10, 31, 40}) {
    EXPECT_THAT(parseCcEventLog(Bytes(r.log).subspan(0, n)), HasRule("eventlog.truncated")) << n;
  }
}

TEST(EventLog, EventSizePastTheEnd) {
  IGVMKIT_SHARED_OR_SKIP(dir);
  Real r;
  ASSERT_TRUE(loadReal(dir, r));
  ByteVector log_bytes = r.log;
  put32(log_bytes, kEvent10Offset + 12 + 2 + 48, 0xFFFFFFF0u);
  Result<CcEventLog> log = parseCcEventLog(log_bytes);
  ASSERT_THAT(log, HasRule("eventlog.truncated"));
  EXPECT_EQ(log.error().location->offset, kEvent10Offset + 12 + 2 + 48 + 4);
}

TEST(EventLog, UnknownAlgorithm) {
  IGVMKIT_SHARED_OR_SKIP(dir);
  Real r;
  ASSERT_TRUE(loadReal(dir, r));
  ByteVector log_bytes = r.log;
  put16(log_bytes, kEvent5Offset + 12, 0x0012);  // SM3_256: not in the Spec ID event
  EXPECT_THAT(parseCcEventLog(log_bytes), HasRule("eventlog.algorithm"));
  // A Spec ID event whose only bank is SHA-256 cannot replay RTMRs.
  ByteVector spec = r.log;
  put16(spec, 32 + 28, kTpmAlgSha256);
  EXPECT_THAT(parseCcEventLog(spec), HasRule("eventlog.algorithm"));
  // Two digests in an event when the Spec ID lists one algorithm.
  ByteVector count = r.log;
  put32(count, kEvent5Offset + 8, 2);
  EXPECT_THAT(parseCcEventLog(count), HasRule("eventlog.digests"));
}

TEST(EventLog, BadMrIndexAndSpecId) {
  IGVMKIT_SHARED_OR_SKIP(dir);
  Real r;
  ASSERT_TRUE(loadReal(dir, r));
  ByteVector mr = r.log;
  put32(mr, kEvent5Offset, 0);  // MRTD is never extended by the firmware
  EXPECT_THAT(parseCcEventLog(mr), HasRule("eventlog.mr_index"));
  put32(mr, kEvent5Offset, 5);
  EXPECT_THAT(parseCcEventLog(mr), HasRule("eventlog.mr_index"));
  ByteVector sig = r.log;
  sig[32] = std::byte{'X'};
  EXPECT_THAT(parseCcEventLog(sig), HasRule("eventlog.spec_id"));
  ByteVector algs = r.log;
  put32(algs, 32 + 24, 1000);
  EXPECT_THAT(parseCcEventLog(algs), HasRule("eventlog.spec_id"));
}

TEST(EventLog, CcelTableErrors) {
  IGVMKIT_SHARED_OR_SKIP(dir);
  Real r;
  ASSERT_TRUE(loadReal(dir, r));
  ByteVector sum = r.table;
  sum[20] ^= std::byte{1};
  EXPECT_THAT(parseCcelTable(sum), HasRule("ccel.checksum"));
  ByteVector sig = r.table;
  sig[0] = std::byte{'X'};
  EXPECT_THAT(parseCcelTable(sig), HasRule("ccel.signature"));
  EXPECT_THAT(parseCcelTable(Bytes(r.table).subspan(0, 40)), HasRule("ccel.truncated"));
  ByteVector longer = r.table;
  longer.push_back(std::byte{0});
  EXPECT_THAT(parseCcelTable(longer), HasRule("ccel.length"));
  CCEL_ACPI_TABLE sev = *parseCcelTable(r.table);
  sev.cc_type = 1;
  EXPECT_THAT(parseCcEventLog(r.log, &sev), HasRule("ccel.cc_type"));
}

// A synthetic log: Spec ID (SHA-1 and SHA-384 banks), then (mr, type, data) events.
ByteVector syntheticLog(const std::vector<std::tuple<uint32_t, uint32_t, std::string>>& events) {
  ByteVector out;
  auto add32 = [&](uint32_t v) { appendStruct(out, v); };
  auto add16 = [&](uint16_t v) { appendStruct(out, v); };
  std::string spec("Spec ID Event03\0", 16);
  ByteVector spec_bytes(spec.size());
  std::memcpy(spec_bytes.data(), spec.data(), spec.size());
  add32(1);
  add32(kEvNoAction);
  out.resize(out.size() + 20);
  add32(16 + 4 + 4 + 4 + 8 + 1);
  out.insert(out.end(), spec_bytes.begin(), spec_bytes.end());
  add32(0);
  add32(0x00020000);  // minor 0, major 2, errata 0, uintn 0
  add32(2);
  add16(kTpmAlgSha1);
  add16(20);
  add16(kTpmAlgSha384);
  add16(48);
  out.push_back(std::byte{0});
  for (const auto& [mr, type, data] : events) {
    add32(mr);
    add32(type);
    add32(2);
    add16(kTpmAlgSha1);
    out.resize(out.size() + 20);
    add16(kTpmAlgSha384);
    ByteVector d = internal::sha384(toBytes(data));
    out.insert(out.end(), d.begin(), d.end());
    add32(static_cast<uint32_t>(data.size()));
    Bytes b = toBytes(data);
    out.insert(out.end(), b.begin(), b.end());
  }
  return out;
}

std::string tagged(uint32_t id, const std::string& text) {
  std::string out(8, '\0');
  uint32_t size = static_cast<uint32_t>(text.size());
  std::memcpy(out.data(), &id, 4);
  std::memcpy(out.data() + 4, &size, 4);
  return out + text;
}

TEST(EventLog, SyntheticLinuxStubEventsAndFiller) {
  ByteVector log = syntheticLog({{1, 4, std::string(4, '\0')},
                                 {3, kEvEventTag, tagged(0x8F3B22EC, std::string("Linux initrd\0", 13))},
                                 {3, kEvEventTag, tagged(0x8F3B22ED, "LOADED_IMAGE::LoadOptions")},
                                 {4, kEvIpl, "grub_cmd: initrd /a.img /b.img"},
                                 {4, kEvIpl, "/b.img"}});
  Result<CcEventLog> parsed = parseCcEventLog(log);
  ASSERT_THAT(parsed, IsOk());
  ASSERT_EQ(parsed->events.size(), 5u);
  EXPECT_EQ(parsed->algorithms.size(), 2u);
  EXPECT_EQ(eventTypeName(parsed->events[0].type), "EV_SEPARATOR");
  EXPECT_EQ(parsed->events[1].name, "initrd");
  EXPECT_EQ(parsed->events[1].text, "Linux initrd");
  EXPECT_EQ(parsed->events[2].name, "cmdline");
  EXPECT_EQ(parsed->events[4].name, "initrd");
  EXPECT_EQ(parsed->events[4].digest_of, "data");
  // Replay by hand: RTMR3 = SHA-384(SHA-384(0^48 || d3) || d4).
  ByteVector r(48);
  for (int i = 3; i < 5; ++i) {
    ByteVector both = r;
    both.insert(both.end(), parsed->events[i].digest.begin(), parsed->events[i].digest.end());
    r = internal::sha384(both);
  }
  EXPECT_EQ(parsed->rtmrs[3], r);
  EXPECT_TRUE(allZero(parsed->rtmrs[1]));

  // Zero or 0xFF filler after the last event is the unused log area; anything else is not.
  for (std::byte fill : {std::byte{0}, std::byte{0xFF}}) {
    ByteVector padded = log;
    padded.resize(log.size() + 1000, fill);
    Result<CcEventLog> p = parseCcEventLog(padded);
    ASSERT_THAT(p, IsOk());
    EXPECT_EQ(p->events.size(), 5u);
    EXPECT_EQ(p->log_size, log.size());
  }
  ByteVector junk = log;
  junk.resize(log.size() + 1000, std::byte{0xFF});
  junk[log.size() + 500] = std::byte{1};
  EXPECT_FALSE(parseCcEventLog(junk).ok());
}

TEST(EventLog, EventTypeNames) {
  EXPECT_EQ(eventTypeName(0xD), "EV_IPL");
  EXPECT_EQ(eventTypeName(0x80000001), "EV_EFI_VARIABLE_DRIVER_CONFIG");
  EXPECT_EQ(eventTypeName(0x800000E0), "EV_EFI_VARIABLE_AUTHORITY");
  EXPECT_EQ(eventTypeName(0x12345), "0x12345");
}

}  // namespace
}  // namespace igvmkit::attest
