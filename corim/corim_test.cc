#include "corim/corim.h"

#include <gtest/gtest.h>
#include <openssl/sha.h>

#include <string>

#include "base/file.h"
#include "base/testing/matchers.h"
#include "igvm/writer.h"

using ::igvmkit::testing::HasRule;

namespace igvmkit::corim {
namespace {

ByteVector unhexed(const std::string& h) { return *parseHexBytes(h); }
std::string hexOf(Bytes b) { return hexBytes(b); }

// CBOR heads written by hand (RFC 8949 §3): major type, then the length in the fewest bytes.
std::string head(int major, uint64_t n) {
  char buf[32];
  if (n < 24) {
    std::snprintf(buf, sizeof(buf), "%02x", static_cast<unsigned>(major << 5 | n));
  } else if (n < 256) {
    std::snprintf(buf, sizeof(buf), "%02x%02x", major << 5 | 24, static_cast<unsigned>(n));
  } else {
    std::snprintf(buf, sizeof(buf), "%02x%04x", major << 5 | 25, static_cast<unsigned>(n));
  }
  return buf;
}
std::string bstr(const std::string& hex) { return head(2, hex.size() / 2) + hex; }
std::string tstr(const std::string& s) {
  return head(3, s.size()) + hexOf(toBytes(s));
}

measure::ReferenceDigest snp(const std::string& digest_hex) {
  measure::ReferenceDigest d;
  d.platform = "snp";
  d.host = "kvm";
  d.vcpus = 1;
  d.digest = unhexed(digest_hex);
  return d;
}

TEST(Corim, MatchesAHandEncodedDocument) {
  const std::string ld(96, 'a');
  measure::ReferenceValues ref;
  ref.measurements.push_back(snp(ld));
  measure::ReferenceDigest tdx;
  tdx.platform = "tdx";
  tdx.digest = unhexed(std::string(96, 'b'));
  ref.measurements.push_back(tdx);  // a CoRIM of its own (LaunchMeasurementProfile below)
  Result<std::vector<PlatformCorim>> parts = fromReference(ref, "x");
  ASSERT_TRUE(parts.ok()) << parts.error().message;
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].platform, "snp");
  EXPECT_EQ((*parts)[1].platform, "tdx");
  const ByteVector* doc = &(*parts)[0].document;
  // CoMID {1: {0: "x"}, 4: {0: [[{0: {0: 37(uuid)}}, [{0: 0, 1: {2: [[7, LD]]}}]]]}}
  const std::string comid = "a2" "01" "a1" "00" + tstr("x") + "04" "a1" "00" "81" "82" "a1" "00" "a1" "00"
                            "d825" + bstr("d05e6d1b9f464ae2a610ce3e6ee7e153") +
                            "81" "a2" "00" "00" "01" "a1" "02" "81" "82" "07" + bstr(ld);
  // 501({0: "x", 1: [506(bstr comid)], 3: 32("http://amd.com/please-permalink-me")})
  const std::string want = "d901f5" "a3" "00" + tstr("x") + "01" "81" "d901fa" + bstr(comid) +
                           "03" "d820" + tstr("http://amd.com/please-permalink-me");
  EXPECT_EQ(hexOf(*doc), want);
  EXPECT_EQ((*fromReference(ref, "x"))[0].document, *doc);  // deterministic
  measure::ReferenceValues only_sev;
  only_sev.measurements.push_back(tdx);
  only_sev.measurements[0].platform = "sev";
  EXPECT_THAT(fromReference(only_sev, "x"), HasRule("corim.empty"));
}

// UUIDv5 (RFC 9562 §5.5) computed here with SHA-1, independently of the constants in corim.cc.
std::string uuid5(const std::string& ns_hex, const std::string& name) {
  ByteVector in = unhexed(ns_hex);
  Bytes n = toBytes(name);
  in.insert(in.end(), n.begin(), n.end());
  unsigned char h[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(in.data()), in.size(), h);
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const std::string x = hexOf(Bytes(reinterpret_cast<const std::byte*>(h), 16));
  return x.substr(0, 8) + "-" + x.substr(8, 4) + "-" + x.substr(12, 4) + "-" + x.substr(16, 4) +
         "-" + x.substr(20);
}

