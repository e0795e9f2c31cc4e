// builder/internal/toml_reader.h: reading the manifest's TOML with positions in every error.
//
// TableReader reads one table: each get() marks its key known, finish() refuses the first key
// (in source order) nobody asked for. The typed getters (optU64, optSize, optBool, optString,
// optWord, optTable, tableArray, eachTable) return an empty optional for an absent key and a
// manifest.type / manifest.value error, at the value's line and column, for a wrong one. The
// section parsers check values after reading them and report through badKey() ("'<path>.<key>'
// <what>" at the value), checkPageAligned() or optU64()'s validating form, so every such error
// names its key one way:
//
//   TableReader r(t, "firmware");
//   IGVMKIT_ASSIGN_OR_RETURN(c.gpa, r.optSize("gpa"));
//   IGVMKIT_RETURN_IF_ERROR(r.checkPageAligned("gpa", c.gpa));  // 'firmware.gpa' 0x1001 is ...
//   IGVMKIT_RETURN_IF_ERROR(r.finish());
// checkText() runs before toml++ sees the text (well-formed UTF-8, and none of the characters
// toml++ 3.3 mishandles).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <toml++/toml.h>
#include <utility>
#include <vector>

#include "base/bytes.h"
#include "base/size.h"
#include "base/status.h"
#include "builder/layout.h"
#include "builder/manifest.h"

namespace igvmkit::builder::internal {

// A manifest.<rule> error at `region`'s line and column.
Error bad(std::string rule, std::string message, const toml::source_region& region);

// "an integer", "a table", ... for messages.
std::string_view typeName(toml::node_type t);

// Reads one TOML table: each get() marks its key as known; finish() rejects the first (in source
// order) key nobody asked for. `path` is the dotted name used in messages ("platform.snp").
class TableReader {
 public:
  TableReader(const toml::table& table, std::string path) : table_(table), path_(std::move(path)) {}

  const toml::table& table() const { return table_; }
  const std::string& path() const { return path_; }
  std::string keyPath(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  }

  const toml::node* get(std::string_view key) {
    known_.insert(std::string(key));
    return table_.get(key);
  }

  Status finish() const {
    const toml::key* first = nullptr;
    for (auto&& [key, node] : table_) {
      (void)node;
      if (known_.count(std::string(key.str())) != 0) {
        continue;
      }
      if (first == nullptr || key.source().begin.line < first->source().begin.line ||
          (key.source().begin.line == first->source().begin.line &&
           key.source().begin.column < first->source().begin.column)) {
        first = &key;
      }
    }
    if (first != nullptr) {
      std::string where = path_.empty() ? "at the top level" : "in [" + path_ + "]";
      return bad("unknown_key", "unknown key '" + std::string(first->str()) + "' " + where,
                 first->source());
    }
    return okStatus();
  }

  Error missing(std::string_view key) const {
    return bad("missing_key", "missing key '" + keyPath(key) + "'", table_.source());
  }

  // Where an error about `key` points: its value, or the table when the key is absent.
  const toml::source_region& sourceOf(std::string_view key) const {
    const toml::node* n = table_.get(key);
    return n != nullptr ? n->source() : table_.source();
  }

  // A manifest.<rule> error about `key`'s value, at it: "'<path>.<key>' <what>".
  Error badKey(std::string rule, std::string_view key, const std::string& what) const {
    return bad(std::move(rule), "'" + keyPath(key) + "' " + what, sourceOf(key));
  }

  // manifest.alignment at `key` when `value` is given and not a multiple of the page size.
  Status checkPageAligned(std::string_view key, std::optional<uint64_t> value) const {
    if (value && *value % layout::kPageSize != 0) {
      return badKey("alignment", key, hex(*value) + " is not page aligned");
    }
    return okStatus();
  }

  Error wrongType(std::string_view key, const toml::node& node, std::string_view want) const {
    return bad("type",
               "'" + keyPath(key) + "' must be " + std::string(want) + ", not " +
                   std::string(typeName(node.type())),
               node.source());
  }

  // `key`'s value when it is a `type` node, nullptr when absent; manifest.type ("'<key>' must be
  // <want>, not ...") when it holds something else.
  Result<const toml::node*> getTyped(std::string_view key, toml::node_type type,
                                     std::string_view want) {
    const toml::node* n = get(key);
    if (n != nullptr && n->type() != type) {
      return wrongType(key, *n, want);
    }
    return n;
  }

  Result<std::optional<uint64_t>> optU64(std::string_view key, uint64_t max) {
    IGVMKIT_ASSIGN_OR_RETURN(const toml::node* n,
                             getTyped(key, toml::node_type::integer, "an integer"));
    if (n == nullptr) {
      return std::optional<uint64_t>();
    }
    const int64_t v = n->as_integer()->get();
    if (v < 0 || static_cast<uint64_t>(v) > max) {
      return badKey("value", key, "= " + std::to_string(v) + " is out of range 0.." + hex(max));
    }
    return std::optional<uint64_t>(static_cast<uint64_t>(v));
  }

