#include "collateral/testing/layout.h"

#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cctype>
#include <cstdlib>
#include <memory>

#include <nlohmann/json.hpp>

#include "attest/verdict.h"

namespace igvmkit::collateral::testing {
namespace {

std::string pad(uint64_t v) {
  std::string s = std::to_string(v);
  return s.size() < 2 ? "0" + s : s;
}

std::string text(const ByteVector& bytes) {
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

}  // namespace

std::string vcekTarget(attest::SnpProduct product, const ByteVector& vcek_der) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(vcek_der.data());
  std::unique_ptr<X509, decltype(&X509_free)> cert(
      d2i_X509(nullptr, &p, static_cast<long>(vcek_der.size())), X509_free);
  if (!cert) {
    std::abort();
  }
  std::vector<std::pair<std::string, ByteVector>> extensions;
  for (int i = 0; i < X509_get_ext_count(cert.get()); ++i) {
    X509_EXTENSION* ext = X509_get_ext(cert.get(), i);
    char oid[80];
    OBJ_obj2txt(oid, sizeof(oid), X509_EXTENSION_get_object(ext), /*no_name=*/1);
    const ASN1_OCTET_STRING* data = X509_EXTENSION_get_data(ext);
    const auto* bytes = reinterpret_cast<const std::byte*>(ASN1_STRING_get0_data(data));
    extensions.emplace_back(oid, ByteVector(bytes, bytes + ASN1_STRING_length(data)));
  }
  Result<attest::AmdCertExtensions> amd = attest::parseAmdExtensions(extensions);
  if (!amd.ok() || !amd->hwid || !amd->bl_spl || !amd->tee_spl || !amd->snp_spl ||
      !amd->ucode_spl) {
    std::abort();
  }
  bool turin = product == attest::SnpProduct::kTurin;
  ByteVector hwid = *amd->hwid;
  if (turin) {
    hwid.resize(8);
  }
  std::string target = "/vcek/v1/" + attest::productName(product) + "/" + hexBytes(hwid) + "?";
  if (turin) {
    target += "fmcSPL=" + pad(amd->fmc_spl.value_or(0)) + "&";
  }
  return target + "blSPL=" + pad(*amd->bl_spl) + "&teeSPL=" + pad(*amd->tee_spl) +
         "&snpSPL=" + pad(*amd->snp_spl) + "&ucodeSPL=" + pad(*amd->ucode_spl);
}

ByteVector endorsementKey(const ByteVector& file) {
  Result<std::vector<ByteVector>> certs = attest::splitCertificates(file);
  if (certs.ok()) {
    for (const ByteVector& der : *certs) {
      if (attest::endorsementKeyKind(der)) {
        return der;
      }
    }
  }
  return {};
}

void serveKds(LoopbackServer& server, attest::SnpProduct product, const ByteVector& vcek_der,
              attest::SnpSigningKey signer, const ByteVector& chain_pem) {
  std::string dir = std::string(signer == attest::SnpSigningKey::kVlek ? "/vlek" : "/vcek") +
                    "/v1/" + attest::productName(product);
  if (signer == attest::SnpSigningKey::kVcek) {
    server.serve(vcekTarget(product, vcek_der), reply(text(vcek_der), "application/pkix-cert"));
  }
  server.serve(dir + "/cert_chain", reply(text(chain_pem), "application/x-pem-file"));
}

namespace {

std::string percentEncode(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace

CannedResponse pcsJson(const std::string& body, const std::string& chain_header,
                       const std::string& chain_pem) {
  CannedResponse r = reply(body, "application/json");
  r.headers = {{chain_header, percentEncode(chain_pem)}};
  return r;
}

CannedResponse pcsCrl(const ByteVector& der, const std::string& chain_pem) {
  CannedResponse r = reply(text(der), "application/pkix-crl");
  if (!chain_pem.empty()) {
    r.headers = {{"SGX-PCK-CRL-Issuer-Chain", percentEncode(chain_pem)}};
  }
  return r;
}

void servePcsBundle(LoopbackServer& server, const std::string& bundle, const std::string& fmspc,
                    const std::string& root_crl_target) {
  nlohmann::json b = nlohmann::json::parse(bundle);
  auto signedBody = [&](const char* key, const char* member) {
    return "{\"" + std::string(key) + "\":" + b[member].get<std::string>() +
           ",\"signature\":\"" + b[std::string(member) + "_signature"].get<std::string>() +
           "\"}";
  };
  server.serve("/tdx/certification/v4/tcb?fmspc=" + fmspc,
               pcsJson(signedBody("tcbInfo", "tcb_info"), "TCB-Info-Issuer-Chain",
                       b["tcb_info_issuer_chain"]));
  server.serve("/tdx/certification/v4/qe/identity",
               pcsJson(signedBody("enclaveIdentity", "qe_identity"),
                       "SGX-Enclave-Identity-Issuer-Chain", b["qe_identity_issuer_chain"]));
  server.serve("/sgx/certification/v4/pckcrl?ca=platform&encoding=der",
               pcsCrl(*parseHexBytes(b["pck_crl"].get<std::string>()), b["pck_crl_issuer_chain"]));
  server.serve(root_crl_target, pcsCrl(*parseHexBytes(b["root_ca_crl"].get<std::string>()), ""));
}

}  // namespace igvmkit::collateral::testing