// microsoft/igvm's launch-measurement profile, written out by hand: 501({0: "V/M/launch-measurement",
// 1: [506(bstr {1: {0: uuid5}, 4: {0: [[ENV, [MEAS]]], 8: [[[ENV, []], [[[MEAS], [{1: {1: 552(0)}}]]]]]})],
// 3: 32("tag:microsoft.com,2026:launch-measurement/v1")}), ENV = {0: {1: V, 2: M}},
// MEAS = {0: MKEY, 1: {2: [[ALG, DIGEST]]}}.
std::string launchCorimByHand(const std::string& vendor, const std::string& model,
                              const std::string& mkey, int alg, const std::string& digest_hex) {
  const std::string ns = "85f3f1c222a8441ea1b9bccfb63ed5f7";
  // The derivation reproduces microsoft/igvm's own test value for AMD/SEV-SNP.
  EXPECT_EQ(uuid5(ns, "AMD/SEV-SNP"), "77e8061e-4634-5e53-a848-d1d09e996843");
  const std::string env = "a1" "00" "a2" "01" + tstr(vendor) + "02" + tstr(model);
  const std::string meas = "a2" "00" + tstr(mkey) + "01" "a1" "02" "81" "82" + head(0, alg) +
                           bstr(digest_hex);
  const std::string comid = "a2" "01" "a1" "00" + tstr(uuid5(ns, vendor + "/" + model)) +
                            "04" "a2" "00" "81" "82" + env + "81" + meas +
                            "08" "81" "82" "82" + env + "80" "81" "82" "81" + meas +
                            "81" "a1" "01" "a1" "01" "d90228" "00";
  return "d901f5" "a3" "00" + tstr(vendor + "/" + model + "/launch-measurement") + "01" "81"
         "d901fa" + bstr(comid) + "03" "d820" +
         tstr("tag:microsoft.com,2026:launch-measurement/v1");
}

TEST(Corim, TdxAndVbsFollowTheLaunchMeasurementProfile) {
  const std::string mrtd(96, 'b'), vbs(64, 'c');
  measure::ReferenceValues ref;
  measure::ReferenceDigest t;
  t.platform = "tdx";
  t.digest = unhexed(mrtd);
  ref.measurements.push_back(t);
  ref.measurements.push_back(t);  // the same MRTD twice (say, two hosts): one CoRIM, one digest
  measure::ReferenceDigest v;
  v.platform = "vbs";
  v.digest = unhexed(vbs);
  ref.measurements.push_back(v);
  Result<std::vector<PlatformCorim>> parts = fromReference(ref, "ignored");
  ASSERT_TRUE(parts.ok()) << parts.error().message;
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].platform, "tdx");
  EXPECT_EQ(hexOf((*parts)[0].document), launchCorimByHand("Intel", "TDX", "MRTD", 7, mrtd));
  EXPECT_EQ((*parts)[1].platform, "vbs");
  EXPECT_EQ(hexOf((*parts)[1].document),
            launchCorimByHand("Microsoft", "VBS", "MEASUREMENT", 1, vbs));
  // Two different MRTDs have no place in the profile; a VBS digest is SHA-256.
  ref.measurements[1].digest = unhexed(std::string(96, 'd'));
  EXPECT_THAT(fromReference(ref, "x"), HasRule("corim.digest"));
  ref.measurements.resize(1);
  ref.measurements.push_back(t);
  ref.measurements[1].platform = "vbs";
  EXPECT_THAT(fromReference(ref, "x"), HasRule("corim.digest"));
}

TEST(Corim, CarriesTheIdBlockIdentityAsTheProfileNamesIt) {
  measure::ReferenceValues ref;
  ref.measurements.push_back(snp(std::string(96, 'a')));
  measure::ReferenceDigest::IdBlockIdentity id;
  id.id_key_digest = unhexed(std::string(96, 'c'));
  id.author_key_digest = unhexed(std::string(96, 'd'));
  id.family_id = unhexed("00112233445566778899aabbccddeeff");
  id.image_id = unhexed("0102030405060708090a0b0c0d0e0f10");
  id.guest_svn = 300;
  id.guest_policy = 0x1f0000 | 0x0102;  // SMT (16), 17, MA (18), debug (19), single socket (20); ABI 1.2
  ref.measurements[0].id_block = id;
  Result<std::vector<PlatformCorim>> doc = fromReference(ref, "img");
  ASSERT_TRUE(doc.ok());
  Result<nlohmann::ordered_json> j = decode((*doc)[0].document);
  ASSERT_TRUE(j.ok()) << j.error().message;
  const auto& comid = (*j)["value"]["1"][0]["value"]["cbor"];
  const auto& claims = comid["4"]["0"][0][1];
  ASSERT_EQ(claims.size(), 4u);
  const auto& guest = claims[0]["1"];
  EXPECT_EQ(guest["0"]["0"], "0102030405060708090a0b0c0d0e0f10");            // IMAGE_ID
  EXPECT_EQ(guest["1"], (nlohmann::ordered_json{{"tag", 552}, {"value", 300}}));  // GUEST_SVN
  EXPECT_EQ(guest["2"][0][0], 7);
  EXPECT_EQ(guest["3"]["-1"], true);   // SMT allowed (bit 16)
  EXPECT_EQ(guest["3"]["-2"], true);   // migration agent (bit 18)
  EXPECT_EQ(guest["3"]["-3"], true);   // debug (bit 19)
  EXPECT_EQ(guest["3"]["3"], true);    // is-debug
  EXPECT_EQ(guest["3"]["-4"], true);   // single socket (bit 20)
  EXPECT_EQ(guest["3"]["-5"], false);
  EXPECT_EQ(guest["4"]["tag"], 560);
  EXPECT_EQ(guest["4"]["value"], "00112233445566778899aabbccddeeff");  // FAMILY_ID
  EXPECT_EQ(claims[1]["0"], 1);
  EXPECT_EQ(claims[1]["1"]["0"]["0"], "1.2.0");  // minimum ABI from POLICY[15:0]
  EXPECT_EQ(claims[2]["0"], 5);
  EXPECT_EQ(claims[2]["1"]["4"]["value"], std::string(96, 'c'));
  EXPECT_EQ(claims[3]["0"], 6);
  EXPECT_EQ(claims[3]["1"]["4"]["value"], std::string(96, 'd'));
}

