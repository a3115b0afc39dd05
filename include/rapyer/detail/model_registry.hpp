// The registry of model classes by key head ("<prefix><Name>"), for rapyer::aget(key), and the
// SCAN that lists a class's keys.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rapyer/client.hpp"
#include "rapyer/detail/key_layout.hpp"
#include "rapyer/detail/model_base.hpp"

namespace rapyer::detail {

/// What the registry knows of a model class: its client, its keys, and how to read a model of it by
/// key.
struct model_class {
  client& (*redis)();
  const key_layout& (*layout)();  // its id_of tells which keys are model keys of the class
  std::size_t (*read_size)();     // replies of append_read
  void (*append_read)(request& req, const std::string& key);
  void (*append_read_refresh)(request& req, const std::string& key);  // EXPIREs after the reads
  /// The model from append_read's replies; throws decode_error.
  std::unique_ptr<model_base> (*decode)(const std::string& key, std::span<const reply> replies);
};

void register_model(std::string key_head, const model_class& entry);
/// The class of a key "<prefix><Name>:{...}", if registered.
std::optional<model_class> find_model_class(std::string_view key);

/// Escapes glob metacharacters (* ? [ ] \) so that text matches itself in SCAN MATCH.
std::string glob_escape(std::string_view text);

/// SCAN 0.. MATCH pattern TYPE hash, until the cursor returns to 0 or `limit` keys are found.
awaitable<std::vector<std::string>> scan_model_keys(client& redis, std::string pattern,
                                                    std::optional<std::size_t> limit);
/// SCAN 0.. MATCH pattern, of every type, on every primary.
awaitable<std::vector<std::string>> scan_keys(client& redis, std::string pattern);

}  // namespace rapyer::detail
