#include "sign/signer.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "base/file.h"
#include "base/testing/matchers.h"

using ::igvmkit::testing::HasRule;
using ::igvmkit::testing::IsOk;
using ::igvmkit::testing::StatusIs;

namespace igvmkit::sign {
namespace {

constexpr const char* kIdKey = "measure/testdata/id_key.pem";
constexpr const char* kIdPub = "measure/testdata/id_key.pub.pem";
constexpr const char* kAuthorKey = "measure/testdata/author_key.pem";
constexpr const char* kP256Key = "measure/testdata/p256_key.pem";
constexpr const char* kSoftHsm = "/usr/lib/softhsm/libsofthsm2.so";

std::string tmp(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir != nullptr ? dir : "/tmp") + "/" + name;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void spit(const std::string& path, std::string_view text) {
  std::ofstream(path, std::ios::binary) << text;
}

int sh(const std::string& cmd, std::string* out = nullptr) {
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  std::string text;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) {
    text.append(buf, n);
  }
  if (out != nullptr) {
    *out = text;
  }
  int status = pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// An executable script in the test's temp directory.
std::string script(const std::string& name, const std::string& body) {
  const std::string path = tmp(name);
  spit(path, "#!/bin/sh\n" + body + "\n");
  chmod(path.c_str(), 0755);
  return path;
}

ReadKeyFile reader() {
  return [](const std::string& path) { return readFile(path); };
}

SignerOptions withPublicKey(const char* pem_path, std::string role = "id") {
  SignerOptions o;
  o.public_key_pem = slurp(pem_path);
  o.role = std::move(role);
  return o;
}

// The signature in DER, checked by the openssl command line tool under `pub_pem`.
bool opensslVerifies(Bytes message, const measure::SNP_ECDSA_SIGNATURE& sig,
                     const std::string& pub_pem) {
  Result<ByteVector> der = measure::signatureToDer(sig);
  if (!der.ok()) {
    return false;
  }
  spit(tmp("v_msg.bin"), std::string(reinterpret_cast<const char*>(message.data()), message.size()));
  spit(tmp("v_sig.der"), std::string(reinterpret_cast<const char*>(der->data()), der->size()));
  return sh("openssl dgst -sha384 -verify " + pub_pem + " -signature " + tmp("v_sig.der") + " " +
            tmp("v_msg.bin")) == 0;
}

TEST(PemSigner, SignsAndNamesItsPublicKey) {
  Result<std::unique_ptr<Signer>> s = openSigner(kIdKey, {}, reader());
  ASSERT_TRUE(s.ok()) << s.error().message;
  Result<measure::SNP_ECDSA_PUBLIC_KEY> pub = measure::publicKeyFromPem(slurp(kIdPub));
  ASSERT_TRUE(pub.ok());
  EXPECT_EQ(std::memcmp(&(*s)->publicKey(), &*pub, sizeof(*pub)), 0);
  Result<measure::SNP_ECDSA_SIGNATURE> sig = (*s)->sign(toBytes("hello"));
  ASSERT_TRUE(sig.ok()) << sig.error().message;
  EXPECT_TRUE(opensslVerifies(toBytes("hello"), *sig, kIdPub));
  EXPECT_EQ((*s)->name(), kIdKey);
}

TEST(PemSigner, RefusesWrongCurveEncryptedAndMismatchedKeys) {
  EXPECT_THAT(openSigner(kP256Key, {}, reader()), HasRule("id_block.key_type"));
  // A public key is not a signing key.
  EXPECT_THAT(openSigner(kIdPub, {}, reader()), HasRule("id_block.key_pem"));
  ASSERT_EQ(sh(std::string("openssl pkey -in ") + kIdKey + " -aes256 -passout pass:x -out " +
               tmp("enc.pem")),
            0);
  EXPECT_THAT(openSigner(tmp("enc.pem"), {}, reader()), HasRule("id_block.key_encrypted"));
  Result<std::unique_ptr<Signer>> mismatch = openSigner(kAuthorKey, withPublicKey(kIdPub), reader());
  EXPECT_THAT(mismatch, HasRule("sign.public_key_mismatch"));
  EXPECT_EQ(openSigner(tmp("missing.pem"), {}, reader()).error().code, Code::kUnreadable);
}

TEST(ExecSigner, OpensslInAScriptIsASigner) {
  const std::string prog = script("openssl-signer", std::string("[ \"$IGVMKIT_SIGN_ROLE\" = id ] || exit 9\n"
                                                                "exec openssl dgst -sha384 -sign ") +
                                                        kIdKey);
  Result<std::unique_ptr<Signer>> s = openSigner("exec:" + prog, withPublicKey(kIdPub), reader());
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ((*s)->name(), "exec:" + prog);
  Result<measure::SNP_ECDSA_SIGNATURE> sig = (*s)->sign(toBytes("to be signed"));
  ASSERT_TRUE(sig.ok()) << sig.error().message;
  EXPECT_TRUE(opensslVerifies(toBytes("to be signed"), *sig, kIdPub));
}

TEST(ExecSigner, RawRsOutputAndArguments) {
  // r || s: the two INTEGERs of the DER signature, each left-padded to 48 bytes.
  const std::string prog = script(
      "raw-signer",
      "openssl dgst -sha384 -sign \"$1\" > \"$2\" && python3 -c '\n"
      "import sys\n"
      "d = open(sys.argv[1], \"rb\").read()\n"
      "def integer(b, i):\n"
      "    assert b[i] == 2\n"
      "    n = b[i + 1]\n"
      "    return int.from_bytes(b[i + 2:i + 2 + n], \"big\"), i + 2 + n\n"
      "i = 3 if d[1] & 0x80 else 2\n"
      "r, i = integer(d, i)\n"
      "s, i = integer(d, i)\n"
      "sys.stdout.buffer.write(r.to_bytes(48, \"big\") + s.to_bytes(48, \"big\"))\n"
      "' \"$2\"");
  Result<std::unique_ptr<Signer>> s = openSigner(
      "exec:" + prog + " " + kIdKey + "  " + tmp("raw.der"), withPublicKey(kIdPub), reader());
  ASSERT_TRUE(s.ok()) << s.error().message;
  Result<measure::SNP_ECDSA_SIGNATURE> sig = (*s)->sign(toBytes("raw please"));
  ASSERT_TRUE(sig.ok()) << sig.error().message;
  EXPECT_TRUE(opensslVerifies(toBytes("raw please"), *sig, kIdPub));
}

TEST(ExecSigner, EachFailureIsOneClearError) {
  auto signWith = [](const std::string& body, SignerOptions options = withPublicKey(kIdPub)) {
    static int n = 0;
    const std::string prog = script("bad-signer-" + std::to_string(n++), body);
    Result<std::unique_ptr<Signer>> s = openSigner("exec:" + prog, options, reader());
    EXPECT_TRUE(s.ok());
    return (*s)->sign(toBytes("message")).status();
  };
  Status failed = signWith("cat >/dev/null; echo 'kms: permission denied' >&2; exit 3");
  ASSERT_FALSE(failed.ok());
  EXPECT_THAT(failed, HasRule("sign.exec_status"));
  EXPECT_NE(failed.error().message.find("exited with status 3"), std::string::npos);
  EXPECT_NE(failed.error().message.find("kms: permission denied"), std::string::npos);

  // The wrong key: the signature is refused before anyone uses it.
  Status wrong_key = signWith(std::string("exec openssl dgst -sha384 -sign ") + kAuthorKey);
  EXPECT_THAT(wrong_key, HasRule("id_block.signature_invalid"));
  EXPECT_THAT(signWith("cat >/dev/null; echo garbage"), HasRule("id_block.signature_der"));
  EXPECT_THAT(signWith("cat >/dev/null"), HasRule("sign.exec_output"));
  EXPECT_THAT(signWith("exec yes"), HasRule("sign.exec_output"));
  EXPECT_THAT(signWith("kill -9 $$"), HasRule("sign.exec_status"));
  // Exits without reading: its status says what happened, never SIGPIPE for us.
  EXPECT_THAT(signWith("exit 0"), HasRule("sign.exec_output"));

  // A signer that hangs, with a child that would hang too: killed at the timeout, promptly.
  SignerOptions quick = withPublicKey(kIdPub);
  quick.timeout = std::chrono::milliseconds(300);
  const auto start = std::chrono::steady_clock::now();
  Status hung = signWith("sleep 30 & sleep 30", quick);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_THAT(hung, HasRule("sign.exec_timeout"));
  EXPECT_NE(hung.error().message.find("300 ms"), std::string::npos) << hung.error().message;
  EXPECT_LT(took, std::chrono::seconds(5));

  Result<std::unique_ptr<Signer>> missing =
      openSigner("exec:/nonexistent/signer", withPublicKey(kIdPub), reader());
  ASSERT_TRUE(missing.ok());
  Status not_started = (*missing)->sign(toBytes("m")).status();
  EXPECT_THAT(not_started, HasRule("sign.exec_start"));
  EXPECT_EQ(not_started.error().code, Code::kUnreadable);

  Result<std::unique_ptr<Signer>> no_key = openSigner("exec:/bin/true", {}, reader());
  EXPECT_THAT(no_key, HasRule("sign.public_key_required"));
  EXPECT_EQ(no_key.error().code, Code::kUsage);
  EXPECT_THAT(openSigner("exec:  ", withPublicKey(kIdPub), reader()),
              HasRule("sign.exec_command"));
}

// A SoftHSM2 token initialised in the test's temp directory, with P-384 and P-256 key pairs
// generated inside it by OpenSC's pkcs11-tool.
class SoftHsm : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (sh("command -v softhsm2-util && command -v pkcs11-tool") != 0 ||
        access(kSoftHsm, R_OK) != 0 || sh("openssl engine pkcs11") != 0) {
      skip_ = "softhsm2, opensc (pkcs11-tool) or libengine-pkcs11-openssl is not installed "
              "(tools/setup installs them)";
      return;
    }
    const std::string dir = tmp("softhsm");
    sh("rm -rf " + dir + " && mkdir -p " + dir + "/tokens");
    spit(dir + "/softhsm2.conf", "directories.tokendir = " + dir +
                                     "/tokens\nobjectstore.backend = file\nlog.level = ERROR\n");
    setenv("SOFTHSM2_CONF", (dir + "/softhsm2.conf").c_str(), 1);
    std::string out;
    const std::string tool = std::string("pkcs11-tool --module ") + kSoftHsm +
                             " --token-label igvm --login --pin 1234 ";
    if (sh("softhsm2-util --init-token --free --label igvm --pin 1234 --so-pin 5678", &out) != 0 ||
        sh(tool + "--keypairgen --key-type EC:secp384r1 --label id --id 01", &out) != 0 ||
        sh(tool + "--keypairgen --key-type EC:prime256v1 --label p256 --id 02", &out) != 0 ||
        // The public key as libp11's OpenSSL engine reads it (OpenSC 0.23's --read-object cannot
        // export EC keys under OpenSSL 3): an independent reader of the token.
        sh(std::string("PKCS11_MODULE_PATH=") + kSoftHsm +
               " openssl pkey -engine pkcs11 -pubin -inform engine -in "
               "'pkcs11:token=igvm;object=id;type=public' -pubout -out " + dir + "/id.pub.pem",
           &out) != 0) {
      FAIL() << "could not set up the softhsm token: " << out;
    }
  }
  void SetUp() override {
    if (!skip_.empty()) {
      GTEST_SKIP() << skip_;
    }
  }
  static std::string uri(const std::string& path_attrs, const std::string& query) {
    return "pkcs11:" + path_attrs + "?module-path=" + kSoftHsm + (query.empty() ? "" : "&" + query);
  }
  static std::string pubPem() { return tmp("softhsm/id.pub.pem"); }
  static inline std::string skip_;
};