TEST(Corim, CoseSign1VerifiesOverTheRfc9052SigStructure) {
  measure::ReferenceValues ref;
  ref.measurements.push_back(snp(std::string(96, 'e')));
  ByteVector doc = (*fromReference(ref, "s"))[0].document;
  std::unique_ptr<sign::Signer> signer = std::move(
      sign::openSigner("measure/testdata/id_key.pem", {}, [](const std::string& p) {
        return readFile(p);
      }).value());
  Result<SignedCorim> s = signCorim(doc, *signer);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_TRUE(verifyCorim(s->cose_sign1, {}, signer->publicKey()).ok());
  EXPECT_TRUE(verifyCorim(s->detached, doc, signer->publicKey()).ok());
  // The Sig_structure written by hand: ["Signature1", protected, h'', payload].
  Result<nlohmann::ordered_json> j = decode(s->cose_sign1);
  ASSERT_TRUE(j.ok());
  EXPECT_EQ((*j)["tag"], 18);
  const auto& prot = (*j)["value"][0]["cbor"];
  EXPECT_EQ(prot["1"], -35);
  EXPECT_EQ(prot["3"], "application/rim+cbor");
  Result<nlohmann::ordered_json> meta = decode(unhexed(prot["8"]));  // corim-meta
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ((*meta)["0"]["0"], "measure/testdata/id_key.pem");
  EXPECT_TRUE((*j)["value"][1].empty());
  // Re-derive: protected bytes are the first bstr after 0xd2 0x84.
  Bytes cose(s->cose_sign1);
  ASSERT_EQ(hexOf(cose.first(2)), "d284");
  size_t at = 2, len = 0;
  const auto b0 = static_cast<uint8_t>(cose[at]);
  if ((b0 & 0x1f) < 24) {
    len = b0 & 0x1f;
    at += 1;
  } else {
    len = static_cast<uint8_t>(cose[at + 1]);
    at += 2;
  }
  const std::string prot_hex = hexOf(cose.subspan(at, len));
  const std::string sig_structure =
      "84" + tstr("Signature1") + bstr(prot_hex) + "40" + bstr(hexOf(doc));
  const std::string rs = (*j)["value"][3];
  ASSERT_EQ(rs.size(), 192u);
  EXPECT_TRUE(measure::importSignature(unhexed(sig_structure), unhexed(rs), signer->publicKey()).ok());
  // The detached form is the same with the payload nil (0xf6), as OpenVMM checks it.
  Result<nlohmann::ordered_json> d = decode(s->detached);
  EXPECT_TRUE((*d)["value"][2].is_null());
  // Tampering with the payload, or another key, fails.
  ByteVector other = doc;
  other.back() ^= std::byte{1};
  EXPECT_THAT(verifyCorim(s->detached, other, signer->publicKey()),
              HasRule("corim.signature_invalid"));
  EXPECT_THAT(verifyCorim(toBytes("\x01"), {}, signer->publicKey()), HasRule("corim.cose"));
  EXPECT_THAT(decode(toBytes("\xa1")), HasRule("corim.cbor"));
  ByteVector trailing = doc;
  trailing.push_back(std::byte{0});
  EXPECT_THAT(decode(trailing), HasRule("corim.cbor"));
}

