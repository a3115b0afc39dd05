// The default client, like the Python original's init_rapyer(url): models without a client of
// their own in their model_config use it. One process-wide default, and optionally one per thread
// for services that run an io_context per thread (a client belongs to one executor).
#pragma once

#include <memory>
#include <string_view>

#include "rapyer/client.hpp"

namespace rapyer {

/// Connects a client to `url` on the calling coroutine's executor and makes it the default.
awaitable<void> init(std::string_view url);
/// Makes an existing client the default. Call it before other threads use models.
void init(std::shared_ptr<client> redis);
/// Closes and forgets the default client.
void teardown();

/// Connects a client to `url` on the calling coroutine's executor and makes it the default of
/// the calling thread only; it takes precedence over the process-wide one on this thread.
awaitable<void> init_thread(std::string_view url);
/// Makes an existing client the calling thread's default.
void init_thread(std::shared_ptr<client> redis);
/// Closes and forgets the calling thread's default; the process-wide one applies again.
void teardown_thread();

/// The calling thread's default client, else the process-wide one; throws usage_error if neither.
client& default_client();

}  // namespace rapyer
