// attest/chain_cache.h: certificate chains verified once and reused across many verifications.
//
// A fleet's reports share a handful of chains (one ARK and ASK per product, one VCEK per chip and
// TCB), so `verify --batch` checks each distinct chain once: verifySnpReport() given a cache keys
// the chain checks (ARK pin and self-signature, ASK by ARK, VCEK/VLEK by ASK, path validation,
// validity, kind, CRLs) by the SHA-256 of everything they depend on (signing-key kind, product,
// each certificate's DER bytes, the verification time, the CRLs' bytes) and copies the stored
// checks on a hit. The report's own checks (TCB, hwID, signature, reference values) always run.
// Safe to share between threads; a key is computed by one thread while others asking wait.
//
//   attest::ChainCache cache;
//   ... verifySnpReport({.report = r, .certificates = certs, .at = at, .chain_cache = &cache}) ...
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "attest/verdict.h"

namespace igvmkit::attest {

class ChainCache {
 public:
  // The checks stored under `key`, computed with `compute` the first time `key` is asked for.
  std::vector<Check> get(const std::string& key,
                         const std::function<std::vector<Check>()>& compute);

  size_t computed() const { return computed_; }  // distinct chains verified
  size_t reused() const { return reused_; }      // verifications that reused one

 private:
  struct Entry {
    std::once_flag once;
    std::vector<Check> checks;
  };
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Entry>> entries_;
  std::atomic<size_t> computed_{0}, reused_{0};
};

}  // namespace igvmkit::attest
