// The process-wide default client, like the Python original's init_rapyer(url): models without a
// client of their own in their model_config use it.
#pragma once

#include <memory>
#include <string_view>

#include "rapyer/client.hpp"

namespace rapyer {

/// Connects a client to `url` on the calling coroutine's executor and makes it the default.
awaitable<void> init(std::string_view url);
/// Makes an existing client the default.
void init(std::shared_ptr<client> redis);
/// Closes and forgets the default client.
void teardown();
/// The default client; throws usage_error before init.
client& default_client();

}  // namespace rapyer
