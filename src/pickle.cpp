#include "rapyer/detail/pickle.hpp"

#include <bit>
#include <cstdio>
#include <limits>
#include <vector>

namespace rapyer::detail::pickle {
namespace {

// The opcodes the codec writes or reads.
namespace op {
constexpr unsigned char stop = '.';
constexpr unsigned char binint = 'J';
constexpr unsigned char binint1 = 'K';
constexpr unsigned char binint2 = 'M';
constexpr unsigned char none = 'N';
constexpr unsigned char binunicode = 'X';
constexpr unsigned char binbytes = 'B';
constexpr unsigned char short_binbytes = 'C';
constexpr unsigned char binfloat = 'G';
constexpr unsigned char global = 'c';
constexpr unsigned char binput = 'q';
constexpr unsigned char long_binput = 'r';
constexpr unsigned char proto = 0x80;
constexpr unsigned char newtrue = 0x88;
constexpr unsigned char newfalse = 0x89;
constexpr unsigned char long1 = 0x8a;
constexpr unsigned char long4 = 0x8b;
constexpr unsigned char short_binunicode = 0x8c;
constexpr unsigned char binunicode8 = 0x8d;
constexpr unsigned char binbytes8 = 0x8e;
constexpr unsigned char stack_global = 0x93;
constexpr unsigned char memoize = 0x94;
constexpr unsigned char frame = 0x95;
constexpr unsigned char bytearray8 = 0x96;
}  // namespace op

// Every opcode of protocols 0 to 5 by its pickletools name, so that a refusal says what it found.
struct opcode_name_entry {
  unsigned char code;
  const char* name;
};
constexpr opcode_name_entry opcode_names[] = {
    {'(', "MARK"},
    {'.', "STOP"},
    {'0', "POP"},
    {'1', "POP_MARK"},
    {'2', "DUP"},
    {'F', "FLOAT"},
    {'I', "INT"},
    {'J', "BININT"},
    {'K', "BININT1"},
    {'L', "LONG"},
    {'M', "BININT2"},
    {'N', "NONE"},
    {'P', "PERSID"},
    {'Q', "BINPERSID"},
    {'R', "REDUCE"},
    {'S', "STRING"},
    {'T', "BINSTRING"},
    {'U', "SHORT_BINSTRING"},
    {'V', "UNICODE"},
    {'X', "BINUNICODE"},
    {'a', "APPEND"},
    {'b', "BUILD"},
    {'c', "GLOBAL"},
    {'d', "DICT"},
    {'}', "EMPTY_DICT"},
    {'e', "APPENDS"},
    {'g', "GET"},
    {'h', "BINGET"},
    {'i', "INST"},
    {'j', "LONG_BINGET"},
    {'l', "LIST"},
    {']', "EMPTY_LIST"},
    {'o', "OBJ"},
    {'p', "PUT"},
    {'q', "BINPUT"},
    {'r', "LONG_BINPUT"},
    {'s', "SETITEM"},
    {'t', "TUPLE"},
    {')', "EMPTY_TUPLE"},
    {'u', "SETITEMS"},
    {'G', "BINFLOAT"},
    {'B', "BINBYTES"},
    {'C', "SHORT_BINBYTES"},
    {0x80, "PROTO"},
    {0x81, "NEWOBJ"},
    {0x82, "EXT1"},
    {0x83, "EXT2"},
    {0x84, "EXT4"},
    {0x85, "TUPLE1"},
    {0x86, "TUPLE2"},
    {0x87, "TUPLE3"},
    {0x88, "NEWTRUE"},
    {0x89, "NEWFALSE"},
    {0x8a, "LONG1"},
    {0x8b, "LONG4"},
    {0x8c, "SHORT_BINUNICODE"},
    {0x8d, "BINUNICODE8"},
    {0x8e, "BINBYTES8"},
    {0x8f, "EMPTY_SET"},
    {0x90, "ADDITEMS"},
    {0x91, "FROZENSET"},
    {0x92, "NEWOBJ_EX"},
    {0x93, "STACK_GLOBAL"},
    {0x94, "MEMOIZE"},
    {0x95, "FRAME"},
    {0x96, "BYTEARRAY8"},
    {0x97, "NEXT_BUFFER"},
    {0x98, "READONLY_BUFFER"},
};

// CPython frames the body (everything after PROTO) only from this size on.
constexpr std::size_t frame_size_min = 4;
// CPython writes a bytes or str payload at least this long outside any frame.
constexpr std::size_t frame_size_target = std::size_t{64} * 1024;

std::string opcode_name(unsigned char code) {
  for (const auto& entry : opcode_names) {
    if (entry.code == code) return entry.name;
  }
  char text[24];
  std::snprintf(text, sizeof text, "unknown opcode 0x%02x", code);
  return text;
}

void put_little_endian(std::string& out, std::uint64_t number, std::size_t size) {
  for (std::size_t i = 0; i < size; ++i) out += static_cast<char>((number >> (8 * i)) & 0xff);
}

// Two's complement, little-endian, in as few bytes as hold the sign: what LONG1 carries.
std::string long_bytes(std::int64_t number) {
  std::string out;
  put_little_endian(out, static_cast<std::uint64_t>(number), 8);
  while (out.size() > 1) {
    const auto top = static_cast<unsigned char>(out.back());
    const bool next_negative = (static_cast<unsigned char>(out[out.size() - 2]) & 0x80) != 0;
    if ((top == 0x00 && !next_negative) || (top == 0xff && next_negative)) {
      out.pop_back();
    } else {
      break;
    }
  }
  return out;
}

void put_int(std::string& out, std::int64_t number) {
  if (number >= 0 && number <= 0xff) {
    out += static_cast<char>(op::binint1);
    put_little_endian(out, static_cast<std::uint64_t>(number), 1);
  } else if (number >= 0 && number <= 0xffff) {
    out += static_cast<char>(op::binint2);
    put_little_endian(out, static_cast<std::uint64_t>(number), 2);
  } else if (number >= std::numeric_limits<std::int32_t>::min() && number <= std::numeric_limits<std::int32_t>::max()) {
    out += static_cast<char>(op::binint);
    put_little_endian(out, static_cast<std::uint64_t>(number), 4);
  } else {
    const std::string digits = long_bytes(number);
    out += static_cast<char>(op::long1);
    out += static_cast<char>(digits.size());
    out += digits;
  }
}

// The opcode with the smallest length field that holds the size: 1, 4 or 8 bytes.
void put_sized(std::string& out, std::string_view payload, unsigned char op1, unsigned char op4, unsigned char op8) {
  if (payload.size() <= 0xff) {
    out += static_cast<char>(op1);
    put_little_endian(out, payload.size(), 1);
  } else if (payload.size() <= 0xffffffff) {
    out += static_cast<char>(op4);
    put_little_endian(out, payload.size(), 4);
  } else {
    out += static_cast<char>(op8);
    put_little_endian(out, payload.size(), 8);
  }
  out += payload;
}

[[noreturn]] void fail(const std::string& reason) { throw decode_failure("pickle: " + reason); }

std::string printable(std::string_view text) {
  constexpr std::size_t limit = 64;
  std::string out;
  for (const char c : text.substr(0, limit)) {
    const auto byte = static_cast<unsigned char>(c);
    out += byte >= 0x20 && byte < 0x7f ? c : '?';
  }
  if (text.size() > limit) out += "...";
  return out;
}

// Reads one pickle, opcode by opcode, on a stack of the values read so far.
class reader {
 public:
  explicit reader(std::string_view input) : input_(input) {}

