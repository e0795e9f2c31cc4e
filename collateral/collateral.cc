#include "collateral/collateral.h"

#include <openssl/objects.h>
#include <openssl/x509.h>

#include <nlohmann/json.hpp>

#include <ctime>
#include <functional>
#include <filesystem>
#include <memory>

#include "attest/internal/json_span.h"
#include "attest/tdx.h"
#include "attest/verdict.h"
#include "base/file.h"
#include "collateral/internal/http.h"

namespace igvmkit::collateral {
namespace {

using internal::BodyKind;

std::string join(const std::string& base, const std::string& path) {
  std::string b = base;
  while (!b.empty() && b.back() == '/') {
    b.pop_back();
  }
  return b + "/" + path;
}

Error bodyError(const std::string& url, const std::string& what) {
  Error e = unreadable("GET " + url + ": " + what);
  e.rule = "fetch.body";
  return e;
}

// The cached copy of `relative`, or nullopt when there is none (or no cache).
std::optional<ByteVector> cached(const FetchOptions& o, const std::string& relative) {
  if (o.cache_dir.empty()) {
    return std::nullopt;
  }
  std::filesystem::path path = std::filesystem::path(o.cache_dir) / relative;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return std::nullopt;
  }
  Result<ByteVector> bytes = readFile(path.string());
  if (!bytes.ok()) {
    return std::nullopt;
  }
  return std::move(bytes).value();
}

// Keeps a fetched (and already checked) object in the cache as one whole file.
Status store(const FetchOptions& o, const std::string& relative, Bytes body) {
  if (o.cache_dir.empty()) {
    return okStatus();
  }
  std::filesystem::path path = std::filesystem::path(o.cache_dir) / relative;
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  if (ec) {
    return unreadable(path.parent_path().string() + ": cannot create directory: " + ec.message());
  }
  return writeFile(path.string(), body);
}

std::string productDir(attest::SnpProduct product, attest::SnpSigningKey signer) {
  return std::string(signer == attest::SnpSigningKey::kVlek ? "vlek" : "vcek") + "/v1/" +
         attest::productName(product);
}

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct CrlFree {
  void operator()(X509_CRL* c) const { X509_CRL_free(c); }
};

// The product a VCEK/VLEK names in its issuer ("SEV-Milan", "SEV-VLEK-Genoa").
std::optional<attest::SnpProduct> productOfIssuer(const ByteVector& der) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  std::unique_ptr<X509, X509Free> cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!cert) {
    return std::nullopt;
  }
  char cn[128] = {};
  if (X509_NAME_get_text_by_NID(X509_get_issuer_name(cert.get()), NID_commonName, cn,
                                sizeof(cn)) <= 0) {
    return std::nullopt;
  }
  std::string name = cn;
  for (attest::SnpProduct product :
       {attest::SnpProduct::kMilan, attest::SnpProduct::kGenoa, attest::SnpProduct::kTurin}) {
    std::string want = attest::productName(product);
    if (name.size() >= want.size() && name.compare(name.size() - want.size(), want.size(), want) == 0) {
      return product;
    }
  }
  return std::nullopt;
}

// The report's product: from CPUID (v3+), else from a VCEK/VLEK issuer among `certs`.
std::optional<attest::SnpProduct> productOf(const attest::ATTESTATION_REPORT& report,
                                            const std::vector<ByteVector>& certs) {
  if (std::optional<attest::SnpProduct> p = attest::productFromCpuid(report)) {
    return p;
  }
  for (const ByteVector& der : certs) {
    if (attest::endorsementKeyKind(der)) {
      if (std::optional<attest::SnpProduct> p = productOfIssuer(der)) {
        return p;
      }
    }
  }
  return std::nullopt;
}

