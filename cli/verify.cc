// igvmkit verify: checks an SEV-SNP report (--report) or a TDX quote (--quote)
// end to end and, with --expect / --policy, against reference values
// (cli-contract.md "verify", attest/README.md).
#include <cstring>
#include <ctime>
#include <iostream>
#include <memory>
#include <optional>

#include "attest/event_log.h"
#include "attest/snp.h"
#include "attest/tdx.h"
#include "attest/verdict.h"
#include "base/file.h"
#include "collateral/collateral.h"
#include "cli/command.h"
#include "cli/verify_batch.h"
#include "corim/corim.h"
#include "igvm/defs.h"
#include "igvm/file.h"
#include "measure/id_block.h"
#include "measure/measure.h"
#include "measure/reference.h"

namespace igvmkit::cli {
namespace {

struct VerifyOptions {
  std::string report, quote, vcek, vlek, chain, cert_cache, root, collateral, tcb_signing_chain,
      expect, at, host = "kvm", allow_tcb_status;
  uint32_t vcpus = 1;
  std::vector<std::string> crls, policy;
  bool json = false;
  // TDX event log replay (issue 16 item 5).
  std::string event_log, acpi_ccel;
  // Bulk verification (issue 16 item 6).
  std::string batch;
  unsigned jobs = 0;
  // Collateral fetching (collateral/README.md): --offline, --kds-url, --pcs-url.
  bool offline = false, kds_crl = false;
  std::string kds_url, pcs_url;
  // --expect FILE.cbor (a CoRIM): the key its signature must verify under, or accept it unsigned.
  std::string corim_pubkey;
  bool corim_unsigned_ok = false;
};

// An error about `path`: its message gains the path unless it already starts
// with it.
Error about(const std::string& path, Error e) {
  if (e.message.rfind(path, 0) != 0) {
    e.message = path + ": " + e.message;
  }
  return e;
}

// Reads and decodes certificates from `path`; errors name the file.
Result<std::vector<ByteVector>> readCertificates(const std::string& path) {
  IGVMKIT_ASSIGN_OR_RETURN(ByteVector bytes, readFile(path));
  Result<std::vector<ByteVector>> certs = attest::splitCertificates(bytes);
  if (!certs.ok()) {
    return about(path, std::move(certs).error());
  }
  return certs;
}

// --vcek and --vlek each name one kind of endorsement key: the file must hold
// that kind and not the other, and the report's KEY_INFO must select it.
Result<std::vector<ByteVector>> readEndorsementKey(const std::string& path, const char* flag,
                                                   attest::SnpSigningKey want,
                                                   attest::SnpSigningKey report_key) {
  IGVMKIT_ASSIGN_OR_RETURN(std::vector<ByteVector> certs, readCertificates(path));
  const char* other_flag = want == attest::SnpSigningKey::kVcek ? "--vlek" : "--vcek";
  bool found = false;
  for (const ByteVector& der : certs) {
    std::optional<attest::SnpSigningKey> kind = attest::endorsementKeyKind(der);
    if (kind && *kind != want) {
      return about(path, usage(std::string("holds a ") +
                               (*kind == attest::SnpSigningKey::kVlek ? "VLEK" : "VCEK") +
                               ", give it with " + other_flag + ", not " + flag));
    }
    found = found || kind.has_value();
  }
  if (!found) {
    return about(path, usage(std::string("holds no ") + (flag + 2) + " certificate (CN SEV-" +
                             (want == attest::SnpSigningKey::kVcek ? "VCEK" : "VLEK") + ")"));
  }
  if (report_key != want &&
      (report_key == attest::SnpSigningKey::kVcek || report_key == attest::SnpSigningKey::kVlek)) {
    return usage(
        std::string(flag) + " given, but the report is signed with a " +
        (report_key == attest::SnpSigningKey::kVlek ? "VLEK (use --vlek)" : "VCEK (use --vcek)"));
  }
  return certs;
}

int printVerdict(const attest::Verdict& verdict, bool json) {
  if (json) {
    printJson(verdict.toJson());
  } else {
    for (const attest::Check& c : verdict.checks) {
      std::cout << attest::describe(c) << '\n';
    }
    std::vector<std::string> failed = verdict.failedChecks();
    if (failed.empty() && verdict.passed()) {
      std::cout << "verified: all " << verdict.checks.size() << " checks passed\n";
    } else {
      std::string names;
      for (const std::string& n : failed) {
        names += (names.empty() ? "" : ", ") + n;
      }
      std::cout << "FAILED: " << failed.size() << " of " << verdict.checks.size()
                << " checks failed (" << names << ")\n";
    }
  }
  return verdict.passed() ? kExitOk : kExitBad;
}

Result<std::vector<ByteVector>> readCrls(const std::vector<std::string>& paths) {
  std::vector<ByteVector> out;
  for (const std::string& path : paths) {
    IGVMKIT_ASSIGN_OR_RETURN(ByteVector der, readFile(path));
    out.push_back(std::move(der));
  }
  return out;
}

// The TDX trust inputs the flags name (--crl, --root, --tcb-signing-chain, --collateral), read
// into one quote's evidence or a batch's shared inputs (both hold these four fields).
template <class Inputs>
Status readTdxTrustInputs(const VerifyOptions& o, Inputs& into) {
  IGVMKIT_ASSIGN_OR_RETURN(into.crls, readCrls(o.crls));
  if (!o.root.empty()) {
    IGVMKIT_ASSIGN_OR_RETURN(std::vector<ByteVector> root, readCertificates(o.root));
    into.root = root.front();
  }
  if (!o.tcb_signing_chain.empty()) {
    IGVMKIT_ASSIGN_OR_RETURN(into.tcb_signing_chain, readCertificates(o.tcb_signing_chain));
  }
  if (!o.collateral.empty()) {
    IGVMKIT_ASSIGN_OR_RETURN(into.collateral, readTextFile(o.collateral));
  }
  return okStatus();
}

// --- collateral fetching: the flags as collateral::FetchOptions.
collateral::FetchOptions fetchOptions(const VerifyOptions& o) {
  collateral::FetchOptions f;
  if (!o.kds_url.empty()) {
    f.kds_url = o.kds_url;
  }
  if (!o.pcs_url.empty()) {
    f.pcs_url = o.pcs_url;
    f.root_ca_crl_url = o.pcs_url + "/sgx/certification/v4/rootcacrl";  // a PCCS serves it
  }
  f.cache_dir = o.cert_cache;
  f.offline = o.offline;
  return f;
}
// --- end of collateral fetching

int runSnp(const VerifyOptions& o, int64_t at, const measure::ReferenceValues* ref) {
  Result<ByteVector> raw = readFile(o.report);
  if (!raw.ok()) {
    return fail("", raw.error());  // the message names the file
  }
  Result<ByteVector> decoded = attest::decodeEvidence(*raw);
  if (!decoded.ok()) {
    return fail(o.report, decoded.error());
  }
  // The bare report (inside an HCL wrapper, parsed strictly) for the flag and
  // cache look-ups; verification itself gets the whole input so an HCL
  // wrapper's runtime data is checked.
  Result<Bytes> report = attest::extractSnpReport(*decoded);
  if (!report.ok()) {
    return fail(o.report, report.error());
  }
  Result<attest::ATTESTATION_REPORT> parsed = attest::parseSnpReport(*report);
  if (!parsed.ok()) {
    return fail(o.report, parsed.error());
  }
  attest::SnpSigningKey report_key = attest::signingKey(*parsed);
  std::vector<ByteVector> certs;
  for (const auto& [path, flag, kind] :
       {std::tuple<const std::string*, const char*, attest::SnpSigningKey>{
            &o.vcek, "--vcek", attest::SnpSigningKey::kVcek},
        {&o.vlek, "--vlek", attest::SnpSigningKey::kVlek}}) {
    if (path->empty()) {
      continue;
    }
    Result<std::vector<ByteVector>> c = readEndorsementKey(*path, flag, kind, report_key);
    if (!c.ok()) {
      return fail("", c.error());
    }
    certs.insert(certs.end(), c->begin(), c->end());
  }
  if (!o.chain.empty()) {
    Result<std::vector<ByteVector>> c = readCertificates(o.chain);
    if (!c.ok()) {
      return fail("", c.error());
    }
    certs.insert(certs.end(), c->begin(), c->end());
  }
  if (!o.cert_cache.empty()) {
    Result<std::vector<ByteVector>> c = attest::loadSnpCertCache(o.cert_cache, *parsed);
    if (!c.ok()) {
      return fail(o.cert_cache, c.error());
    }
    certs.insert(certs.end(), c->begin(), c->end());
  }
  // --- collateral fetching: what the flags and the cache lack comes from KDS unless --offline.
  {
    Result<std::vector<ByteVector>> fetched =
        collateral::fetchSnpCertificates(*parsed, certs, fetchOptions(o));
    if (!fetched.ok()) {
      return fail("", fetched.error());  // the message names the URL
    }
    certs.insert(certs.end(), fetched->begin(), fetched->end());
  }
  Result<std::vector<ByteVector>> crls = readCrls(o.crls);
  if (!crls.ok()) {
    return fail("", crls.error());
  }
  if (o.kds_crl) {
    Result<std::optional<ByteVector>> crl = collateral::fetchSnpCrl(*parsed, certs, fetchOptions(o));
    if (!crl.ok()) {
      return fail("", crl.error());
    }
    if (!*crl) {
      Error missing = unreadable(
          "--kds-crl: no KDS CRL for this report (offline and not in --cert-cache, or no "
          "product known)");
      missing.rule = "fetch.missing";
      return fail("", missing);
    }
    crls->push_back(std::move(**crl));
  }
  // --- end of collateral fetching
  Result<attest::Verdict> verdict = attest::verifySnpReport(
      {.report = *decoded, .certificates = certs, .at = at, .crls = *crls}, ref);
  if (!verdict.ok()) {
    return fail(o.report, verdict.error());
  }
  return printVerdict(*verdict, o.json);
}

// --event-log CCEL_DATA [--acpi-ccel CCEL_TABLE]: the log's bytes and its parse (which views
// them: moving the struct keeps the vector's buffer). On error `blame` names the file at fault
// ("" when the error names it already).
struct EventLogInput {
  ByteVector bytes;
  attest::CcEventLog parsed;
};

Result<EventLogInput> readEventLog(const VerifyOptions& o, std::string& blame) {
  std::optional<attest::CCEL_ACPI_TABLE> table;
  if (!o.acpi_ccel.empty()) {
    IGVMKIT_ASSIGN_OR_RETURN(ByteVector table_bytes, readFile(o.acpi_ccel));
    blame = o.acpi_ccel;
    IGVMKIT_ASSIGN_OR_RETURN(table, attest::parseCcelTable(table_bytes));
  }
  EventLogInput in;
  blame = "";
  IGVMKIT_ASSIGN_OR_RETURN(in.bytes, readFile(o.event_log));
  Result<attest::CcEventLog> parsed = attest::parseCcEventLog(in.bytes, table ? &*table : nullptr);
  if (!parsed.ok()) {
    // A CC type that is not TDX is the table's fault, the rest the log's.
    bool table_fault = parsed.error().rule.rfind("ccel.", 0) == 0 && table;
    blame = table_fault ? o.acpi_ccel : o.event_log;
    return std::move(parsed).error();
  }
  in.parsed = std::move(parsed).value();
  return in;
}

// One line per event: index, RTMR, type, digest, name and decoded text.
void printEvents(const attest::CcEventLog& log) {
  for (const attest::CcEvent& e : log.events) {
    std::string text = e.text.size() > 100 ? e.text.substr(0, 97) + "..." : e.text;
    for (char& c : text) {
      if (c == '\n' || c == '\t') c = ' ';
    }
    std::cout << "event " << e.index << "  "
              << (e.type == attest::kEvNoAction ? std::string("-    ")
                                                 : "RTMR" + std::to_string(e.rtmr()))
              << "  " << attest::eventTypeName(e.type) << "  " << hexBytes(e.digest)
              << (e.name.empty() ? "" : "  [" + e.name + "]") << (text.empty() ? "" : "  " + text)
              << '\n';
  }
}

int runTdx(const VerifyOptions& o, int64_t at, const measure::ReferenceValues* ref) {
  Result<ByteVector> raw = readFile(o.quote);
  if (!raw.ok()) {
    return fail("", raw.error());  // the message names the file
  }
  Result<ByteVector> quote = attest::decodeEvidence(*raw);
  if (!quote.ok()) {
    return fail(o.quote, quote.error());
  }
  attest::TdxEvidence ev{
      .quote = *quote, .root = {}, .collateral = {}, .tcb_signing_chain = {}, .crls = {}, .at = at};
  if (Status s = readTdxTrustInputs(o, ev); !s.ok()) {
    return fail("", s.error());
  }
  std::optional<EventLogInput> log;
  if (!o.event_log.empty()) {
    std::string blame;
    Result<EventLogInput> read = readEventLog(o, blame);
    if (!read.ok()) {
      return fail(blame, read.error());
    }
    log = std::move(read).value();
    ev.event_log = &log->parsed;
  }
  // --- collateral fetching: without --collateral, PCS collateral from the cache or Intel PCS.
  if (o.collateral.empty()) {
    Result<std::optional<std::string>> fetched = collateral::fetchTdxCollateral(*quote, fetchOptions(o));
    if (!fetched.ok()) {
      bool fetch_error = fetched.error().rule.rfind("fetch.", 0) == 0;
      return fail(fetch_error ? "" : o.quote, fetched.error());
    }
    if (*fetched) {
      ev.collateral = std::move(**fetched);
    }
  }
  // --- end of collateral fetching
  Result<attest::Verdict> verdict = attest::verifyTdxQuote(ev, ref);
  if (!verdict.ok()) {
    // The collateral's own faults name the collateral file, the rest the quote.
    bool collateral = verdict.error().rule.rfind("collateral.", 0) == 0 && !o.collateral.empty();
    return fail(collateral ? o.collateral : o.quote, verdict.error());
  }
  if (log && !o.json) {
    printEvents(log->parsed);
  }
  return printVerdict(*verdict, o.json);
}

// --expect IMAGE.igvm: the reference values are measured here, with measure's
// code and its assumptions (--host, --vcpus), for the evidence's platform.
Result<measure::ReferenceValues> measureImage(const VerifyOptions& o, Bytes image) {
  IGVMKIT_ASSIGN_OR_RETURN(igvm::File file, igvm::File::parse(image));
  measure::MeasureOptions opts;
  opts.platform = o.report.empty() ? measure::Platform::kTdx : measure::Platform::kSnp;
  IGVMKIT_ASSIGN_OR_RETURN(opts.host, measure::parseHostModel(o.host));
  opts.vcpus = o.vcpus;
  IGVMKIT_ASSIGN_OR_RETURN(measure::Measurement m, measure::measure(file, opts));
  for (const std::string& w : m.warnings) {
    warn(o.expect + ": " + w);
  }
  return m.toReference();
}

bool isIgvm(Bytes bytes) {
  uint32_t magic = 0;
  if (bytes.size() < sizeof(magic)) {
    return false;
  }
  std::memcpy(&magic, bytes.data(), sizeof(magic));
  return magic == igvm::kIgvmMagic;
}

// --expect FILE.cbor: reference values read out of a CoRIM (corim/README.md "Reading"), signed
// (COSE_Sign1, #6.18) or not (#6.501).
bool isCorim(Bytes b) {
  return (!b.empty() && b[0] == std::byte{0xd2}) ||
         (b.size() >= 3 && b[0] == std::byte{0xd9} && b[1] == std::byte{0x01} &&
          b[2] == std::byte{0xf5});
}
Result<measure::ReferenceValues> readCorimReference(const VerifyOptions& o, Bytes bytes) {
  corim::ReadOptions read;
  read.unsigned_ok = o.corim_unsigned_ok;
  if (!o.corim_pubkey.empty()) {
    IGVMKIT_ASSIGN_OR_RETURN(std::string pem, readTextFile(o.corim_pubkey));
    Result<measure::SNP_ECDSA_PUBLIC_KEY> key = measure::publicKeyFromPem(pem);
    if (!key.ok()) {
      return about(o.corim_pubkey, std::move(key).error());
    }
    read.key = *key;
  }
  return corim::readReference(bytes, read);
}

// "--policy KEY=VALUE": VALUE is JSON (a number, true, an array, ...) or else a
// plain string.
Result<nlohmann::ordered_json> policyOverrides(const VerifyOptions& o) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (const std::string& kv : o.policy) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      return usage("--policy wants KEY=VALUE, not '" + kv + "'");
    }
    std::string value = kv.substr(eq + 1);
    Result<nlohmann::ordered_json> json = measure::parseStrictJson(value, "policy");
    out[kv.substr(0, eq)] = json.ok() ? *json : nlohmann::ordered_json(value);
  }
  if (!o.allow_tcb_status.empty()) {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    size_t start = 0;
    while (start <= o.allow_tcb_status.size()) {
      size_t comma = o.allow_tcb_status.find(',', start);
      if (comma == std::string::npos) comma = o.allow_tcb_status.size();
      list.push_back(o.allow_tcb_status.substr(start, comma - start));
      start = comma + 1;
    }
    out["allowed_tcb_status"] = list;
  }
  return out;
}

