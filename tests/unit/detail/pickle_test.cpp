// The pickle codec against pickles CPython 3.11 wrote (pickle.dumps, copied here as hex), and its
// refusals of everything else.
#include "rapyer/detail/pickle.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace rapyer::detail::pickle {
namespace {

std::string from_hex(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  }
  return out;
}

std::string to_hex(std::string_view raw) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (const char c : raw) {
    out += digits[static_cast<unsigned char>(c) >> 4];
    out += digits[static_cast<unsigned char>(c) & 15];
  }
  return out;
}

bytes to_bytes(std::string_view raw) {
  bytes out;
  for (const char c : raw) out.push_back(static_cast<std::byte>(c));
  return out;
}

// Expects decode to fail with decode_failure whose message contains `part`.
void expect_refused(const std::string& pickled, const std::string& part) {
  try {
    decode(pickled);
    ADD_FAILURE() << "decoded " << to_hex(pickled) << " where a refusal mentioning '" << part << "' was expected";
  } catch (const decode_failure& e) {
    EXPECT_NE(std::string(e.what()).find(part), std::string::npos)
        << "message '" << e.what() << "' does not mention '" << part << "'";
  }
}

struct vector_case {
  value v;
  const char* hex;  // pickle.dumps(v) of CPython 3.11.7
};

const std::vector<vector_case>& python_vectors() {
  static const std::vector<vector_case> cases = {
      {true, "8004882e"},
      {false, "8004892e"},
      {none{}, "80044e2e"},
      {std::int64_t{0}, "80044b002e"},
      {std::int64_t{1}, "80044b012e"},
      {std::int64_t{128}, "80044b802e"},
      {std::int64_t{255}, "80044bff2e"},
      {std::int64_t{256}, "80049504000000000000004d00012e"},
      {std::int64_t{65535}, "80049504000000000000004dffff2e"},
      {std::int64_t{65536}, "80049506000000000000004a000001002e"},
      {std::int64_t{-1}, "80049506000000000000004affffffff2e"},
      {std::int64_t{-129}, "80049506000000000000004a7fffffff2e"},
      {std::int64_t{-256}, "80049506000000000000004a00ffffff2e"},
      {std::int64_t{2147483647}, "80049506000000000000004affffff7f2e"},
      {std::int64_t{-2147483648}, "80049506000000000000004a000000802e"},
      {std::int64_t{2147483648}, "80049508000000000000008a0500000080002e"},
      {std::int64_t{-2147483649}, "80049508000000000000008a05ffffff7fff2e"},
      {std::int64_t{4294967296}, "80049508000000000000008a0500000000012e"},
      {std::numeric_limits<std::int64_t>::max(), "8004950b000000000000008a08ffffffffffffff7f2e"},
      {std::numeric_limits<std::int64_t>::min(), "8004950b000000000000008a0800000000000000802e"},
      {1.5, "8004950a00000000000000473ff80000000000002e"},
      {0.0, "8004950a000000000000004700000000000000002e"},
      {-0.0, "8004950a000000000000004780000000000000002e"},
      {0.1, "8004950a00000000000000473fb999999999999a2e"},
      {1e308, "8004950a00000000000000477fe1ccf385ebc8a02e"},
      {std::numeric_limits<double>::infinity(), "8004950a00000000000000477ff00000000000002e"},
      {std::numeric_limits<double>::quiet_NaN(), "8004950a00000000000000477ff80000000000002e"},
      {bytes{}, "80049504000000000000004300942e"},
      {to_bytes("hi"), "800495060000000000000043026869942e"},
      {to_bytes(std::string("\x00\xff", 2)), "8004950600000000000000430200ff942e"},
      {std::string(), "80049504000000000000008c00942e"},
      {std::string("x"), "80049505000000000000008c0178942e"},
      {std::string("h\xc3\xa9llo \xe2\x82\xac\xf0\x9f\x98\x80"),
       "80049512000000000000008c0e68c3a96c6c6f20e282acf09f9880942e"},
  };
  return cases;
}