// One object of a service: where it lives, what it must look like, how long a copy lasts.
struct Resource {
  std::string base_url;
  std::string relative;     // URL path and query = cache file name
  std::string url = "";     // when not base_url + "/" + relative
  BodyKind kind = BodyKind::kBinary;
  const char* chain_header = nullptr;  // an issuer chain sent as a header, kept beside the body
  std::function<Status(const std::string& url, const ByteVector& body)> check;
  std::function<bool(const ByteVector& body)> current = [](const ByteVector&) { return true; };
};

struct Object {
  ByteVector body;
  std::string issuer_chain;  // PEM, from chain_header
};

// The sidecar file of a cached issuer chain: '#' never occurs in a request target.
std::string chainFile(const std::string& relative) { return relative + "#issuer-chain"; }

// A cached copy while current (any copy, offline), else (online) the fetched, checked and stored
// object; nullopt offline without a cached copy. Nothing is kept before `check` passes, and the
// body is written last, so a cached body always has its issuer chain.
Result<std::optional<Object>> obtain(const FetchOptions& o, const Resource& r) {
  if (std::optional<ByteVector> hit = cached(o, r.relative)) {
    std::optional<ByteVector> chain;
    if (r.chain_header != nullptr) {
      chain = cached(o, chainFile(r.relative));
    }
    if ((r.chain_header == nullptr || chain) && (o.offline || r.current(*hit))) {
      Object obj{std::move(*hit), ""};
      if (chain) {
        obj.issuer_chain.assign(reinterpret_cast<const char*>(chain->data()), chain->size());
      }
      return std::optional<Object>(std::move(obj));
    }
  }
  if (o.offline) {
    return std::optional<Object>();
  }
  std::string url = r.url.empty() ? join(r.base_url, r.relative) : r.url;
  IGVMKIT_ASSIGN_OR_RETURN(internal::HttpResponse response, internal::httpGet(url, r.kind, o.http));
  Object obj{ByteVector(toBytes(response.body).begin(), toBytes(response.body).end()), ""};
  IGVMKIT_RETURN_IF_ERROR(r.check(url, obj.body));
  if (r.chain_header != nullptr) {
    std::optional<std::string> header = response.header(r.chain_header);
    std::string pem = header ? internal::percentDecode(*header) : "";
    Result<std::vector<ByteVector>> certs = attest::splitCertificates(toBytes(pem));
    if (!certs.ok() || certs->empty()) {
      return bodyError(url, std::string("no certificate chain in the ") + r.chain_header +
                                " header");
    }
    obj.issuer_chain = pem;
    IGVMKIT_RETURN_IF_ERROR(store(o, chainFile(r.relative), toBytes(pem)));
  }
  IGVMKIT_RETURN_IF_ERROR(store(o, r.relative, obj.body));
  return std::optional<Object>(std::move(obj));
}

std::unique_ptr<X509_CRL, CrlFree> parseCrl(const ByteVector& der) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  return std::unique_ptr<X509_CRL, CrlFree>(
      d2i_X509_CRL(nullptr, &p, static_cast<long>(der.size())));
}

Status isCrl(const std::string& url, const ByteVector& body) {
  return parseCrl(body) ? okStatus() : Status(bodyError(url, "body is not a DER CRL"));
}

// A CRL is worth keeping until its nextUpdate.
bool crlCurrent(const ByteVector& der) {
  auto crl = parseCrl(der);
  const ASN1_TIME* next = crl ? X509_CRL_get0_nextUpdate(crl.get()) : nullptr;
  std::time_t now = std::time(nullptr);
  return next != nullptr && X509_cmp_time(next, &now) > 0;
}

// An Intel PCS signed-JSON body: {"<key>": {...}, "signature": "<hex>"}.
std::function<Status(const std::string&, const ByteVector&)> isSignedJson(std::string key) {
  return [key](const std::string& url, const ByteVector& body) -> Status {
    std::string_view text(reinterpret_cast<const char*>(body.data()), body.size());
    nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded() || !doc.is_object() || !doc.contains(key) ||
        !doc[key].is_object() || !doc.contains("signature") || !doc["signature"].is_string() ||
        !attest::internal::rawJsonMember(text, key).ok()) {
      return bodyError(url, "body is not a signed {\"" + key + "\":..,\"signature\":..} document");
    }
    return okStatus();
  };
}

