#include "cli/verify_batch.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <thread>

#include "attest/chain_cache.h"
#include "attest/snp.h"
#include "attest/tdx.h"
#include "attest/verdict.h"
#include "base/file.h"
#include "cli/command.h"

namespace igvmkit::cli {
namespace {

using Json = nlohmann::ordered_json;

// Entries are read, verified and printed a chunk at a time, so memory stays bounded by a chunk
// however long the batch is.
constexpr size_t kChunk = 64;
constexpr unsigned kMaxJobs = 256;

struct Entry {
  std::string id;      // the JSON line's "id", or the file name
  std::string source;  // the file path, or "stdin line N"
  std::string path;    // evidence file ("" when inline)
  std::string inline_evidence;       // "evidence": binary as hex or base64 text
  std::vector<std::string> certs;    // "certs": certificate files for this entry
  std::optional<Error> error;        // the line itself was malformed
};

Error about(const std::string& subject, Error e) {
  if (e.message.rfind(subject, 0) != 0) e.message = subject + ": " + e.message;
  return e;
}

// A TDX quote: version 4 or 5 and TEE type 0x81; anything else is taken for an SNP report.
bool isTdxQuote(Bytes b) {
  uint16_t version = 0;
  uint32_t tee = 0;
  if (b.size() < 8) return false;
  std::memcpy(&version, b.data(), 2);
  std::memcpy(&tee, b.data() + 4, 4);
  return (version == 4 || version == 5) && tee == 0x81;
}

Result<attest::Verdict> verifyEntry(const Entry& e, const BatchOptions& o,
                                    const measure::ReferenceValues* ref,
                                    attest::ChainCache& cache) {
  ByteVector raw;
  if (!e.path.empty()) {
    IGVMKIT_ASSIGN_OR_RETURN(raw, readFile(e.path));
  } else {
    Bytes text = toBytes(e.inline_evidence);
    raw.assign(text.begin(), text.end());
  }
  IGVMKIT_ASSIGN_OR_RETURN(ByteVector evidence, attest::decodeEvidence(raw));
  if (isTdxQuote(evidence)) {
    if (!e.certs.empty()) {
      return usage("batch.certs", "\"certs\" is for SNP reports; a TDX quote carries its chain");
    }
    return attest::verifyTdxQuote({.quote = evidence,
                                   .root = o.root,
                                   .collateral = o.collateral,
                                   .tcb_signing_chain = o.tcb_signing_chain,
                                   .crls = o.crls,
                                   .at = o.at},
                                  ref);
  }
  IGVMKIT_ASSIGN_OR_RETURN(Bytes report, attest::extractSnpReport(evidence));
  IGVMKIT_ASSIGN_OR_RETURN(attest::ATTESTATION_REPORT parsed, attest::parseSnpReport(report));
  std::vector<ByteVector> certs = o.snp_certificates;
  for (const std::string& path : e.certs) {
    IGVMKIT_ASSIGN_OR_RETURN(ByteVector bytes, readFile(path));
    Result<std::vector<ByteVector>> c = attest::splitCertificates(bytes);
    if (!c.ok()) return about(path, std::move(c).error());
    certs.insert(certs.end(), c->begin(), c->end());
  }
  if (!o.cert_cache.empty()) {
    Result<std::vector<ByteVector>> c = attest::loadSnpCertCache(o.cert_cache, parsed);
    if (!c.ok()) return about(o.cert_cache, std::move(c).error());
    certs.insert(certs.end(), c->begin(), c->end());
  }
  return attest::verifySnpReport(
      {.report = evidence, .certificates = certs, .at = o.at, .crls = o.crls, .chain_cache = &cache},
      ref);
}

// The entry's JSON line: {"id","source"} then the verdict's keys, or "error" for an entry that
// could not be verified.
Json entryLine(const Entry& e, const Result<attest::Verdict>& verdict) {
  Json line = Json::object();
  line["id"] = e.id;
  line["source"] = e.source;
  if (verdict.ok()) {
    Json verdict_json = verdict->toJson();
    for (auto& [key, value] : verdict_json.items()) line[key] = value;
  } else {
    line["schema_version"] = attest::kVerdictSchemaVersion;
    line["verified"] = false;
    line["error"] = errorJson(verdict.error());
  }
  return line;
}

// One JSON line of stdin: {"id":..., "file":PATH | "evidence":TEXT, "certs":PATH|[PATH...]}.
Entry parseLine(const std::string& text, size_t number) {
  Entry e;
  e.source = "stdin line " + std::to_string(number);
  e.id = e.source;
  auto bad = [&e](std::string rule, std::string message) {
    e.error = invalid(std::move(rule), std::move(message));
    return e;
  };
  Result<Json> doc = measure::parseStrictJson(text, "batch.json");
  if (!doc.ok()) return bad("batch.json", doc.error().message);
  if (!doc->is_object()) return bad("batch.json", "a line must be a JSON object");
  for (auto& [key, value] : doc->items()) {
    if (key == "id" && value.is_string()) {
      e.id = value.get<std::string>();
    } else if (key == "file" && value.is_string()) {
      e.path = value.get<std::string>();
    } else if (key == "evidence" && value.is_string()) {
      e.inline_evidence = value.get<std::string>();
    } else if (key == "certs" && value.is_string()) {
      e.certs.push_back(value.get<std::string>());
    } else if (key == "certs" && value.is_array() &&
               std::all_of(value.begin(), value.end(), [](const Json& v) { return v.is_string(); })) {
      for (const Json& v : value) e.certs.push_back(v.get<std::string>());
    } else if (key == "id" || key == "file" || key == "evidence" || key == "certs") {
      return bad("batch.key", "\"" + key + "\" must be a string" +
                                  (key == "certs" ? " or an array of strings" : ""));
    } else {
      return bad("batch.key", "unknown key \"" + key + "\" (id, file, evidence, certs)");
    }
  }
  if (e.path.empty() == e.inline_evidence.empty()) {
    return bad("batch.key", "give exactly one of \"file\" and \"evidence\"");
  }
  if (!e.path.empty()) e.source = e.path;
  return e;
}

struct Totals {
  size_t verified = 0, failed = 0, errors = 0;
};

// Verifies one chunk on `jobs` threads and prints its lines in order.
void runChunk(const std::vector<Entry>& chunk, const BatchOptions& o,
              const measure::ReferenceValues* ref, attest::ChainCache& cache, unsigned jobs,
              Totals& totals) {
  std::vector<std::optional<Result<attest::Verdict>>> results(chunk.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < chunk.size(); i = next++) {
      results[i] = chunk[i].error ? Result<attest::Verdict>(*chunk[i].error)
                                  : verifyEntry(chunk[i], o, ref, cache);
    }
  };
  std::vector<std::thread> threads;
  for (unsigned t = 1; t < std::min<size_t>(jobs, chunk.size()); ++t) threads.emplace_back(work);
  work();
  for (std::thread& t : threads) t.join();
  for (size_t i = 0; i < chunk.size(); ++i) {
    const Result<attest::Verdict>& r = *results[i];
    if (!r.ok()) {
      ++totals.errors;
      // Errors of reading a file name it already.
      bool named = r.error().message.rfind(chunk[i].source, 0) == 0;
      std::cerr << "error: " << (named ? "" : chunk[i].source + ": ") << r.error().describe()
                << '\n';
    } else {
      ++(r->passed() ? totals.verified : totals.failed);
    }
    std::cout << entryLine(chunk[i], r).dump() << '\n';
  }
  std::cout.flush();
}

}  // namespace