  value run() {
    read_protocol();
    while (true) {
      if (in_frame() && at_ == frame_end_) frame_end_ = no_frame;
      const std::size_t offset = at_;
      if (at_ == input_.size()) fail("truncated: no STOP after offset " + std::to_string(offset));
      const auto code = static_cast<unsigned char>(take(1)[0]);
      if (code == op::stop) return finish(offset);
      step(code, offset);
    }
  }

 private:
  static constexpr std::size_t no_frame = std::numeric_limits<std::size_t>::max();

  bool in_frame() const noexcept { return frame_end_ != no_frame; }

  void read_protocol() {
    if (input_.size() < 2 || static_cast<unsigned char>(input_[0]) != op::proto) {
      fail("not a pickle of protocol 2 to 5 (it does not start with PROTO)");
    }
    const auto version = static_cast<unsigned char>(input_[1]);
    if (version < 2 || version > 5) fail("protocol " + std::to_string(version) + " where 2 to 5 was expected");
    at_ = 2;
  }

  std::string_view take(std::uint64_t size) {
    const std::size_t end = in_frame() ? frame_end_ : input_.size();
    if (size > end - at_) {
      fail(std::string(in_frame() ? "an opcode crosses the end of its frame" : "truncated") + " at offset " +
           std::to_string(at_) + ": " + std::to_string(size) + " bytes needed, " + std::to_string(end - at_) + " left");
    }
    const std::string_view part = input_.substr(at_, static_cast<std::size_t>(size));
    at_ += part.size();
    return part;
  }

