// libFuzzer target: the certificate extension readers (AMD VCEK/VLEK extensions, the Intel PCK
// SGX extension, whole certificates) and the collateral JSON span scanner. The first byte picks
// the reader; the rest is its input.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "attest/internal/crypto.h"
#include "attest/internal/der.h"
#include "attest/internal/json_span.h"
#include "attest/snp.h"
#include "attest/tdx.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace igvmkit;
  if (size == 0) {
    return 0;
  }
  Bytes input(reinterpret_cast<const std::byte*>(data + 1), size - 1);
  switch (data[0] % 5) {
    case 0: {
      Result<attest::PckExtensions> ext = attest::parsePckExtension(input);
      (void)ext;
      break;
    }
    case 1: {
      // A list of (AMD OID, value) pairs: each value's first byte picks the OID.
      static const char* kOids[] = {"1.3.6.1.4.1.3704.1.1",   "1.3.6.1.4.1.3704.1.2",
                                    "1.3.6.1.4.1.3704.1.3.1", "1.3.6.1.4.1.3704.1.3.8",
                                    "1.3.6.1.4.1.3704.1.3.9", "1.3.6.1.4.1.3704.1.4",
                                    "1.3.6.1.4.1.3704.1.5"};
      std::vector<std::pair<std::string, ByteVector>> pairs;
      while (input.size() >= 2) {
        size_t n = std::min<size_t>(static_cast<uint8_t>(input[1]), input.size() - 2);
        pairs.emplace_back(kOids[static_cast<uint8_t>(input[0]) % 7],
                           ByteVector(input.begin() + 2, input.begin() + 2 + n));
        input = input.subspan(2 + n);
      }
      Result<attest::AmdCertExtensions> ext = attest::parseAmdExtensions(pairs);
      (void)ext;
      break;
    }
    case 2: {
      Result<attest::internal::X509Ptr> cert = attest::internal::parseCertificate(input);
      if (cert.ok()) {
        auto exts = attest::internal::extensions(cert->get());
        Result<attest::AmdCertExtensions> amd = attest::parseAmdExtensions(exts);
        (void)amd;
        for (const auto& [oid, value] : exts) {
          Result<attest::PckExtensions> pck = attest::parsePckExtension(value);
          (void)pck;
        }
      }
      break;
    }
    case 3: {
      std::string_view text(reinterpret_cast<const char*>(input.data()), input.size());
      Result<std::string_view> member = attest::internal::rawJsonMember(text, "tcbInfo");
      if (member.ok() && (member->data() < text.data() ||
                          member->data() + member->size() > text.data() + text.size())) {
        __builtin_trap();
      }
      break;
    }
    case 4: {
      Result<std::vector<ByteVector>> certs = attest::splitCertificates(input);
      Result<std::vector<attest::internal::Tlv>> tlvs = attest::internal::readAll(input);
      (void)certs;
      (void)tlvs;
      break;
    }
  }
  return 0;
}