  // optU64(), and then `valid(value)` must hold: else manifest.value "'<path>.<key>' <what>".
  template <typename Valid>
  Result<std::optional<uint64_t>> optU64(std::string_view key, uint64_t max, Valid valid,
                                         const std::string& what) {
    IGVMKIT_ASSIGN_OR_RETURN(std::optional<uint64_t> v, optU64(key, max));
    if (v && !valid(*v)) {
      return badKey("value", key, what);
    }
    return v;
  }

  // An integer, or a string with a size suffix ("64M", "4G", "0x1000").
  Result<std::optional<uint64_t>> optSize(std::string_view key) {
    const toml::node* n = get(key);
    if (n == nullptr) {
      return std::optional<uint64_t>();
    }
    if (const auto* i = n->as_integer()) {
      if (i->get() < 0) {
        return badKey("value", key, "must not be negative");
      }
      return std::optional<uint64_t>(static_cast<uint64_t>(i->get()));
    }
    if (const auto* s = n->as_string()) {
      Result<uint64_t> v = parseSize(s->get());
      if (!v.ok()) {
        return bad("value", "'" + keyPath(key) + "': " + v.error().message, n->source());
      }
      return std::optional<uint64_t>(*v);
    }
    return wrongType(key, *n, "an integer or a size string");
  }

  Result<std::optional<bool>> optBool(std::string_view key) {
    IGVMKIT_ASSIGN_OR_RETURN(const toml::node* n,
                             getTyped(key, toml::node_type::boolean, "a boolean"));
    return n != nullptr ? std::optional<bool>(n->as_boolean()->get()) : std::nullopt;
  }

  Result<std::optional<std::string>> optString(std::string_view key) {
    IGVMKIT_ASSIGN_OR_RETURN(const toml::node* n,
                             getTyped(key, toml::node_type::string, "a string"));
    return n != nullptr ? std::optional<std::string>(n->as_string()->get()) : std::nullopt;
  }

  // One of `words`; returns its index.
  template <size_t N>
  Result<std::optional<size_t>> optWord(std::string_view key,
                                        const std::array<std::string_view, N>& words) {
    IGVMKIT_ASSIGN_OR_RETURN(std::optional<std::string> s, optString(key));
    if (!s) {
      return std::optional<size_t>();
    }
    for (size_t i = 0; i < N; ++i) {
      if (*s == words[i]) {
        return std::optional<size_t>(i);
      }
    }
    std::string list;
    for (size_t i = 0; i < N; ++i) {
      list += (i == 0 ? "" : ", ") + std::string(words[i]);
    }
    return badKey("value", key, "= \"" + *s + "\" is not one of " + list);
  }

  // A sub-table; nullptr when absent.
  Result<const toml::table*> optTable(std::string_view key) {
    IGVMKIT_ASSIGN_OR_RETURN(const toml::node* n, getTyped(key, toml::node_type::table, "a table"));
    return n != nullptr ? n->as_table() : nullptr;
  }

  // An array of tables ([[key]] sections or an inline array of inline tables).
  Result<std::vector<const toml::table*>> tableArray(std::string_view key) {
    std::vector<const toml::table*> out;
    IGVMKIT_ASSIGN_OR_RETURN(const toml::node* n,
                             getTyped(key, toml::node_type::array, "an array of tables"));
    if (n == nullptr) {
      return out;
    }
    for (const toml::node& e : *n->as_array()) {
      const auto* t = e.as_table();
      if (t == nullptr) {
        return bad("type",
                   "elements of '" + keyPath(key) + "' must be tables, not " +
                       std::string(typeName(e.type())),
                   e.source());
      }
      out.push_back(t);
    }
    return out;
  }

  // Each table of the array `key` (tableArray()) read by `read`, a callable taking the table
  // and returning Result<T>; the first error stops.
  template <typename T, typename Read>
  Result<std::vector<T>> eachTable(std::string_view key, Read read) {
    IGVMKIT_ASSIGN_OR_RETURN(std::vector<const toml::table*> tables, tableArray(key));
    std::vector<T> out;
    for (const toml::table* t : tables) {
      IGVMKIT_ASSIGN_OR_RETURN(T value, read(*t));
      out.push_back(std::move(value));
    }
    return out;
  }

 private:
  const toml::table& table_;
  std::string path_;
  std::set<std::string> known_;
};

// `path` relative to `base_dir` (the manifest's directory); absolute paths stay as they are.
std::string resolvePath(std::string_view base_dir, const std::string& path);

// A required, non-empty path without NUL characters, resolved against `base_dir`.
Result<std::string> requiredPath(TableReader& r, std::string_view key, std::string_view base_dir);

// An array of platform names, each at most once, sorted; absent = empty (every platform).
Result<PlatformList> platformList(TableReader& r, std::string_view key);

// The text is well-formed UTF-8 without the characters toml++ 3.3 mishandles (manifest.syntax).
Status checkText(std::string_view text);

}  // namespace igvmkit::builder::internal