TEST_F(SoftHsm, SignsWithTheTokenKeyAndReadsItsPublicKey) {
  Result<std::unique_ptr<Signer>> s =
      openSigner(uri("token=igvm;object=id;type=private", "pin-value=1234"), {}, reader());
  ASSERT_THAT(s, IsOk());
  // The public key read from the token is the one pkcs11-tool exports.
  Result<measure::SNP_ECDSA_PUBLIC_KEY> exported = measure::publicKeyFromPem(slurp(pubPem()));
  ASSERT_TRUE(exported.ok()) << exported.error().message;
  EXPECT_EQ(std::memcmp(&(*s)->publicKey(), &*exported, sizeof(*exported)), 0);
  EXPECT_EQ((*s)->name(), "pkcs11:token=igvm;object=id;type=private");  // no PIN in messages
  for (int i = 0; i < 2; ++i) {  // the session stays usable
    Result<measure::SNP_ECDSA_SIGNATURE> sig = (*s)->sign(toBytes("token signs " + std::to_string(i)));
    ASSERT_TRUE(sig.ok()) << sig.error().message;
    EXPECT_TRUE(opensslVerifies(toBytes("token signs " + std::to_string(i)), *sig, pubPem()));
  }
  // By CKA_ID, with the PIN from a file, and the given public key cross-checked.
  spit(tmp("pin.txt"), "1234\n");
  SignerOptions o;
  o.public_key_pem = slurp(pubPem());
  Result<std::unique_ptr<Signer>> by_id =
      openSigner(uri("token=igvm;id=%01", "pin-source=file:" + tmp("pin.txt")), o, reader());
  ASSERT_TRUE(by_id.ok()) << by_id.error().message;
  o.public_key_pem = slurp(kIdPub);
  EXPECT_THAT(openSigner(uri("token=igvm;id=%01", "pin-value=1234"), o, reader()),
              HasRule("sign.public_key_mismatch"));
}