  std::uint64_t take_unsigned(std::size_t size) {
    const std::string_view part = take(size);
    std::uint64_t number = 0;
    for (std::size_t i = 0; i < size; ++i) number |= std::uint64_t{static_cast<unsigned char>(part[i])} << (8 * i);
    return number;
  }

  void step(unsigned char code, std::size_t offset) {
    switch (code) {
      case op::frame:
        return open_frame(offset);
      case op::memoize:
        return memo_put(code, offset);
      case op::binput:
        take(1);
        return memo_put(code, offset);
      case op::long_binput:
        take(4);
        return memo_put(code, offset);
      case op::none:
        return push(offset, none{});
      case op::newtrue:
        return push(offset, true);
      case op::newfalse:
        return push(offset, false);
      case op::binint1:
        return push(offset, static_cast<std::int64_t>(take_unsigned(1)));
      case op::binint2:
        return push(offset, static_cast<std::int64_t>(take_unsigned(2)));
      case op::binint:
        return push(offset, std::int64_t{static_cast<std::int32_t>(take_unsigned(4))});
      case op::long1:
        return push(offset, long_value(take(take_unsigned(1)), offset));
      case op::long4: {
        const auto size = static_cast<std::int32_t>(take_unsigned(4));
        if (size < 0) fail("LONG4 at offset " + std::to_string(offset) + " has a negative length");
        return push(offset, long_value(take(static_cast<std::uint64_t>(size)), offset));
      }
      case op::binfloat:
        return push(offset, std::bit_cast<double>(take_big_endian_64()));
      case op::short_binunicode:
        return push(offset, std::string(take(take_unsigned(1))));
      case op::binunicode:
        return push(offset, std::string(take(take_unsigned(4))));
      case op::binunicode8:
        return push(offset, std::string(take(take_unsigned(8))));
      case op::short_binbytes:
        return push(offset, to_bytes(take(take_unsigned(1))));
      case op::binbytes:
        return push(offset, to_bytes(take(take_unsigned(4))));
      case op::binbytes8:
      case op::bytearray8:
        return push(offset, to_bytes(take(take_unsigned(8))));
      case op::proto:
        fail("PROTO at offset " + std::to_string(offset) + ": only allowed at the start");
      case op::global:
        fail("GLOBAL at offset " + std::to_string(offset) + " refers to " + global_name() + only_simple);
      case op::stack_global:
        fail("STACK_GLOBAL at offset " + std::to_string(offset) + " refers to " + stack_global_name() + only_simple);
      default:
        fail(opcode_name(code) + " at offset " + std::to_string(offset) + " is not supported" + only_simple);
    }
  }

  void open_frame(std::size_t offset) {
    if (in_frame()) fail("FRAME at offset " + std::to_string(offset) + " inside another frame");
    const std::uint64_t size = take_unsigned(8);
    if (size > input_.size() - at_) {
      fail("FRAME at offset " + std::to_string(offset) + " of " + std::to_string(size) + " bytes, only " +
           std::to_string(input_.size() - at_) + " left");
    }
    frame_end_ = at_ + static_cast<std::size_t>(size);
  }

  void memo_put(unsigned char code, std::size_t offset) const {
    // A single value is never fetched back from the memo: storing it needs no memo.
    if (stack_.empty()) {
      fail(opcode_name(code) + " at offset " + std::to_string(offset) + " with no value to store");
    }
  }

  std::uint64_t take_big_endian_64() {
    const std::string_view part = take(8);
    std::uint64_t number = 0;
    for (const char c : part) number = (number << 8) | static_cast<unsigned char>(c);
    return number;
  }

  // LONG1/LONG4 digits: little-endian two's complement, any length; only 64-bit values fit.
  static std::int64_t long_value(std::string_view digits, std::size_t offset) {
    if (digits.empty()) return 0;
    const bool negative = (static_cast<unsigned char>(digits.back()) & 0x80) != 0;
    const unsigned char extension = negative ? 0xff : 0x00;
    const std::size_t kept = std::min<std::size_t>(digits.size(), 8);
    bool fits = digits.size() <= 8 || ((static_cast<unsigned char>(digits[7]) & 0x80) != 0) == negative;
    for (std::size_t i = kept; fits && i < digits.size(); ++i)
      fits = static_cast<unsigned char>(digits[i]) == extension;
    if (!fits) {
      fail("the int at offset " + std::to_string(offset) + " (" + std::to_string(digits.size()) +
           " bytes) does not fit in 64 bits");
    }
    std::uint64_t number = negative ? ~std::uint64_t{0} : 0;
    for (std::size_t i = 0; i < kept; ++i) {
      number &= ~(std::uint64_t{0xff} << (8 * i));
      number |= std::uint64_t{static_cast<unsigned char>(digits[i])} << (8 * i);
    }
    return static_cast<std::int64_t>(number);
  }

