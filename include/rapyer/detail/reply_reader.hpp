// Sans-IO RESP2 parser: bytes in, owned replies out. hiredis's reader does the parsing;
// its object callbacks build rapyer::reply trees directly, so no reply is converted twice.
#pragma once

#include <optional>
#include <string_view>

#include "rapyer/reply.hpp"

struct redisReader;

namespace rapyer::detail {

class reply_reader {
 public:
  reply_reader();
  ~reply_reader();
  reply_reader(const reply_reader&) = delete;
  reply_reader& operator=(const reply_reader&) = delete;

  /// Appends received bytes; they may end anywhere, even mid-reply.
  void feed(std::string_view bytes);
  /// The next complete reply, or nullopt when more bytes are needed.
  /// Throws protocol_error on malformed input; the reader must then be reset().
  std::optional<reply> next();
  /// Drops buffered bytes and any partial reply (after a reconnect or protocol error).
  void reset();

 private:
  reply root_;  // the reply being built; next() moves it out once complete
  redisReader* reader_;
};

}  // namespace rapyer::detail
