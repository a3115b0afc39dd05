#include "rapyer/request.hpp"

#include <array>
#include <charconv>
#include <stdexcept>

#include "rapyer/error.hpp"

namespace rapyer {
namespace {

// "<marker><count>\r\n": the header of a RESP array or bulk string.
template <class Buffer>
void write_header(Buffer& out, char marker, std::size_t count) {
  std::array<char, 24> header{};
  header[0] = marker;
  char* end = std::to_chars(header.data() + 1, header.data() + header.size() - 2, count).ptr;
  *end++ = '\r';
  *end++ = '\n';
  out.insert(out.end(), header.data(), end);
}

}  // namespace

void request::begin_command(std::string_view name, std::size_t arguments) {
  write_header(payload_, '*', 1 + arguments);
  write_header(payload_, '$', name.size());
  add_name({payload_.size(), name.size()});
  payload_.insert(payload_.end(), name.begin(), name.end());
  payload_.insert(payload_.end(), {'\r', '\n'});
}

void request::add_argument(std::string_view bytes) {
  write_header(payload_, '$', bytes.size());
  payload_.insert(payload_.end(), bytes.begin(), bytes.end());
  payload_.insert(payload_.end(), {'\r', '\n'});
}

request& request::push_argv(std::span<const detail::command_arg> argv) {
  if (argv.empty()) throw config_error("a command needs at least its name");
  begin_command(argv.front().view(), argv.size() - 1);
  for (const auto& arg : argv.subspan(1)) add_argument(arg.view());
  return *this;
}

request& request::append(const request& other) {
  const std::size_t shift = payload_.size();
  payload_.insert(payload_.end(), other.payload_.begin(), other.payload_.end());
  for (std::size_t i = 0; i < other.size_; ++i) {
    const name_bytes& name = i == 0 ? other.first_name_ : other.later_names_[i - 1];
    add_name({name.offset + shift, name.size});
  }
  return *this;
}

void request::add_name(name_bytes name) {
  if (size_ == 0) {
    first_name_ = name;
  } else {
    later_names_.push_back(name);
  }
  ++size_;
}

std::string request::command_name(std::size_t i) const {
  if (i >= size_) throw std::out_of_range("request::command_name: no such command");
  const name_bytes& name = i == 0 ? first_name_ : later_names_[i - 1];
  return {payload_.data() + name.offset, name.size};
}

}  // namespace rapyer