TEST(Corim, ReadsBackWhatItWrites) {
  measure::ReferenceValues ref;
  ref.measurements.push_back(snp(std::string(96, 'a')));
  measure::ReferenceDigest::IdBlockIdentity id;
  id.id_key_digest = unhexed(std::string(96, 'c'));
  id.family_id = unhexed("00112233445566778899aabbccddeeff");
  id.image_id = unhexed("0102030405060708090a0b0c0d0e0f10");
  id.guest_svn = 7;
  id.guest_policy = 0x3001f;  // SMT (16), reserved one (17), ABI 0.31
  ref.measurements[0].id_block = id;
  ref.measurements.push_back(snp(std::string(96, 'b')));  // another host model: no identity
  measure::ReferenceDigest t;
  t.platform = "tdx";
  t.digest = unhexed(std::string(96, 'e'));
  ref.measurements.push_back(t);
  measure::ReferenceDigest v;
  v.platform = "vbs";
  v.digest = unhexed(std::string(64, 'f'));
  ref.measurements.push_back(v);
  std::unique_ptr<sign::Signer> signer = std::move(
      sign::openSigner("measure/testdata/id_key.pem", {}, [](const std::string& p) {
        return readFile(p);
      }).value());
  Result<CorimFiles> signed_files = makeCorim(ref, "r", signer.get());
  ASSERT_TRUE(signed_files.ok()) << signed_files.error().message;
  Result<measure::ReferenceValues> back =
      readReference(signed_files->file, {.key = signer->publicKey()});
  ASSERT_TRUE(back.ok()) << back.error().message;
  ASSERT_EQ(back->measurements.size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(back->measurements[i].platform, ref.measurements[i].platform) << i;
    EXPECT_EQ(back->measurements[i].digest, ref.measurements[i].digest) << i;
  }
  ASSERT_TRUE(back->measurements[0].id_block.has_value());
  const auto& got = *back->measurements[0].id_block;
  EXPECT_EQ(got.id_key_digest, id.id_key_digest);
  EXPECT_FALSE(got.author_key_digest.has_value());
  EXPECT_EQ(got.family_id, id.family_id);
  EXPECT_EQ(got.image_id, id.image_id);
  EXPECT_EQ(got.guest_svn, 7u);
  EXPECT_EQ(got.guest_policy, 0x3001fu);
  EXPECT_FALSE(back->measurements[1].id_block.has_value());

  // A signed CoRIM needs the key; another key fails; an unsigned one needs unsigned_ok.
  EXPECT_THAT(readReference(signed_files->file, {}), HasRule("corim.key_required"));
  std::unique_ptr<sign::Signer> other = std::move(
      sign::openSigner("measure/testdata/author_key.pem", {}, [](const std::string& p) {
        return readFile(p);
      }).value());
  EXPECT_THAT(readReference(signed_files->file, {.key = other->publicKey()}),
              HasRule("corim.signature_invalid"));
  Result<CorimFiles> plain = makeCorim(ref, "r", nullptr);
  ASSERT_TRUE(plain.ok());
  EXPECT_THAT(readReference(plain->file, {}), HasRule("corim.unsigned"));
  Result<measure::ReferenceValues> unsigned_back =
      readReference(plain->file, {.key = std::nullopt, .unsigned_ok = true});
  ASSERT_TRUE(unsigned_back.ok()) << unsigned_back.error().message;
  EXPECT_EQ(unsigned_back->measurements.size(), 4u);
  // Not a CoRIM, or cut short.
  EXPECT_THAT(readReference(toBytes("\xa0"), {.key = std::nullopt, .unsigned_ok = true}), HasRule("corim.structure"));
  EXPECT_EQ(readReference(Bytes(plain->file).first(plain->file.size() - 1), {.key = std::nullopt, .unsigned_ok = true})
                .error()
                .rule,
            "corim.cbor");
}

TEST(Corim, EmbedsInIgvmCorimHeadersAndDecodesThem) {
  igvm::Model m;
  m.add(igvm::platformEntry(igvm::PlatformType::kSevSnp, 0x1));
  m.add(igvm::pageDataEntry(0x1000, 0x1, igvm::Blob(ByteVector(4096, std::byte{1}))));
  ByteVector bytes = *igvm::write(m, {.version = igvm::kFormatVersion1});
  igvm::File file = *igvm::File::parse(bytes);
  measure::ReferenceValues ref;
  ref.measurements.push_back(snp(std::string(96, 'f')));
  ByteVector doc = (*fromReference(ref, "e"))[0].document;
  Result<ByteVector> out = withCorim(file, 0x1, doc, std::nullopt);
  ASSERT_TRUE(out.ok()) << out.error().message;
  igvm::File with = *igvm::File::parse(*out);
  auto found = embedded(with);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].second["tag"], 501);
  // Embedding again replaces rather than adds.
  // igvm::File views its buffer: keep the re-embedded bytes alive while `again` is used.
  Result<ByteVector> again_bytes = withCorim(with, 0x1, doc, std::nullopt);
  ASSERT_TRUE(again_bytes.ok()) << again_bytes.error().message;
  igvm::File again = *igvm::File::parse(*again_bytes);
  EXPECT_EQ(embedded(again).size(), 1u);
}

}  // namespace
}  // namespace igvmkit::corim
