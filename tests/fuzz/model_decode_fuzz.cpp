// Fuzz target: the field decoders. The input is a RESP2 stream holding the replies of a model read
// (the hash, then each collection), as Redis would send them; it is decoded into the model with
// every field type, and into one with safe-load fields. Stored data that does not fit may only
// raise key_not_found or decode_error: any other exception escapes and fails the run.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "rapyer/detail/reply_reader.hpp"
#include "rapyer/error.hpp"
#include "test_models.hpp"

namespace {

template <class Model>
void decode_as(const std::vector<rapyer::reply>& replies) {
  std::vector<rapyer::reply> parts(
      replies.begin(), replies.begin() + static_cast<std::ptrdiff_t>(std::min(replies.size(), Model::read_size())));
  parts.resize(Model::read_size(), rapyer::reply::array({}));  // a missing collection reads as empty
  try {
    const Model model = Model::decode(Model::key_for("fuzz"), parts);
    (void)model;
  } catch (const rapyer::key_not_found&) {
  } catch (const rapyer::decode_error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  rapyer::detail::reply_reader reader;
  std::vector<rapyer::reply> replies;
  try {
    reader.feed(std::string_view(reinterpret_cast<const char*>(data), size));
    while (auto reply = reader.next()) replies.push_back(std::move(*reply));
  } catch (const rapyer::protocol_error&) {
    return 0;  // not a reply stream: the parser's target covers it
  }
  if (replies.empty()) return 0;
  decode_as<test_models::Everything>(replies);
  decode_as<test_models::Lenient>(replies);
  return 0;
}