// Signed JSON is worth keeping until its nextUpdate.
std::function<bool(const ByteVector&)> jsonCurrent(std::string key) {
  return [key](const ByteVector& body) {
    nlohmann::json doc = nlohmann::json::parse(body.begin(), body.end(), nullptr, false);
    if (doc.is_discarded() || !doc.is_object() || !doc.contains(key) || !doc[key].is_object() ||
        !doc[key].contains("nextUpdate") || !doc[key]["nextUpdate"].is_string()) {
      return false;
    }
    Result<int64_t> next = attest::parseUtcTime(doc[key]["nextUpdate"].get<std::string>());
    return next.ok() && *next > static_cast<int64_t>(std::time(nullptr));
  };
}

struct PckFacts {
  std::string fmspc;  // lowercase hex, as go-tdx-guest asks PCS
  std::string ca;     // "platform" or "processor"
};

// The FMSPC and the issuing CA of the quote's PCK certificate (the first of its chain).
Result<PckFacts> pckFacts(const attest::TdxQuote& q) {
  std::string pem(reinterpret_cast<const char*>(q.pck_chain.data()), q.pck_chain.size());
  while (!pem.empty() && pem.back() == '\0') {
    pem.pop_back();
  }
  IGVMKIT_ASSIGN_OR_RETURN(std::vector<ByteVector> chain, attest::splitCertificates(toBytes(pem)));
  const unsigned char* p = reinterpret_cast<const unsigned char*>(chain.front().data());
  std::unique_ptr<X509, X509Free> leaf(
      d2i_X509(nullptr, &p, static_cast<long>(chain.front().size())));
  if (!leaf) {
    return invalid("certificate.parse", "the quote's PCK certificate does not parse");
  }
  PckFacts facts;
  for (int i = 0; i < X509_get_ext_count(leaf.get()); ++i) {
    X509_EXTENSION* ext = X509_get_ext(leaf.get(), i);
    char oid[80];
    OBJ_obj2txt(oid, sizeof(oid), X509_EXTENSION_get_object(ext), /*no_name=*/1);
    if (std::string(oid) != "1.2.840.113741.1.13.1") {
      continue;
    }
    const ASN1_OCTET_STRING* data = X509_EXTENSION_get_data(ext);
    IGVMKIT_ASSIGN_OR_RETURN(
        attest::PckExtensions sgx,
        attest::parsePckExtension(Bytes(reinterpret_cast<const std::byte*>(
                                            ASN1_STRING_get0_data(data)),
                                        static_cast<size_t>(ASN1_STRING_length(data)))));
    facts.fmspc = hexBytes(sgx.fmspc);
  }
  if (facts.fmspc.empty()) {
    return invalid("pck.extension", "the quote's PCK certificate has no FMSPC");
  }
  char cn[128] = {};
  X509_NAME_get_text_by_NID(X509_get_issuer_name(leaf.get()), NID_commonName, cn, sizeof(cn));
  std::string issuer = cn;
  if (issuer == "Intel SGX PCK Platform CA") {
    facts.ca = "platform";
  } else if (issuer == "Intel SGX PCK Processor CA") {
    facts.ca = "processor";
  } else {
    return invalid("pck.issuer", "the quote's PCK certificate is issued by '" + issuer +
                                     "', neither the PCK Platform nor the Processor CA");
  }
  return facts;
}

}  // namespace

