// igvmkit verify: checks an SEV-SNP report (--report) or a TDX quote (--quote) end to end and,
// with --expect, against reference values (cli-contract.md "verify", attest/README.md).
#include <ctime>
#include <iostream>
#include <memory>
#include <optional>

#include "attest/snp.h"
#include "attest/tdx.h"
#include "attest/verdict.h"
#include "base/file.h"
#include "cli/command.h"
#include "measure/reference.h"

namespace igvmkit::cli {
namespace {

struct VerifyOptions {
  std::string report, quote, vcek, vlek, chain, cert_cache, root, collateral, tcb_signing_chain,
      expect, at;
  std::vector<std::string> crls;
  bool json = false;
};

// Reads and decodes certificates from `path`; errors carry the path as subject.
// Errors name the file (read errors already do; parse errors get it prepended).
Result<std::vector<ByteVector>> readCertificates(const std::string& path) {
  IGVMKIT_ASSIGN_OR_RETURN(ByteVector bytes, readFile(path));
  Result<std::vector<ByteVector>> certs = attest::splitCertificates(bytes);
  if (!certs.ok()) {
    Error e = std::move(certs).error();
    e.message = path + ": " + e.message;
    return e;
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

int runSnp(const VerifyOptions& o, int64_t at, const measure::ReferenceValues* ref) {
  Result<ByteVector> raw = readFile(o.report);
  if (!raw.ok()) {
    return fail("", raw.error());  // the message names the file
  }
  Result<ByteVector> decoded = attest::decodeEvidence(*raw);
  if (!decoded.ok()) {
    return fail(o.report, decoded.error());
  }
  Result<Bytes> report = attest::extractSnpReport(*decoded);
  if (!report.ok()) {
    return fail(o.report, report.error());
  }
  std::vector<ByteVector> certs;
  for (const std::string* path : {&o.vcek, &o.vlek, &o.chain}) {
    if (path->empty()) {
      continue;
    }
    Result<std::vector<ByteVector>> c = readCertificates(*path);
    if (!c.ok()) {
      return fail("", c.error());
    }
    certs.insert(certs.end(), c->begin(), c->end());
  }
  if (!o.cert_cache.empty()) {
    Result<attest::ATTESTATION_REPORT> parsed = attest::parseSnpReport(*report);
    if (!parsed.ok()) {
      return fail(o.report, parsed.error());
    }
    Result<std::vector<ByteVector>> c = attest::loadSnpCertCache(o.cert_cache, *parsed);
    if (!c.ok()) {
      return fail(o.cert_cache, c.error());
    }
    certs.insert(certs.end(), c->begin(), c->end());
  }
  Result<attest::Verdict> verdict =
      attest::verifySnpReport({.report = *report, .certificates = certs, .at = at}, ref);
  if (!verdict.ok()) {
    return fail(o.report, verdict.error());
  }
  return printVerdict(*verdict, o.json);
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
  attest::TdxEvidence ev{.quote = *quote, .root = {}, .collateral = {}, .tcb_signing_chain = {},
                         .crls = {}, .at = at};
  for (const std::string& path : o.crls) {
    Result<ByteVector> der = readFile(path);
    if (!der.ok()) {
      return fail("", der.error());
    }
    ev.crls.push_back(std::move(der).value());
  }
  if (!o.root.empty()) {
    Result<std::vector<ByteVector>> root = readCertificates(o.root);
    if (!root.ok()) {
      return fail("", root.error());
    }
    ev.root = root->front();
  }
  if (!o.tcb_signing_chain.empty()) {
    Result<std::vector<ByteVector>> chain = readCertificates(o.tcb_signing_chain);
    if (!chain.ok()) {
      return fail("", chain.error());
    }
    ev.tcb_signing_chain = *chain;
  }
  std::optional<std::string> collateral_text;
  if (!o.collateral.empty()) {
    Result<std::string> text = readTextFile(o.collateral);
    if (!text.ok()) {
      return fail("", text.error());
    }
    collateral_text = std::move(text).value();
    ev.collateral = *collateral_text;
  }
  Result<attest::Verdict> verdict = attest::verifyTdxQuote(ev, ref);
  if (!verdict.ok()) {
    return fail(o.quote, verdict.error());
  }
  return printVerdict(*verdict, o.json);
}

int runVerify(const VerifyOptions& o) {
  if (o.report.empty() == o.quote.empty()) {
    return fail("", usage("give exactly one of --report (SEV-SNP) or --quote (TDX)"));
  }
  bool snp = !o.report.empty();
  for (const auto& [flag, value, for_snp] :
       {std::tuple<const char*, const std::string*, bool>{"--vcek", &o.vcek, true},
        {"--vlek", &o.vlek, true},
        {"--chain", &o.chain, true},
        {"--cert-cache", &o.cert_cache, true},
        {"--root", &o.root, false},
        {"--collateral", &o.collateral, false},
        {"--tcb-signing-chain", &o.tcb_signing_chain, false}}) {
    if (!value->empty() && for_snp != snp) {
      return fail("", usage(std::string(flag) + " applies to " + (for_snp ? "--report" : "--quote")));
    }
  }
  if (!o.crls.empty() && snp) {
    return fail("", usage("--crl applies to --quote"));
  }
  if (!o.vcek.empty() && !o.vlek.empty()) {
    return fail("", usage("give --vcek or --vlek, not both"));
  }
  int64_t at = static_cast<int64_t>(std::time(nullptr));
  if (!o.at.empty()) {
    Result<int64_t> t = attest::parseUtcTime(o.at);
    if (!t.ok()) {
      return fail("--at", t.error());
    }
    at = *t;
  }
  std::optional<measure::ReferenceValues> ref;
  if (!o.expect.empty()) {
    Result<std::string> text = readTextFile(o.expect);
    if (!text.ok()) {
      return fail("", text.error());
    }
    Result<measure::ReferenceValues> parsed = measure::ReferenceValues::fromJson(*text);
    if (!parsed.ok()) {
      return fail(o.expect, parsed.error());
    }
    ref = std::move(parsed).value();
  }
  const measure::ReferenceValues* ref_ptr = ref ? &*ref : nullptr;
  return snp ? runSnp(o, at, ref_ptr) : runTdx(o, at, ref_ptr);
}

}  // namespace

RunFn addVerify(CLI::App& app) {
  auto* cmd = app.add_subcommand("verify", "verify an SEV-SNP report or a TDX quote");
  auto o = std::make_shared<VerifyOptions>();
  cmd->add_option("--report", o->report, "SEV-SNP report (binary, hex or base64; Azure HCL ok)");
  cmd->add_option("--quote", o->quote, "TDX quote v4/v5 (binary, hex or base64)");
  cmd->add_option("--vcek", o->vcek, "VCEK certificate (PEM or DER; a PEM bundle may add ASK/ARK)");
  cmd->add_option("--vlek", o->vlek, "VLEK certificate (PEM or DER)");
  cmd->add_option("--chain", o->chain, "KDS cert_chain PEM: ASK or ASVK, then ARK");
  cmd->add_option("--cert-cache", o->cert_cache,
                  "directory laid out like AMD KDS paths (attest/README.md)");
  cmd->add_option("--root", o->root, "TDX: trust this root CA instead of the pinned Intel one");
  cmd->add_option("--collateral", o->collateral,
                  "TDX: collateral JSON (dcap-qvl bundle, or a PCS tcbInfo/enclaveIdentity response)");
  cmd->add_option("--tcb-signing-chain", o->tcb_signing_chain,
                  "TDX: Intel SGX TCB Signing chain PEM for PCS responses that lack it");
  cmd->add_option("--crl", o->crls, "TDX: a DER CRL (PCK CA or root CA); repeatable");
  cmd->add_option("--expect", o->expect, "reference values JSON (measure --json output)");
  cmd->add_option("--at", o->at, "verify certificates at this ISO 8601 UTC time");
  cmd->add_flag("--json", o->json, "one JSON document on stdout");
  return [o] { return runVerify(*o); };
}

}  // namespace igvmkit::cli
