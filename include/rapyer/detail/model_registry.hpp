// The registry of model classes by key head ("<prefix><Name>"), for rapyer::aget(key), and the
// SCAN that lists a class's keys.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rapyer/client.hpp"
#include "rapyer/detail/model_base.hpp"

namespace rapyer::detail {

using model_loader = awaitable<std::unique_ptr<model_base>> (*)(std::string key);

void register_model(std::string key_head, model_loader loader);
model_loader find_model_loader(std::string_view key);

/// Escapes glob metacharacters (* ? [ ] \) so that text matches itself in SCAN MATCH.
std::string glob_escape(std::string_view text);

/// SCAN 0.. MATCH pattern TYPE hash, until the cursor returns to 0 or `limit` keys are found.
awaitable<std::vector<std::string>> scan_model_keys(client& redis, std::string pattern,
                                                    std::optional<std::size_t> limit);

}  // namespace rapyer::detail