// The reference values: --expect (a JSON file or an IGVM image), with --policy
// / --allow-tcb-status replacing keys of its policy; nullopt when none of them
// is given.
Result<std::optional<measure::ReferenceValues>> loadReference(const VerifyOptions& o) {
  std::optional<measure::ReferenceValues> ref;
  if (!o.expect.empty()) {
    IGVMKIT_ASSIGN_OR_RETURN(ByteVector bytes, readFile(o.expect));
    Result<measure::ReferenceValues> parsed =
        isIgvm(bytes)    ? measureImage(o, bytes)
        : isCorim(bytes) ? readCorimReference(o, bytes)
                         : measure::ReferenceValues::fromJson(std::string_view(
                            reinterpret_cast<const char*>(bytes.data()), bytes.size()));
    if (!parsed.ok()) {
      return about(o.expect, std::move(parsed).error());
    }
    ref = std::move(parsed).value();
  }
  IGVMKIT_ASSIGN_OR_RETURN(nlohmann::ordered_json overrides, policyOverrides(o));
  if (overrides.empty()) {
    return ref;
  }
  if (!ref) {
    ref.emplace();  // policy only: no measurement check, and the verdict shows
                    // none
  }
  nlohmann::ordered_json policy =
      ref->policy ? ref->policy->toJson() : nlohmann::ordered_json::object();
  for (auto it = overrides.begin(); it != overrides.end(); ++it) {
    policy[it.key()] = it.value();
  }
  Result<measure::ReferencePolicy> merged = measure::ReferencePolicy::fromJson(policy);
  if (!merged.ok()) {
    Error e = std::move(merged).error();
    e.code = Code::kUsage;
    e.message = "--policy: " + e.message;
    return e;
  }
  ref->policy = std::move(merged).value();
  return ref;
}