TEST_F(SoftHsm, LibP11EngineInAScriptIsAnExecSigner) {
  // The other route to a token: OpenSSL with libp11's pkcs11 engine, run as an exec: signer.
  const std::string prog = script(
      "engine-signer", std::string("PKCS11_MODULE_PATH=") + kSoftHsm +
                           " exec openssl dgst -sha384 -engine pkcs11 -keyform engine -sign "
                           "'pkcs11:token=igvm;object=id;type=private;pin-value=1234' 2>/dev/null");
  SignerOptions o;
  o.public_key_pem = slurp(pubPem());
  Result<std::unique_ptr<Signer>> s = openSigner("exec:" + prog, o, reader());
  ASSERT_TRUE(s.ok()) << s.error().message;
  Result<measure::SNP_ECDSA_SIGNATURE> sig = (*s)->sign(toBytes("engine"));
  ASSERT_THAT(sig, IsOk());
  EXPECT_TRUE(opensslVerifies(toBytes("engine"), *sig, pubPem()));
}

TEST_F(SoftHsm, FindsTheTokenThroughP11KitRegisteredModules) {
  // No module-path: p11-kit loads the registered modules (softhsm2 registers itself).
  Result<std::unique_ptr<Signer>> s =
      openSigner("pkcs11:token=igvm;object=id?pin-value=1234", {}, reader());
  ASSERT_THAT(s, IsOk());
  EXPECT_TRUE((*s)->sign(toBytes("via p11-kit")).ok());
}

