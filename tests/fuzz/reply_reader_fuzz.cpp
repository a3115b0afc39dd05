// Fuzz target: the RESP2 reply parser on arbitrary bytes. The first input byte chooses where the
// rest is split into chunks; the replies parsed from the chunks must equal those parsed from one
// piece, and malformed input may only ever raise protocol_error.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "rapyer/detail/reply_reader.hpp"
#include "rapyer/error.hpp"

namespace {

// Every reply parsed (as text), and whether the stream ended in a protocol error.
std::vector<std::string> parse(std::string_view bytes, unsigned split_seed) {
  rapyer::detail::reply_reader reader;
  std::vector<std::string> replies;
  std::size_t chunk_index = 0;
  try {
    while (!bytes.empty()) {
      const std::size_t chunk = split_seed == 0 ? bytes.size() : 1 + (split_seed * ++chunk_index) % 17;
      reader.feed(bytes.substr(0, chunk));
      bytes.remove_prefix(std::min(chunk, bytes.size()));
      while (auto reply = reader.next()) replies.push_back(reply->to_debug_string());
    }
  } catch (const rapyer::protocol_error&) {
    replies.emplace_back("<protocol error>");
  }
  return replies;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  const unsigned split_seed = 1u + data[0];
  if (parse(bytes, 0) != parse(bytes, split_seed)) std::abort();
  return 0;
}