// --batch DIR|-: the shared inputs are read once here, then cli/verify_batch.cc verifies every
// entry against them.
int runBatch(const VerifyOptions& o) {
  for (const auto& [flag, value] :
       {std::pair<const char*, const std::string*>{"--report", &o.report},
        {"--quote", &o.quote},
        {"--event-log", &o.event_log},
        {"--acpi-ccel", &o.acpi_ccel}}) {
    if (!value->empty()) {
      return fail("", usage(std::string(flag) + " names one piece of evidence; --batch reads many"));
    }
  }
  if (!o.expect.empty()) {
    Result<ByteVector> head = readFile(o.expect);
    if (head.ok() && isIgvm(*head)) {
      return fail("", usage("--batch compares against a reference JSON (measure --json), "
                            "not an IGVM image"));
    }
  }
  BatchOptions b;
  b.source = o.batch;
  b.jobs = o.jobs;
  b.cert_cache = o.cert_cache;
  b.at = static_cast<int64_t>(std::time(nullptr));
  if (!o.at.empty()) {
    Result<int64_t> t = attest::parseUtcTime(o.at);
    if (!t.ok()) {
      return fail("--at", t.error());
    }
    b.at = *t;
  }
  for (const std::string* path : {&o.vcek, &o.vlek, &o.chain}) {
    if (path->empty()) continue;
    Result<std::vector<ByteVector>> c = readCertificates(*path);
    if (!c.ok()) {
      return fail("", c.error());
    }
    b.snp_certificates.insert(b.snp_certificates.end(), c->begin(), c->end());
  }
  if (Status s = readTdxTrustInputs(o, b); !s.ok()) {
    return fail("", s.error());
  }
  Result<std::optional<measure::ReferenceValues>> ref = loadReference(o);
  if (!ref.ok()) {
    return fail("", ref.error());
  }
  return runVerifyBatch(b, *ref ? &**ref : nullptr);
}