TEST_F(SoftHsm, EachFailureIsOneClearError) {
  struct Case {
    std::string spec;
    std::string rule;
    Code code;
  } cases[] = {
      {uri("token=igvm;object=id", "pin-value=0000"), "sign.pkcs11_pin", Code::kInvalidInput},
      {uri("token=igvm;object=id", ""), "sign.pkcs11_pin", Code::kUsage},
      {uri("token=elsewhere;object=id", "pin-value=1234"), "sign.pkcs11_token", Code::kUnreadable},
      {uri("token=igvm;object=nothing", "pin-value=1234"), "sign.pkcs11_key", Code::kUnreadable},
      {uri("token=igvm", "pin-value=1234"), "sign.pkcs11_key", Code::kUsage},  // two keys
      {uri("token=igvm;object=p256", "pin-value=1234"), "id_block.key_type", Code::kInvalidInput},
      {uri("token=igvm;object=id;type=cert", "pin-value=1234"), "sign.pkcs11_uri", Code::kUsage},
      {"pkcs11:token=igvm;object=id?module-path=/nonexistent/module.so&pin-value=1234",
       "sign.pkcs11_module", Code::kUnreadable},
      {"pkcs11:token=igvm;bogus%zz", "sign.pkcs11_uri", Code::kUsage},
  };
  for (const Case& c : cases) {
    Result<std::unique_ptr<Signer>> s = openSigner(c.spec, {}, reader());
    ASSERT_FALSE(s.ok()) << c.spec;
    EXPECT_THAT(s, StatusIs(c.code, c.rule)) << c.spec << ": " << s.error().message;
    EXPECT_EQ(s.error().message.find("1234"), std::string::npos) << s.error().message;
  }
}

}  // namespace
}  // namespace igvmkit::sign
