#include "rapyer/request.hpp"

#include <hiredis/hiredis.h>

#include <new>

#include "rapyer/error.hpp"

namespace rapyer {

request& request::push_argv(std::span<const detail::command_arg> argv) {
  if (argv.empty()) throw config_error("a command needs at least its name");
  std::vector<const char*> pointers;
  std::vector<size_t> lengths;
  pointers.reserve(argv.size());
  lengths.reserve(argv.size());
  for (const auto& arg : argv) {
    pointers.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  char* encoded = nullptr;
  const auto length = redisFormatCommandArgv(&encoded, static_cast<int>(argv.size()), pointers.data(), lengths.data());
  if (length < 0 || encoded == nullptr) throw std::bad_alloc();
  payload_.append(encoded, static_cast<std::size_t>(length));
  redisFreeCommand(encoded);
  commands_.emplace_back(argv.front().view());
  return *this;
}

}  // namespace rapyer