bool same_value(const value& a, const value& b) {
  const auto* x = std::get_if<double>(&a);
  const auto* y = std::get_if<double>(&b);
  if (x != nullptr && y != nullptr) return std::bit_cast<std::uint64_t>(*x) == std::bit_cast<std::uint64_t>(*y);
  return a == b;
}

TEST(Pickle, EncodesExactlyWhatPython311Writes) {
  for (const auto& c : python_vectors()) EXPECT_EQ(to_hex(encode(c.v)), c.hex);
}

TEST(Pickle, DecodesWhatPython311Writes) {
  for (const auto& c : python_vectors()) {
    EXPECT_TRUE(same_value(decode(from_hex(c.hex)), c.v)) << c.hex;
  }
}

TEST(Pickle, TheReferenceTableInBase64) {
  EXPECT_EQ(encode_base64(true), "gASILg==");
  EXPECT_EQ(encode_base64(false), "gASJLg==");
  EXPECT_EQ(encode_base64(to_bytes("hi")), "gASVBgAAAAAAAABDAmhplC4=");
  EXPECT_EQ(encode_base64(bytes{}), "gASVBAAAAAAAAABDAJQu");
  EXPECT_EQ(encode_base64(std::int64_t{1}), "gARLAS4=");
  EXPECT_EQ(encode_base64(1.5), "gASVCgAAAAAAAABHP/gAAAAAAAAu");
  EXPECT_EQ(encode_base64(std::string("x")), "gASVBQAAAAAAAACMAXiULg==");
  EXPECT_EQ(decode_base64("gASILg=="), value(true));
  EXPECT_EQ(decode_base64("gASVBgAAAAAAAABDAmhplC4="), value(to_bytes("hi")));
  EXPECT_EQ(decode_base64("gASVBQAAAAAAAACMAXiULg=="), value(std::string("x")));
}

TEST(Pickle, Base64ThatIsNotBase64IsADecodeFailure) {
  EXPECT_THROW(decode_base64("gASILg="), decode_failure);
  EXPECT_THROW(decode_base64("gAS*Lg=="), decode_failure);
  EXPECT_THROW(decode_base64("gA==SILg"), decode_failure);
}

// Sizes where the length field or the framing changes; the payload is "a" repeated.
TEST(Pickle, LongPayloadsTakeWiderLengthsAndFromSixtyFourKiBNoFrame) {
  struct long_case {
    std::size_t size;
    const char* bytes_head;
    const char* str_head;
  };
  const long_case cases[] = {
      {255, "800495030100000000000043ff", "80049503010000000000008cff"},
      {256, "80049507010000000000004200010000", "80049507010000000000005800010000"},
      {65535, "800495060001000000000042ffff0000", "800495060001000000000058ffff0000"},
      {65536, "80044200000100", "80045800000100"},
  };
  for (const auto& c : cases) {
    const std::string payload(c.size, 'a');
    const std::string as_bytes = from_hex(c.bytes_head) + payload + from_hex("942e");
    const std::string as_str = from_hex(c.str_head) + payload + from_hex("942e");
    EXPECT_EQ(encode(to_bytes(payload)), as_bytes) << c.size;
    EXPECT_EQ(encode(payload), as_str) << c.size;
    EXPECT_EQ(decode(as_bytes), value(to_bytes(payload))) << c.size;
    EXPECT_EQ(decode(as_str), value(payload)) << c.size;
  }
}

TEST(Pickle, EncodedValuesDecodeToThemselves) {
  for (const std::int64_t n : {std::int64_t{-65536}, std::int64_t{-65537}, std::int64_t{1} << 40,
                               -(std::int64_t{1} << 40), std::int64_t{-128} << 48, std::int64_t{127} << 56}) {
    EXPECT_EQ(decode(encode(n)), value(n)) << n;
  }
  for (const double d : {5e-324, -1e308, -std::numeric_limits<double>::infinity()}) {
    EXPECT_TRUE(same_value(decode(encode(d)), d)) << d;
  }
}

