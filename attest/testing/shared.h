// attest/testing/shared.h: reading the real evidence under $IGVMKIT_SHARED/testdata/attest at
// test time (never copied into the project). Tests skip with a message when it is absent:
//   IGVMKIT_SHARED_OR_SKIP(dir);
//   ByteVector report = readShared(dir, "amd/snp/snp01_milan_v2_gosev/attestation.bin");
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "base/bytes.h"

namespace igvmkit::attest::testing {

// $IGVMKIT_SHARED/testdata/attest when it exists.
std::optional<std::string> sharedAttestDir();

// The file's bytes; fails the current test (and returns empty) when it cannot be read.
ByteVector readShared(const std::string& dir, const std::string& relative);

}  // namespace igvmkit::attest::testing

#define IGVMKIT_SHARED_OR_SKIP(var)                                                       \
  std::string var;                                                                        \
  if (auto shared_dir_ = ::igvmkit::attest::testing::sharedAttestDir()) {                 \
    var = *shared_dir_;                                                                   \
  } else {                                                                                \
    GTEST_SKIP() << "IGVMKIT_SHARED is unset or has no testdata/attest: real evidence is " \
                    "not available";                                                      \
  }