int runVerify(const VerifyOptions& o) {
  if (!o.batch.empty()) {
    return runBatch(o);
  }
  if (o.report.empty() == o.quote.empty()) {
    return fail("", usage("give exactly one of --report (SEV-SNP) or --quote (TDX)"));
  }
  bool snp = !o.report.empty();
  for (const auto& [flag, value, for_snp] :
       {std::tuple<const char*, const std::string*, bool>{"--vcek", &o.vcek, true},
        {"--vlek", &o.vlek, true},
        {"--chain", &o.chain, true},
        {"--kds-url", &o.kds_url, true},
        {"--pcs-url", &o.pcs_url, false},
        {"--root", &o.root, false},
        {"--collateral", &o.collateral, false},
        {"--tcb-signing-chain", &o.tcb_signing_chain, false},
        {"--allow-tcb-status", &o.allow_tcb_status, false},
        {"--event-log", &o.event_log, false},
        {"--acpi-ccel", &o.acpi_ccel, false}}) {
    if (!value->empty() && for_snp != snp) {
      return fail("",
                  usage(std::string(flag) + " applies to " + (for_snp ? "--report" : "--quote")));
    }
  }
  if (!o.acpi_ccel.empty() && o.event_log.empty()) {
    return fail("", usage("--acpi-ccel describes the log given with --event-log"));
  }
  if (o.kds_crl && !snp) {  // collateral fetching
    return fail("", usage("verify.kds_crl", "--kds-crl applies to --report"));
  }
  if (!o.vcek.empty() && !o.vlek.empty()) {
    return fail("", usage("give --vcek or --vlek, not both"));
  }
  if (o.vcpus == 0) {
    return fail("", usage("--vcpus wants a count >= 1"));
  }
  int64_t at = static_cast<int64_t>(std::time(nullptr));
  if (!o.at.empty()) {
    Result<int64_t> t = attest::parseUtcTime(o.at);
    if (!t.ok()) {
      return fail("--at", t.error());
    }
    at = *t;
  }
  Result<std::optional<measure::ReferenceValues>> ref = loadReference(o);
  if (!ref.ok()) {
    return fail("", ref.error());
  }
  const measure::ReferenceValues* ref_ptr = *ref ? &**ref : nullptr;
  return snp ? runSnp(o, at, ref_ptr) : runTdx(o, at, ref_ptr);
}

}  // namespace