// Other protocols' pickles of the same values, from CPython 3.11 (pickle.dumps(v, protocol)).
TEST(Pickle, ReadsProtocolsTwoToFive) {
  EXPECT_EQ(decode(from_hex("8002882e")), value(true));
  EXPECT_EQ(decode(from_hex("80024e2e")), value(none{}));
  EXPECT_EQ(decode(from_hex("800258010000007871002e")), value(std::string("x")));  // BINUNICODE, BINPUT
  EXPECT_EQ(decode(from_hex("8002473ff80000000000002e")), value(1.5));
  EXPECT_EQ(decode(from_hex("80024d2c012e")), value(std::int64_t{300}));
  EXPECT_EQ(decode(from_hex("80028a060000000000012e")), value(std::int64_t{1} << 40));
  EXPECT_EQ(decode(from_hex("80034302686971002e")), value(to_bytes("hi")));
  EXPECT_EQ(decode(from_hex("8003882e")), value(true));
  EXPECT_EQ(decode(from_hex("8005882e")), value(true));
  EXPECT_EQ(decode(from_hex("800595060000000000000043026869942e")), value(to_bytes("hi")));
  EXPECT_EQ(decode(from_hex("80059509000000000000008a060000000000012e")), value(std::int64_t{1} << 40));
  // A protocol 5 bytearray reads as bytes.
  EXPECT_EQ(decode(from_hex("8005950d000000000000009602000000000000006162942e")), value(to_bytes("ab")));
}

TEST(Pickle, ReadsTheOtherFormsOfTheSameValues) {
  EXPECT_EQ(decode(from_hex("800358010000007872000000002e")), value(std::string("x")));  // LONG_BINPUT
  EXPECT_EQ(decode(from_hex("80048a002e")), value(std::int64_t{0}));                     // LONG1 of no bytes
  EXPECT_EQ(decode(from_hex("80048a09ffffffffffffffffff2e")), value(std::int64_t{-1}));  // sign-extended
  EXPECT_EQ(decode(from_hex("80048b030000000102032e")), value(std::int64_t{0x030201}));  // LONG4
  EXPECT_EQ(decode(from_hex("80048e02000000000000006162942e")), value(to_bytes("ab")));  // BINBYTES8
  EXPECT_EQ(decode(from_hex("80048d0100000000000000782e")), value(std::string("x")));    // BINUNICODE8
  EXPECT_EQ(decode(from_hex("800442020000006162942e")), value(to_bytes("ab")));          // unframed BINBYTES
}

TEST(Pickle, IntsBeyondSixtyFourBitsAreRefused) {
  expect_refused(from_hex("8004950c000000000000008a090000000000000000012e"), "does not fit in 64 bits");  // 2**64
  expect_refused(from_hex("80048a090000000000000080002e"), "does not fit in 64 bits");                    // 2**63
  expect_refused(from_hex("80048a09ffffffffffffff7fff2e"), "does not fit in 64 bits");                    // -2**63 - 1
  expect_refused(from_hex("80048bffffffff2e"), "LONG4 at offset 2 has a negative length");
}

TEST(Pickle, ClassReferencesAreRefusedByName) {
  // class Color(enum.Enum): RED = 1, defined in __main__; pickle.dumps(Color.RED)
  expect_refused(from_hex("8004951c000000000000008c085f5f6d61696e5f5f948c05436f6c6f729493944b01859452942e"),
                 "STACK_GLOBAL at offset 30 refers to the Python class or function __main__.Color (enum members are "
                 "pickled so): only None, bool, int, float, str and bytes can be decoded");
  // pickle.dumps(b"hi", 2): protocol 2 writes bytes as a call of _codecs.encode.
  expect_refused(
      from_hex("8002635f636f646563730a656e636f64650a710058020000006869710158060000006c6174696e3171028671035271042e"),
      "GLOBAL at offset 2 refers to the Python class or function _codecs.encode");
  // Without the names in place the refusal still says what it is.
  expect_refused(from_hex("8004932e"), "STACK_GLOBAL at offset 2 refers to a Python class or function");
  expect_refused(from_hex("800463616263"), "GLOBAL at offset 2 refers to a Python class or function");
}

