// Lua scripts called by SHA1 (EVALSHA). The SHA is computed locally, so the first call needs no
// SCRIPT LOAD round trip; when the server answers NOSCRIPT (first use, SCRIPT FLUSH, restart) the
// request is resent once, preceded by SCRIPT LOAD, in a single round trip.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "rapyer/detail/command_interface.hpp"

namespace rapyer::detail {

std::string sha1_hex(std::string_view data);

class script {
 public:
  explicit script(std::string_view source) : source_(source), sha_(sha1_hex(source)) {}
  std::string_view source() const noexcept { return source_; }
  const std::string& sha() const noexcept { return sha_; }

  /// Appends `EVALSHA <sha> <#keys> keys... args...`.
  template <class Keys, class... Args>
  void push_call(request& req, const Keys& keys, const Args&... args) const {
    req.push("EVALSHA", sha_, std::ranges::size(keys), keys, args...);
  }

 private:
  std::string_view source_;
  std::string sha_;
};

/// True when the reply, or an element of an EXEC array, is a NOSCRIPT error.
bool has_noscript(const std::vector<reply>& replies);

/// Executes `req` on `target` (a client, connection or lease); on NOSCRIPT, loads `used` and
/// executes `req` again, once, in one round trip. Returns the replies of `req` only.
template <class Target>
awaitable<std::vector<reply>> execute_with_script(Target& target, const request& req, const script* used) {
  auto replies = co_await target.execute(req);
  if (used == nullptr || !has_noscript(replies)) co_return replies;
  request retry;
  retry.push("SCRIPT", "LOAD", used->source()).append(req);
  replies = co_await target.execute(retry);
  replies.erase(replies.begin());
  co_return replies;
}

}  // namespace rapyer::detail
