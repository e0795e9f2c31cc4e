// corim_from_json REF.json OUT.cbor [KEY.pem]: the CoRIM of a reference-values JSON document, as
// `build --corim` writes it (signed with KEY.pem when given). For tests that need a CoRIM holding
// values of real evidence (cli/corim_expect_test.sh), which no IGVM image here measures to.
#include <iostream>
#include <memory>

#include "base/file.h"
#include "corim/corim.h"
#include "measure/reference.h"
#include "sign/signer.h"

int main(int argc, char** argv) {
  using namespace igvmkit;
  if (argc != 3 && argc != 4) {
    std::cerr << "usage: corim_from_json REF.json OUT.cbor [KEY.pem]\n";
    return 2;
  }
  Result<std::string> text = readTextFile(argv[1]);
  Result<measure::ReferenceValues> ref = text.ok() ? measure::ReferenceValues::fromJson(*text)
                                                   : Result<measure::ReferenceValues>(text.error());
  if (!ref.ok()) {
    std::cerr << "error: " << argv[1] << ": " << ref.error().message << "\n";
    return 1;
  }
  std::unique_ptr<sign::Signer> signer;
  if (argc == 4) {
    Result<std::unique_ptr<sign::Signer>> s =
        sign::openSigner(argv[3], {}, [](const std::string& p) { return readFile(p); });
    if (!s.ok()) {
      std::cerr << "error: " << argv[3] << ": " << s.error().message << "\n";
      return 1;
    }
    signer = std::move(s).value();
  }
  Result<corim::CorimFiles> files = corim::makeCorim(*ref, "test", signer.get());
  if (!files.ok()) {
    std::cerr << "error: " << files.error().message << "\n";
    return 1;
  }
  if (Status w = writeFile(argv[2], files->file); !w.ok()) {
    std::cerr << "error: " << argv[2] << ": " << w.error().message << "\n";
    return 1;
  }
  return 0;
}
