#include <array>
#include <chrono>
#include <cstdio>

#include "rapyer/detail/codec.hpp"
#include "rapyer/error.hpp"

namespace rapyer::detail {
namespace {

constexpr std::string_view base64_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int parse_digits(std::string_view text, std::size_t at, std::size_t count) {
  int value = 0;
  for (std::size_t i = at; i < at + count; ++i) {
    if (text[i] < '0' || text[i] > '9')
      throw decode_failure("'" + std::string(text.substr(0, 64)) + "' is not an ISO-8601 time");
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

}  // namespace

std::string format_time_point(time_point value) {
  using namespace std::chrono;
  const auto micros = floor<microseconds>(value);
  const auto day = floor<days>(micros);
  const year_month_day date(day);
  const hh_mm_ss<microseconds> time(micros - day);
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02uT%02d:%02d:%02d.%06lldZ", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                static_cast<int>(time.seconds().count()), static_cast<long long>(time.subseconds().count()));
  return buffer;
}

time_point parse_time_point(std::string_view text) {
  using namespace std::chrono;
  // YYYY-MM-DDTHH:MM:SS[.ffffff]Z (a "+00:00" suffix is accepted for UTC too)
  const auto fail = [&] {
    return decode_failure("'" + std::string(text.substr(0, 64)) + "' is not an ISO-8601 UTC time");
  };
  if (text.size() < 20 || text[4] != '-' || text[7] != '-' || (text[10] != 'T' && text[10] != ' ') || text[13] != ':' ||
      text[16] != ':') {
    throw fail();
  }
  const year_month_day date{year(parse_digits(text, 0, 4)), month(static_cast<unsigned>(parse_digits(text, 5, 2))),
                            day(static_cast<unsigned>(parse_digits(text, 8, 2)))};
  const int h = parse_digits(text, 11, 2), m = parse_digits(text, 14, 2), s = parse_digits(text, 17, 2);
  if (!date.ok() || h > 23 || m > 59 || s > 60) throw fail();
  std::size_t at = 19;
  long long micros = 0;
  if (at < text.size() && text[at] == '.') {
    std::size_t digits = 0;
    for (++at; at < text.size() && text[at] >= '0' && text[at] <= '9'; ++at, ++digits) {
      if (digits < 6) micros = micros * 10 + (text[at] - '0');
    }
    if (digits == 0) throw fail();
    for (; digits < 6; ++digits) micros *= 10;
  }
  const std::string_view zone = text.substr(at);
  if (zone != "Z" && zone != "+00:00") throw fail();
  // Years 0000-9999 fit in microseconds; system_clock's nanoseconds span only 1678-2262.
  const microseconds since_epoch =
      sys_days(date).time_since_epoch() + hours(h) + minutes(m) + seconds(s) + microseconds(micros);
  if (since_epoch < ceil<microseconds>(system_clock::duration::min()) ||
      since_epoch > floor<microseconds>(system_clock::duration::max())) {
    throw decode_failure("'" + std::string(text.substr(0, 64)) + "' is outside the range of system_clock");
  }
  return time_point(duration_cast<system_clock::duration>(since_epoch));
}

std::string format_epoch_seconds(time_point value) {
  const long long micros = std::chrono::floor<std::chrono::microseconds>(value).time_since_epoch().count();
  const unsigned long long magnitude = micros < 0 ? 0ULL - static_cast<unsigned long long>(micros) : micros;
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%s%llu.%06llu", micros < 0 ? "-" : "", magnitude / 1000000,
                magnitude % 1000000);
  return buffer;
}

time_point parse_epoch_seconds(std::string_view text) {
  const auto fail = [&] {
    return decode_failure("'" + std::string(text.substr(0, 64)) + "' is not epoch seconds (e.g. 1700000000.123456)");
  };
  std::size_t at = 0;
  const bool negative = !text.empty() && text[0] == '-';
  if (negative) ++at;
  long long seconds = 0;
  std::size_t digits = 0;
  for (; at < text.size() && text[at] >= '0' && text[at] <= '9'; ++at, ++digits) {
    if (digits == 12) throw fail();  // beyond what a system_clock time_point holds
    seconds = seconds * 10 + (text[at] - '0');
  }
  long long micros = 0;
  int fraction_digits = 0;
  bool round_up = false;
  if (at < text.size() && text[at] == '.') {
    for (++at; at < text.size() && text[at] >= '0' && text[at] <= '9'; ++at, ++fraction_digits) {
      if (fraction_digits < 6) micros = micros * 10 + (text[at] - '0');
      if (fraction_digits == 6) round_up = text[at] >= '5';
    }
    if (fraction_digits == 0) throw fail();
  }
  if (digits == 0 || at != text.size()) throw fail();
  for (int d = fraction_digits; d < 6; ++d) micros *= 10;
  long long total = seconds * 1000000 + micros + (round_up ? 1 : 0);
  if (negative) total = -total;
  // system_clock counts nanoseconds in 64 bits: about 292 years either side of 1970.
  if (total > 9'000'000'000'000'000LL || total < -9'000'000'000'000'000LL) throw fail();
  return time_point(std::chrono::duration_cast<time_point::duration>(std::chrono::microseconds(total)));
}

std::string base64_encode(std::string_view raw) {
  std::string out;
  out.reserve((raw.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < raw.size(); i += 3) {
    const unsigned n = (static_cast<unsigned char>(raw[i]) << 16) | (static_cast<unsigned char>(raw[i + 1]) << 8) |
                       static_cast<unsigned char>(raw[i + 2]);
    for (int shift : {18, 12, 6, 0}) out += base64_alphabet[(n >> shift) & 63];
  }
  if (i < raw.size()) {
    unsigned n = static_cast<unsigned char>(raw[i]) << 16;
    if (i + 1 < raw.size()) n |= static_cast<unsigned char>(raw[i + 1]) << 8;
    out += base64_alphabet[(n >> 18) & 63];
    out += base64_alphabet[(n >> 12) & 63];
    out += i + 1 < raw.size() ? base64_alphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) throw decode_failure("invalid base64 length");
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    unsigned n = 0;
    int padding = 0;
    for (std::size_t j = 0; j < 4; ++j) {
      const char c = text[i + j];
      unsigned digit = 0;
      if (c == '=' && i + 4 == text.size() && j >= 2) {
        ++padding;
      } else if (const auto at = base64_alphabet.find(c); at != std::string_view::npos && padding == 0) {
        digit = static_cast<unsigned>(at);
      } else {
        throw decode_failure("invalid base64");
      }
      n = (n << 6) | digit;
    }
    out += static_cast<char>((n >> 16) & 255);
    if (padding < 2) out += static_cast<char>((n >> 8) & 255);
    if (padding < 1) out += static_cast<char>(n & 255);
  }
  return out;
}

std::string dump_json(const json& value) {
  try {
    return value.dump();
  } catch (const json::exception& e) {
    throw encode_error(std::string("cannot write JSON: ") + e.what());
  }
}

json parse_json(std::string_view text) {
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    throw decode_failure("invalid JSON: " + std::string(e.what()));
  }
}

void throw_json_type(const json& value, std::string_view expected) {
  throw decode_failure("JSON " + std::string(value.type_name()) + " where " + std::string(expected) + " was expected");
}

}  // namespace rapyer::detail