  static bytes to_bytes(std::string_view raw) {
    bytes out(raw.size());
    for (std::size_t i = 0; i < raw.size(); ++i) out[i] = static_cast<std::byte>(raw[i]);
    return out;
  }

  // GLOBAL's operand: "module\nname\n".
  std::string global_name() const {
    const std::string_view rest = input_.substr(at_);
    const std::size_t first = rest.find('\n');
    const std::size_t second = first == std::string_view::npos ? first : rest.find('\n', first + 1);
    if (second == std::string_view::npos) return "a Python class or function (enum members are pickled so)";
    return "the Python class or function " + printable(rest.substr(0, first)) + "." +
           printable(rest.substr(first + 1, second - first - 1)) + " (enum members are pickled so)";
  }

  // STACK_GLOBAL takes module and name from the two str values below it.
  std::string stack_global_name() const {
    const std::size_t size = stack_.size();
    if (size >= 2) {
      const auto* module = std::get_if<std::string>(&stack_[size - 2]);
      const auto* name = std::get_if<std::string>(&stack_[size - 1]);
      if (module != nullptr && name != nullptr) {
        return "the Python class or function " + printable(*module) + "." + printable(*name) +
               " (enum members are pickled so)";
      }
    }
    return "a Python class or function (enum members are pickled so)";
  }

  value finish(std::size_t offset) {
    if (stack_.size() != 1) {
      fail("STOP at offset " + std::to_string(offset) + " with " + std::to_string(stack_.size()) +
           " values where one was expected");
    }
    if (at_ != input_.size()) {
      fail(std::to_string(input_.size() - at_) + " bytes after STOP at offset " + std::to_string(offset));
    }
    return std::move(stack_.back());
  }

  // One value is all a simple pickle holds; two are names STACK_GLOBAL may take. Refusing a third
  // bounds the memory a hostile input costs to about twice its size.
  void push(std::size_t offset, value v) {
    if (stack_.size() == 2) {
      fail("a third value at offset " + std::to_string(offset) + " (a container, a tuple or a call)" + only_simple);
    }
    stack_.push_back(std::move(v));
  }

  static constexpr const char* only_simple = ": only None, bool, int, float, str and bytes can be decoded";

  std::string_view input_;
  std::size_t at_ = 0;
  std::size_t frame_end_ = no_frame;
  std::vector<value> stack_;
};

}  // namespace

std::string encode(const value& v) {
  std::string body;
  std::size_t payload_size = 0;
  if (std::holds_alternative<none>(v)) {
    body += static_cast<char>(op::none);
  } else if (const auto* flag = std::get_if<bool>(&v)) {
    body += static_cast<char>(*flag ? op::newtrue : op::newfalse);
  } else if (const auto* number = std::get_if<std::int64_t>(&v)) {
    put_int(body, *number);
  } else if (const auto* real = std::get_if<double>(&v)) {
    body += static_cast<char>(op::binfloat);
    const auto bits = std::bit_cast<std::uint64_t>(*real);
    for (int shift = 56; shift >= 0; shift -= 8) body += static_cast<char>((bits >> shift) & 0xff);
  } else if (const auto* text = std::get_if<std::string>(&v)) {
    put_sized(body, *text, op::short_binunicode, op::binunicode, op::binunicode8);
    body += static_cast<char>(op::memoize);
    payload_size = text->size();
  } else {
    const auto& raw = std::get<bytes>(v);
    put_sized(body, std::string_view(reinterpret_cast<const char*>(raw.data()), raw.size()), op::short_binbytes,
              op::binbytes, op::binbytes8);
    body += static_cast<char>(op::memoize);
    payload_size = raw.size();
  }
  body += static_cast<char>(op::stop);

  std::string out{static_cast<char>(op::proto), 4};
  // A large payload goes out unframed, and what follows it (MEMOIZE, STOP) is too short to frame.
  if (body.size() >= frame_size_min && payload_size < frame_size_target) {
    out += static_cast<char>(op::frame);
    put_little_endian(out, body.size(), 8);
  }
  return out + body;
}

value decode(std::string_view pickled) { return reader(pickled).run(); }

std::string encode_base64(const value& v) { return base64_encode(encode(v)); }

value decode_base64(std::string_view text) { return decode(base64_decode(text)); }

}  // namespace rapyer::detail::pickle