int runVerifyBatch(const BatchOptions& o, const measure::ReferenceValues* ref) {
  unsigned jobs = o.jobs != 0 ? o.jobs : std::max(1u, std::thread::hardware_concurrency());
  jobs = std::min(jobs, kMaxJobs);
  attest::ChainCache cache;
  Totals totals;
  std::vector<Entry> chunk;
  auto flush = [&] {
    runChunk(chunk, o, ref, cache, jobs, totals);
    chunk.clear();
  };
  if (o.source == "-") {
    std::string line;
    for (size_t number = 1; std::getline(std::cin, line); ++number) {
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      chunk.push_back(parseLine(line, number));
      if (chunk.size() == kChunk) flush();
    }
  } else {
    std::error_code ec;
    if (!std::filesystem::is_directory(o.source, ec)) {
      return fail("", usage("batch.source", "--batch " + o.source +
                                                ": not a directory (give DIR, or - for JSON "
                                                "lines on stdin)"));
    }
    std::vector<std::string> names;
    for (std::filesystem::directory_iterator it(o.source, ec), end; !ec && it != end;
         it.increment(ec)) {
      if (it->is_regular_file(ec)) names.push_back(it->path().filename().string());
    }
    if (ec) {
      return fail("", unreadable(o.source + ": " + ec.message()));
    }
    std::sort(names.begin(), names.end());
    for (const std::string& name : names) {
      Entry e;
      e.id = name;
      e.source = (std::filesystem::path(o.source) / name).string();
      e.path = e.source;
      chunk.push_back(std::move(e));
      if (chunk.size() == kChunk) flush();
    }
  }
  if (!chunk.empty()) flush();
  size_t total = totals.verified + totals.failed + totals.errors;
  if (total == 0) {
    return fail("", invalid("batch.empty", "--batch " + o.source + " holds no evidence"));
  }
  std::cerr << "batch: " << total << " entries, " << totals.verified << " verified, "
            << totals.failed << " failed, " << totals.errors << " unreadable; "
            << cache.computed() << " distinct SNP chain(s) verified, " << cache.reused()
            << " reuse(s); " << jobs << " job(s)\n";
  return totals.failed + totals.errors == 0 ? kExitOk : kExitBad;
}

}  // namespace igvmkit::cli