TEST(Pickle, OtherOpcodesAreRefusedByName) {
  expect_refused(from_hex("80045d942e"), "EMPTY_LIST at offset 2 is not supported: only None, bool");
  expect_refused(from_hex("80044b014b0286942e"), "TUPLE2 at offset 6");
  expect_refused(from_hex("80044b01522e"), "REDUCE at offset 4");
  expect_refused(from_hex("8004550178942e"), "SHORT_BINSTRING at offset 2");
  expect_refused(from_hex("8004492e"), "INT at offset 2 is not supported");  // a protocol 0 form
  expect_refused(from_hex("8004ff2e"), "unknown opcode 0xff at offset 2");
  expect_refused(from_hex("80044b0180042e"), "PROTO at offset 4: only allowed at the start");
}

TEST(Pickle, MalformedPicklesAreRefused) {
  expect_refused("", "does not start with PROTO");
  expect_refused(from_hex("882e"), "does not start with PROTO");
  expect_refused(from_hex("8001882e"), "protocol 1 where 2 to 5 was expected");
  expect_refused(from_hex("8006882e"), "protocol 6");
  expect_refused(from_hex("80042e"), "STOP at offset 2 with 0 values where one was expected");
  expect_refused(from_hex("800488892e"), "STOP at offset 4 with 2 values");
  expect_refused(from_hex("80048889882e"), "a third value at offset 4 (a container, a tuple or a call): only None");
  expect_refused(from_hex("8004942e"), "MEMOIZE at offset 2 with no value to store");
  expect_refused(from_hex("80047100882e"), "BINPUT at offset 2 with no value to store");
  expect_refused(from_hex("8004882e2e"), "1 bytes after STOP at offset 3");
  expect_refused(from_hex("800488"), "truncated: no STOP after offset 3");
}

TEST(Pickle, EveryTruncationIsRefused) {
  for (const auto& c : python_vectors()) {
    const std::string whole = from_hex(c.hex);
    for (std::size_t size = 0; size < whole.size(); ++size) {
      EXPECT_THROW(decode(whole.substr(0, size)), decode_failure) << c.hex << " cut at " << size;
    }
  }
}

TEST(Pickle, LengthsBeyondTheInputAreRefusedWithoutOverflow) {
  expect_refused(from_hex("80048effffffffffffffff2e"),
                 "truncated at offset 11: 18446744073709551615 bytes needed, 1 left");
  expect_refused(from_hex("80048dffffffffffffff7f2e"), "truncated at offset 11");
  expect_refused(from_hex("800442ffffffff2e"), "truncated at offset 7: 4294967295 bytes needed");
  expect_refused(from_hex("800495ffffffffffffffff882e"),
                 "FRAME at offset 2 of 18446744073709551615 bytes, only 2 left");
}

TEST(Pickle, FramesBoundTheirOpcodes) {
  // The frame ends inside SHORT_BINBYTES.
  expect_refused(from_hex("800495020000000000000043026869942e"), "an opcode crosses the end of its frame at offset 13");
  expect_refused(from_hex("8004950a0000000000000095000000000000000088"), "FRAME at offset 11 inside another frame");
  // After its frame ends, a pickle may go on unframed.
  EXPECT_EQ(decode(from_hex("800495040000000000000043026869942e")), value(to_bytes("hi")));
}

}  // namespace
}  // namespace rapyer::detail::pickle