Result<std::vector<ByteVector>> fetchSnpCertificates(const attest::ATTESTATION_REPORT& report,
                                                     const std::vector<ByteVector>& have,
                                                     const FetchOptions& options) {
  std::vector<ByteVector> out;
  attest::SnpSigningKey signer = attest::signingKey(report);
  if (signer != attest::SnpSigningKey::kVcek && signer != attest::SnpSigningKey::kVlek) {
    return out;  // nothing KDS could give; verifySnpReport names the fault
  }
  bool have_vek = false;
  int ca_certs = 0;
  std::optional<attest::SnpProduct> product = productOf(report, have);
  for (const ByteVector& der : have) {
    if (std::optional<attest::SnpSigningKey> kind = attest::endorsementKeyKind(der)) {
      have_vek = have_vek || *kind == signer;
    } else {
      ++ca_certs;
    }
  }
  bool need_vek = signer == attest::SnpSigningKey::kVcek && !have_vek;
  bool need_chain = ca_certs < 2;  // the ASK/ASVK and the ARK
  if (!need_vek && !need_chain) {
    return out;
  }
  std::vector<attest::SnpProduct> products;
  if (product) {
    products.push_back(*product);
  } else {
    products = {attest::SnpProduct::kMilan, attest::SnpProduct::kGenoa,
                attest::SnpProduct::kTurin};
  }
  auto isVcek = [](const std::string& url, const ByteVector& body) -> Status {
    Result<std::vector<ByteVector>> certs = attest::splitCertificates(body);
    if (!certs.ok() || certs->empty() ||
        attest::endorsementKeyKind(certs->front()) != attest::SnpSigningKey::kVcek) {
      return bodyError(url, "body is not a VCEK certificate (DER or PEM)");
    }
    return okStatus();
  };
  auto isChain = [](const std::string& url, const ByteVector& body) -> Status {
    Result<std::vector<ByteVector>> certs = attest::splitCertificates(body);
    if (!certs.ok() || certs->size() != 2) {
      return bodyError(url, "body is not a cert_chain (two PEM certificates, ASK/ASVK then ARK)");
    }
    return okStatus();
  };
  std::optional<Error> last_not_found;
  for (attest::SnpProduct p : products) {
    if (need_vek) {
      Result<std::optional<Object>> vcek = obtain(
          options, {.base_url = options.kds_url, .relative = attest::kdsVcekPath(report, p), .check = isVcek});
      if (!vcek.ok() && vcek.error().rule == "fetch.not_found" && products.size() > 1) {
        last_not_found = std::move(vcek).error();
        continue;  // a report before v3: maybe another product's chip
      }
      IGVMKIT_RETURN_IF_ERROR(vcek);
      if (!vcek->has_value()) {
        continue;  // offline and not cached
      }
      IGVMKIT_ASSIGN_OR_RETURN(std::vector<ByteVector> certs,
                               attest::splitCertificates((*vcek)->body));
      out.insert(out.end(), certs.begin(), certs.end());
    }
    if (need_chain) {
      IGVMKIT_ASSIGN_OR_RETURN(std::optional<Object> chain,
                               obtain(options, {.base_url = options.kds_url,
                                                .relative = productDir(p, signer) + "/cert_chain",
                                                .check = isChain}));
      if (!chain) {
        continue;
      }
      IGVMKIT_ASSIGN_OR_RETURN(std::vector<ByteVector> certs,
                               attest::splitCertificates(chain->body));
      out.insert(out.end(), certs.begin(), certs.end());
    }
    return out;
  }
  if (last_not_found) {
    return *last_not_found;
  }
  return out;
}

Result<std::optional<ByteVector>> fetchSnpCrl(const attest::ATTESTATION_REPORT& report,
                                              const std::vector<ByteVector>& certs,
                                              const FetchOptions& options) {
  attest::SnpSigningKey signer = attest::signingKey(report);
  std::optional<attest::SnpProduct> product = productOf(report, certs);
  if (!product || (signer != attest::SnpSigningKey::kVcek && signer != attest::SnpSigningKey::kVlek)) {
    return std::optional<ByteVector>();
  }
  IGVMKIT_ASSIGN_OR_RETURN(std::optional<Object> crl,
                           obtain(options, {.base_url = options.kds_url,
                                            .relative = productDir(*product, signer) + "/crl",
                                            .check = isCrl,
                                            .current = crlCurrent}));
  if (!crl) {
    return std::optional<ByteVector>();
  }
  return std::optional<ByteVector>(std::move(crl->body));
}

