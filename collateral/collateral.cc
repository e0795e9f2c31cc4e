#include "collateral/collateral.h"

#include <openssl/x509.h>

#include <ctime>
#include <filesystem>
#include <memory>

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

std::string spl(uint8_t v) {
  std::string s = std::to_string(v);
  return s.size() < 2 ? "0" + s : s;
}

// KDS's name for a VCEK (attest-format.md "AMD KDS URLs"; the layout loadSnpCertCache reads).
std::string vcekPath(const attest::ATTESTATION_REPORT& report, attest::SnpProduct product) {
  attest::TcbVersion t = attest::decodeTcb(report.reported_tcb, product);
  bool turin = product == attest::SnpProduct::kTurin;
  std::string path = "vcek/v1/" + attest::productName(product) + "/" +
                     hexBytes(bytesAt(report.chip_id, turin ? 8 : sizeof(report.chip_id))) +
                     "?";
  if (turin) {
    path += "fmcSPL=" + spl(t.fmc) + "&";
  }
  return path + "blSPL=" + spl(t.boot_loader) + "&teeSPL=" + spl(t.tee) + "&snpSPL=" +
         spl(t.snp) + "&ucodeSPL=" + spl(t.microcode);
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

// A cached object if there is one, else (online) the fetched, checked and stored one; nullopt
// offline without a cached copy. `check` judges a body before anything keeps it.
template <class Check>
Result<std::optional<ByteVector>> obtain(const FetchOptions& o, const std::string& base_url,
                                         const std::string& relative, BodyKind kind,
                                         Check check) {
  if (std::optional<ByteVector> hit = cached(o, relative)) {
    return hit;
  }
  if (o.offline) {
    return std::optional<ByteVector>();
  }
  std::string url = join(base_url, relative);
  IGVMKIT_ASSIGN_OR_RETURN(internal::HttpResponse response, internal::httpGet(url, kind, o.http));
  ByteVector body = ByteVector(toBytes(response.body).begin(), toBytes(response.body).end());
  IGVMKIT_RETURN_IF_ERROR(check(url, body));
  IGVMKIT_RETURN_IF_ERROR(store(o, relative, body));
  return std::optional<ByteVector>(std::move(body));
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
  std::optional<attest::SnpProduct> product = attest::productFromCpuid(report);
  for (const ByteVector& der : have) {
    if (std::optional<attest::SnpSigningKey> kind = attest::endorsementKeyKind(der)) {
      have_vek = have_vek || *kind == signer;
      if (!product) {
        product = productOfIssuer(der);
      }
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
      Result<std::optional<ByteVector>> vcek =
          obtain(options, options.kds_url, vcekPath(report, p), BodyKind::kBinary, isVcek);
      if (!vcek.ok() && vcek.error().rule == "fetch.not_found" && products.size() > 1) {
        last_not_found = std::move(vcek).error();
        continue;  // a report before v3: maybe another product's chip
      }
      IGVMKIT_RETURN_IF_ERROR(vcek);
      if (!vcek->has_value()) {
        continue;  // offline and not cached
      }
      IGVMKIT_ASSIGN_OR_RETURN(std::vector<ByteVector> certs, attest::splitCertificates(**vcek));
      out.insert(out.end(), certs.begin(), certs.end());
    }
    if (need_chain) {
      IGVMKIT_ASSIGN_OR_RETURN(std::optional<ByteVector> chain,
                               obtain(options, options.kds_url,
                                      productDir(p, signer) + "/cert_chain", BodyKind::kBinary,
                                      isChain));
      if (!chain) {
        continue;
      }
      IGVMKIT_ASSIGN_OR_RETURN(std::vector<ByteVector> certs, attest::splitCertificates(*chain));
      out.insert(out.end(), certs.begin(), certs.end());
    }
    return out;
  }
  if (last_not_found) {
    return *last_not_found;
  }
  return out;
}

Result<std::optional<ByteVector>> fetchSnpCrl(attest::SnpProduct product,
                                              attest::SnpSigningKey signer,
                                              const FetchOptions& options) {
  std::string relative = productDir(product, signer) + "/crl";
  auto parse = [](const ByteVector& der) {
    const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
    return std::unique_ptr<X509_CRL, CrlFree>(
        d2i_X509_CRL(nullptr, &p, static_cast<long>(der.size())));
  };
  if (std::optional<ByteVector> hit = cached(options, relative)) {
    auto crl = parse(*hit);
    const ASN1_TIME* next = crl ? X509_CRL_get0_nextUpdate(crl.get()) : nullptr;
    std::time_t now = std::time(nullptr);
    if (options.offline || (next != nullptr && X509_cmp_time(next, &now) > 0)) {
      return hit;
    }
  }
  if (options.offline) {
    return std::optional<ByteVector>();
  }
  std::string url = join(options.kds_url, relative);
  IGVMKIT_ASSIGN_OR_RETURN(internal::HttpResponse response,
                           internal::httpGet(url, BodyKind::kBinary, options.http));
  ByteVector body = ByteVector(toBytes(response.body).begin(), toBytes(response.body).end());
  if (!parse(body)) {
    return bodyError(url, "body is not a DER CRL");
  }
  IGVMKIT_RETURN_IF_ERROR(store(options, relative, body));
  return std::optional<ByteVector>(std::move(body));
}

}  // namespace igvmkit::collateral
