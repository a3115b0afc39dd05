// Lua scripts called by SHA1 (EVALSHA). The SHA is computed locally, so the first call needs no
// SCRIPT LOAD round trip; when the server answers NOSCRIPT (first use, SCRIPT FLUSH, restart) the
// request is resent once, preceded by SCRIPT LOAD, in a single round trip.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rapyer/detail/command_interface.hpp"

namespace rapyer::detail {

std::string sha1_hex(std::string_view data);

class script {
 public:
  explicit script(std::string source) : source_(std::move(source)), sha_(sha1_hex(source_)) {}
  std::string_view source() const noexcept { return source_; }
  const std::string& sha() const noexcept { return sha_; }

  /// Appends `EVALSHA <sha> <#keys> keys... args...`.
  template <class Keys, class... Args>
  void push_call(request& req, const Keys& keys, const Args&... args) const {
    req.push("EVALSHA", sha_, std::ranges::size(keys), keys, args...);
  }

 private:
  std::string source_;
  std::string sha_;
};

/// True when the reply is a NOSCRIPT error.
bool is_noscript(const reply& r);
/// True when the reply, or an element of an EXEC array, is a NOSCRIPT error.
bool has_noscript(const std::vector<reply>& replies);

/// Executes `req` preceded by SCRIPT LOAD of `used` and `also` (either may be null), in one round
/// trip. Returns the replies of `req` only.
template <class Target>
awaitable<std::vector<reply>> execute_loading_first(Target& target, const request& req, const script* used,
                                                    const script* also = nullptr) {
  request loaded;
  std::size_t loads = 0;
  for (const script* s : {used, also}) {
    if (s == nullptr) continue;
    loaded.push("SCRIPT", "LOAD", s->source());
    ++loads;
  }
  loaded.append(req);
  auto replies = co_await target.execute(loaded);
  replies.erase(replies.begin(), replies.begin() + static_cast<std::ptrdiff_t>(loads));
  co_return replies;
}

/// Executes `req` on `target` (a client, connection or lease); on NOSCRIPT, executes it again,
/// once, preceded by SCRIPT LOAD of `used`. Only for requests that had no effect when the script
/// was missing, or whose effects repeat safely.
template <class Target>
awaitable<std::vector<reply>> execute_with_script(Target& target, const request& req, const script* used) {
  auto replies = co_await target.execute(req);
  if (used == nullptr || !has_noscript(replies)) co_return replies;
  co_return co_await execute_loading_first(target, req, used);
}

}  // namespace rapyer::detail