Result<std::optional<std::string>> fetchTdxCollateral(Bytes quote, const FetchOptions& options) {
  IGVMKIT_ASSIGN_OR_RETURN(attest::TdxQuote q, attest::parseTdxQuote(quote));
  IGVMKIT_ASSIGN_OR_RETURN(PckFacts pck, pckFacts(q));
  const std::string& pcs = options.pcs_url;
  IGVMKIT_ASSIGN_OR_RETURN(
      std::optional<Object> tcb,
      obtain(options, {.base_url = pcs,
                       .relative = "tdx/certification/v4/tcb?fmspc=" + pck.fmspc,
                       .kind = BodyKind::kJson,
                       .chain_header = "tcb-info-issuer-chain",
                       .check = isSignedJson("tcbInfo"),
                       .current = jsonCurrent("tcbInfo")}));
  IGVMKIT_ASSIGN_OR_RETURN(
      std::optional<Object> qe,
      obtain(options, {.base_url = pcs,
                       .relative = "tdx/certification/v4/qe/identity",
                       .kind = BodyKind::kJson,
                       .chain_header = "sgx-enclave-identity-issuer-chain",
                       .check = isSignedJson("enclaveIdentity"),
                       .current = jsonCurrent("enclaveIdentity")}));
  IGVMKIT_ASSIGN_OR_RETURN(
      std::optional<Object> pck_crl,
      obtain(options, {.base_url = pcs,
                       .relative = "sgx/certification/v4/pckcrl?ca=" + pck.ca + "&encoding=der",
                       .chain_header = "sgx-pck-crl-issuer-chain",
                       .check = isCrl,
                       .current = crlCurrent}));
  IGVMKIT_ASSIGN_OR_RETURN(
      std::optional<Object> root_crl,
      obtain(options, {.base_url = pcs,
                       .relative = "sgx/certification/v4/rootcacrl",
                       .url = options.root_ca_crl_url,
                       .check = isCrl,
                       .current = crlCurrent}));
  if (!tcb || !qe || !pck_crl || !root_crl) {
    return std::optional<std::string>();  // offline, and the cache lacks a piece
  }
  // The dcap-qvl bundle attest reads: the signed JSON as its exact text, CRLs as hex DER.
  auto text = [](const Object& o) {
    return std::string_view(reinterpret_cast<const char*>(o.body.data()), o.body.size());
  };
  nlohmann::ordered_json bundle = nlohmann::ordered_json::object();
  for (const auto& [name, key, obj] : {std::tuple<const char*, const char*, const Object*>{
                                           "tcb_info", "tcbInfo", &*tcb},
                                       {"qe_identity", "enclaveIdentity", &*qe}}) {
    IGVMKIT_ASSIGN_OR_RETURN(std::string_view raw,
                             attest::internal::rawJsonMember(text(*obj), key));
    nlohmann::json doc = nlohmann::json::parse(text(*obj), nullptr, false);
    bundle[name] = std::string(raw);
    bundle[std::string(name) + "_signature"] = doc["signature"].get<std::string>();
    bundle[std::string(name) + "_issuer_chain"] = obj->issuer_chain;
  }
  bundle["pck_crl"] = hexBytes(pck_crl->body);
  bundle["pck_crl_issuer_chain"] = pck_crl->issuer_chain;
  bundle["root_ca_crl"] = hexBytes(root_crl->body);
  return std::optional<std::string>(bundle.dump());
}

}  // namespace igvmkit::collateral
