// The `execute(name, args...)` convenience shared by connection, client and connection_lease:
// each of them implements execute(request) and execute_one(request); this adds the variadic form.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <string_view>

#include "rapyer/reply.hpp"
#include "rapyer/request.hpp"

namespace rapyer {

template <class T>
using awaitable = boost::asio::awaitable<T>;

namespace detail {

template <class Derived>
class command_interface {
 public:
  /// Sends one command and returns its reply; an error reply throws server_error.
  /// `co_await conn.execute("SET", key, 42)`.
  template <command_argument... Args>
  awaitable<reply> execute(std::string_view command, const Args&... args) {
    request req;
    req.push(command, args...);
    return static_cast<Derived&>(*this).execute_one(std::move(req));
  }
};

}  // namespace detail
}  // namespace rapyer
