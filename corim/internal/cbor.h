// corim/internal/cbor.h: what corim.cc (making, signing and dumping CoRIMs) and read.cc (reading
// reference values back) share: the profiles' constants and the libcbor plumbing.
#pragma once

#include <cbor.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"

namespace igvmkit::corim::detail {

// CBOR tags (IANA CBOR Tags registry, as the CoRIM draft assigns them).
inline constexpr uint64_t kTagUnsignedCorim = 501;  // tagged-unsigned-corim-map
inline constexpr uint64_t kTagComid = 506;          // tagged-concise-mid-tag
inline constexpr uint64_t kTagCoseSign1 = 18;       // RFC 9052
inline constexpr uint64_t kTagUri = 32;             // RFC 8949
inline constexpr uint64_t kTagUuid = 37;            // tagged-uuid-type
inline constexpr uint64_t kTagSvn = 552;            // tagged-svn
inline constexpr uint64_t kTagBytes = 560;          // tagged-bytes
inline constexpr uint64_t kNiSha256 = 1;            // Named Information hash algorithm registry
inline constexpr uint64_t kNiSha384 = 7;
inline constexpr int64_t kCoseEs384 = -35;  // COSE algorithms registry
// The profile's class for reports signed by a VCEK ("by chip"); a VLEK launch needs the by-CSP
// class, which the image alone cannot know.
inline constexpr uint8_t kSnpByChipClass[16] = {0xd0, 0x5e, 0x6d, 0x1b, 0x9f, 0x46, 0x4a, 0xe2,
                                                0xa6, 0x10, 0xce, 0x3e, 0x6e, 0xe7, 0xe1, 0x53};
inline constexpr const char* kSnpProfile = "http://amd.com/please-permalink-me";

// microsoft/igvm's launch-measurement profile (README.md "TDX and VBS"): one CoRIM per platform.
inline constexpr const char* kLaunchMeasurementProfile =
    "tag:microsoft.com,2026:launch-measurement/v1";
struct LaunchPlatform {
  const char* platform;  // ReferenceDigest::platform
  const char* vendor;
  const char* model;
  const char* mkey;
  uint64_t alg;
  size_t digest_size;
  // UUIDv5(85f3f1c2-22a8-441e-a1b9-bccfb63ed5f7, "vendor/model"), lower case (RFC 9562 §5.5).
  const char* tag_id;
};
inline constexpr LaunchPlatform kLaunchPlatforms[] = {
    {"tdx", "Intel", "TDX", "MRTD", kNiSha384, 48, "e0510081-7b78-5b2a-97a6-d73d890e07b6"},
    {"vbs", "Microsoft", "VBS", "MEASUREMENT", kNiSha256, 32,
     "2e29068e-e0fa-59e6-b0ff-3bfe09132e13"},
};

struct ItemDeleter {
  void operator()(cbor_item_t* item) const {
    if (item != nullptr) {
      cbor_decref(&item);
    }
  }
};
using Item = std::unique_ptr<cbor_item_t, ItemDeleter>;

// Item builders; each returns a new reference the caller hands on (cbor_move) or owns.
cbor_item_t* uint(uint64_t v);
cbor_item_t* sint(int64_t v);
cbor_item_t* bytes(Bytes b);
cbor_item_t* text(std::string_view s);
cbor_item_t* tag(uint64_t t, cbor_item_t* inner);
cbor_item_t* array(std::initializer_list<cbor_item_t*> items);

// A definite map built in ascending key order (deterministic encoding, RFC 8949 §4.2.1: small
// non-negative keys sort before negative ones, which is the order callers add them in).
class Map {
 public:
  Map() = default;
  Map(const Map&) = delete;
  Map& operator=(const Map&) = delete;
  Map& add(int64_t key, cbor_item_t* value) {
    pairs_.push_back({sint(key), value});
    return *this;
  }
  cbor_item_t* release() {
    cbor_item_t* m = cbor_new_definite_map(pairs_.size());
    for (auto& [k, v] : pairs_) {
      cbor_map_add(m, cbor_pair{cbor_move(k), cbor_move(v)});
    }
    pairs_.clear();
    return m;
  }
  ~Map() {
    for (auto& [k, v] : pairs_) {
      cbor_decref(&k);
      cbor_decref(&v);
    }
  }

 private:
  std::vector<std::pair<cbor_item_t*, cbor_item_t*>> pairs_;
};

// Encodes `raw` (taking it) in its deterministic form.
Result<ByteVector> serialize(cbor_item_t* raw);

// libcbor 0.8 (Debian 12) reports a tag around an array holding an empty map, such as a
// COSE_Sign1's `18([h'..', {}, ...])`, as malformed. Leading tag heads are therefore read here and
// put back around the item libcbor decodes.
// With `used`, trailing bytes are allowed and their start is returned there ("corim.cbor").
Result<Item> load(Bytes b, size_t* used = nullptr);

// A definite byte string's bytes (a view into the item).
Bytes bytesOf(const cbor_item_t* i);

}  // namespace igvmkit::corim::detail