RunFn addVerify(CLI::App& app) {
  auto* cmd = app.add_subcommand("verify", "verify an SEV-SNP report or a TDX quote");
  auto o = std::make_shared<VerifyOptions>();
  cmd->add_option("--report", o->report, "SEV-SNP report (binary, hex or base64; Azure HCL ok)");
  cmd->add_option("--quote", o->quote, "TDX quote v4/v5 (binary, hex or base64)");
  cmd->add_option("--vcek", o->vcek, "VCEK certificate (PEM or DER; a PEM bundle may add ASK/ARK)");
  cmd->add_option("--vlek", o->vlek,
                  "VLEK certificate (PEM or DER; a PEM bundle may add ASVK/ARK)");
  cmd->add_option("--chain", o->chain, "KDS cert_chain PEM: ASK or ASVK, then ARK");
  cmd->add_option("--cert-cache", o->cert_cache,
                  "cache directory laid out like AMD KDS / Intel PCS paths (attest/README.md); "
                  "fetched certificates and collateral are kept there");
  cmd->add_option("--root", o->root, "TDX: trust this root CA instead of the pinned Intel one");
  cmd->add_option("--collateral", o->collateral,
                  "TDX: collateral JSON (dcap-qvl bundle, or a PCS "
                  "tcbInfo/enclaveIdentity response)");
  cmd->add_option("--tcb-signing-chain", o->tcb_signing_chain,
                  "TDX: Intel SGX TCB Signing chain PEM for PCS responses that lack it");
  cmd->add_option("--crl", o->crls,
                  "a DER CRL (SNP: KDS crl signed by the ARK; TDX: PCK CA or "
                  "root CA); repeatable");
  cmd->add_option("--expect", o->expect,
                  "reference values: measure --json output, a CoRIM, or the IGVM image itself");
  cmd->add_option("--corim-pubkey", o->corim_pubkey,
                  "with --expect CORIM: PEM public key its COSE_Sign1 must verify under");
  cmd->add_flag("--corim-unsigned-ok", o->corim_unsigned_ok,
                "with --expect CORIM: accept an unsigned CoRIM");
  cmd->add_option("--host", o->host, "with --expect IMAGE.igvm: SNP host model kvm|mshv");
  cmd->add_option("--vcpus", o->vcpus, "with --expect IMAGE.igvm: vCPU count (SNP on kvm)");
  cmd->add_option("--policy", o->policy,
                  "KEY=VALUE policy key (attest/README.md), replacing "
                  "--expect's; repeatable");
  cmd->add_option("--allow-tcb-status", o->allow_tcb_status,
                  "TDX: accepted TCB statuses, e.g. UpToDate,SWHardeningNeeded "
                  "(default UpToDate)");
  cmd->add_option("--event-log", o->event_log,
                  "TDX: CC event log (CCEL data, e.g. /sys/firmware/acpi/tables/data/CCEL), "
                  "replayed into RTMR0-3");
  cmd->add_option("--acpi-ccel", o->acpi_ccel,
                  "TDX: the ACPI CCEL table (/sys/firmware/acpi/tables/CCEL) bounding the log");
  cmd->add_option("--batch", o->batch,
                  "verify many: a directory of reports/quotes, or - for JSON lines on stdin; "
                  "one JSON line per verdict (attest/README.md)");
  cmd->add_option("--jobs", o->jobs, "with --batch: worker threads (default: one per CPU)");
  cmd->add_option("--at", o->at, "verify certificates at this ISO 8601 UTC time");
  cmd->add_flag("--json", o->json, "one JSON document on stdout");
  // --- collateral fetching (collateral/README.md)
  cmd->add_flag("--offline", o->offline,
                "never use the network: certificates and collateral only from the flags and "
                "--cert-cache");
  cmd->add_option("--kds-url", o->kds_url,
                  "AMD KDS base URL for missing certificates (default https://kdsintf.amd.com)");
  cmd->add_flag("--kds-crl", o->kds_crl,
                "SNP: also check the chain against the KDS CRL of the report's product (fetched "
                "or from --cert-cache)");
  cmd->add_option("--pcs-url", o->pcs_url,
                  "TDX: Intel PCS v4 base URL (or a PCCS) for collateral when --collateral is "
                  "not given (default https://api.trustedservices.intel.com)");
  // --- end of collateral fetching
  return [o] { return runVerify(*o); };
}

}  // namespace igvmkit::cli
