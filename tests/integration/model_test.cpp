#include "rapyer/model.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "rapyer/rapyer.hpp"
#include "rapyer/testing/embedded_server.hpp"
#include "test_models.hpp"
#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;
using namespace test_models;
using rapyer::awaitable;
using rapyer::reply;

class ModelTest : public rapyer::test::model_test {};

Everything filled_everything() {
  Everything e;
  e.text = "héllo wörld ✓";
  e.flag = true;
  e.i8 = -128;
  e.u8 = 255;
  e.i16 = -32768;
  e.u16 = 65535;
  e.i32 = std::numeric_limits<std::int32_t>::min();
  e.u32 = std::numeric_limits<std::uint32_t>::max();
  e.i64 = std::numeric_limits<std::int64_t>::min();
  e.u64 = std::numeric_limits<std::uint64_t>::max();
  e.f32 = 0.1f;
  e.f64 = 1e-300;
  e.color = Color::blue;
  e.level = Level::high;
  e.maybe_number = 0;
  e.maybe_address = Address{"Paris", 75001, "Rue de Rivoli"};
  e.when = time_point(std::chrono::microseconds(1732400000123456LL));
  e.blob = {std::byte{0}, std::byte{0xff}, std::byte{'\r'}, std::byte{'\n'}};
  e.address = Address{"Tel Aviv", 61000, std::nullopt};
  e.numbers = {1, -2, 3};
  e.queue = {"a", "", "c"};
  e.weights = {{"pi", 3.141592653589793}, {"tenth", 0.1}};
  e.counts = {{"x", 1}, {"y", -1}};
  e.unique = {3, 1, 2};
  e.labels = {"l1", "l2"};
  e.addresses = {Address{"A", 1, "s"}, Address{"B", 2, std::nullopt}};
  e.point = Point{1.5, -0.1};
  e.p_str = "proxy string";
  e.p_int = std::numeric_limits<long long>::max();
  e.p_float = 1e308;
  e.p_bool = true;
  e.p_bytes = rapyer::RedisBytes(std::string_view("\x00\x01 raw", 6));
  e.p_time = time_point(std::chrono::microseconds(-1000001));
  e.p_stamp = time_point(std::chrono::microseconds(-1000001));
  e.p_addresses = std::vector<Address>{Address{"C", 3, std::nullopt}};
  e.p_doubles = std::vector<double>{0.1, 1e308, -1e-300, 5e-324};
  e.p_counts = std::map<std::string, int>{{"k:1", 1}, {"k.2 ü", 2}};
  e.p_ids =
      std::set<std::int64_t>{std::numeric_limits<std::int64_t>::min(), 0, std::numeric_limits<std::int64_t>::max()};
  return e;
}

void expect_same(const Everything& a, const Everything& b) {
  EXPECT_EQ(a.text, b.text);
  EXPECT_EQ(a.flag, b.flag);
  EXPECT_EQ(a.i8, b.i8);
  EXPECT_EQ(a.u8, b.u8);
  EXPECT_EQ(a.i16, b.i16);
  EXPECT_EQ(a.u16, b.u16);
  EXPECT_EQ(a.i32, b.i32);
  EXPECT_EQ(a.u32, b.u32);
  EXPECT_EQ(a.i64, b.i64);
  EXPECT_EQ(a.u64, b.u64);
  EXPECT_EQ(a.f32, b.f32);
  EXPECT_EQ(a.f64, b.f64);
  EXPECT_EQ(a.color, b.color);
  EXPECT_EQ(a.level, b.level);
  EXPECT_EQ(a.maybe_number, b.maybe_number);
  EXPECT_EQ(a.maybe_address, b.maybe_address);
  EXPECT_EQ(a.when, b.when);
  EXPECT_EQ(a.blob, b.blob);
  EXPECT_EQ(a.address, b.address);
  EXPECT_EQ(a.numbers, b.numbers);
  EXPECT_EQ(a.queue, b.queue);
  EXPECT_EQ(a.weights, b.weights);
  EXPECT_EQ(a.counts, b.counts);
  EXPECT_EQ(a.unique, b.unique);
  EXPECT_EQ(a.labels, b.labels);
  EXPECT_EQ(a.addresses, b.addresses);
  EXPECT_EQ(a.point, b.point);
  EXPECT_EQ(a.p_str.value(), b.p_str.value());
  EXPECT_EQ(a.p_int.value(), b.p_int.value());
  EXPECT_EQ(a.p_float.value(), b.p_float.value());
  EXPECT_EQ(a.p_bool.value(), b.p_bool.value());
  EXPECT_EQ(a.p_bytes.value(), b.p_bytes.value());
  EXPECT_EQ(a.p_time.value(), b.p_time.value());
  EXPECT_EQ(a.p_stamp.value(), b.p_stamp.value());
  EXPECT_EQ(a.p_addresses.value(), b.p_addresses.value());
  EXPECT_EQ(a.p_doubles.value(), b.p_doubles.value());
  EXPECT_EQ(a.p_counts.value(), b.p_counts.value());
  EXPECT_EQ(a.p_ids.value(), b.p_ids.value());
}

TEST_F(ModelTest, RoundTripsEveryFieldType) {
  const Everything saved = filled_everything();
  run(saved.save());
  const Everything loaded = run(Everything::get(saved.key()));
  expect_same(saved, loaded);
  EXPECT_EQ(loaded.key(), saved.key());
  EXPECT_TRUE(loaded.load_errors().empty());
}

TEST_F(ModelTest, DefaultModelRoundTrips) {
  const Everything saved;
  run(saved.save());
  expect_same(saved, run(Everything::get(saved.key())));
}

TEST_F(ModelTest, StoresExactText) {
  Everything e = filled_everything();
  e.f64 = 0.1;
  run(e.save());
  const std::string k = e.key();
  EXPECT_EQ(raw("HGET", k, "f64").as_string(), "0.1");
  EXPECT_EQ(raw("HGET", k, "i64").as_string(), "-9223372036854775808");
  EXPECT_EQ(raw("HGET", k, "u64").as_string(), "18446744073709551615");
  EXPECT_EQ(raw("HGET", k, "p_int").as_string(), "9223372036854775807");
  EXPECT_EQ(raw("HGET", k, "p_float").as_string(), "1e+308");
  EXPECT_EQ(raw("HGET", k, "color").as_string(), "blue");
  EXPECT_EQ(raw("HGET", k, "level").as_string(), "10");
  EXPECT_EQ(raw("HGET", k, "when").as_string(), "2024-11-23T22:13:20.123456Z");
  EXPECT_EQ(raw("HGET", k, "p_stamp").as_string(), "-1.000001");
  EXPECT_EQ(raw("HGET", k, "address.city").as_string(), "Tel Aviv");
  EXPECT_TRUE(raw("HGET", k, "address.street").is_nil());  // empty optional: no field
  EXPECT_EQ(raw("HGET", k, "numbers").as_string(), "[1,-2,3]");
  EXPECT_EQ(raw("HGET", k, "weights").as_string(), R"({"pi":3.141592653589793,"tenth":0.1})");
  EXPECT_EQ(raw("LRANGE", k + ":p_doubles", 0, -1), reply::array({reply::string("0.1"), reply::string("1e+308"),
                                                                  reply::string("-1e-300"), reply::string("5e-324")}));
  EXPECT_EQ(raw("LINDEX", k + ":p_addresses", 0).as_string(), R"({"city":"C","street":null,"zip":3})");
}

TEST_F(ModelTest, LargeEmptyAndUnicodeValuesRoundTrip) {
  User user;
  std::string big(10 * 1024 * 1024, 'x');
  for (std::size_t i = 0; i < big.size(); i += 4096) big[i] = static_cast<char>('a' + i % 26);
  user.name = big;
  user.nickname = "";
  user.tags = std::vector<std::string>{"", "日本語", "emoji 🎉", big};
  user.metadata = std::map<std::string, std::string>{{"", "empty key"}, {"ключ", ""}};
  run(user.save());
  const User loaded = run(User::get(user.key()));
  EXPECT_TRUE(loaded.name.value() == big);
  EXPECT_EQ(loaded.nickname, std::optional<std::string>(""));
  EXPECT_EQ(loaded.tags.size(), 4u);
  EXPECT_TRUE(loaded.tags.value() == user.tags.value());
  EXPECT_EQ(loaded.metadata.value(), user.metadata.value());
}

TEST_F(ModelTest, LayoutUsesNativeTypesAndOneHashTag) {
  User user;
  user.name = "Ann";
  user.tags = std::vector<std::string>{"t"};
  user.metadata = std::map<std::string, std::string>{{"k", "v"}};
  user.roles = std::set<std::string>{"admin"};
  user.address.city = "Haifa";
  run(user.save());
  const std::string k = user.key();
  EXPECT_EQ(k, "User:{" + user.id() + "}");
  EXPECT_EQ(user.id().size(), 36u);
  EXPECT_EQ(raw("TYPE", k).as_string(), "hash");
  EXPECT_EQ(raw("TYPE", k + ":tags").as_string(), "list");
  EXPECT_EQ(raw("TYPE", k + ":metadata").as_string(), "hash");
  EXPECT_EQ(raw("TYPE", k + ":roles").as_string(), "set");
  EXPECT_EQ(raw("HGET", k, "__rapyer_model__").as_string(), "User");
  EXPECT_EQ(raw("HGET", k, "address.city").as_string(), "Haifa");
  EXPECT_EQ(raw("HGET", k, "name").as_string(), "Ann");
  EXPECT_EQ(user.all_keys(), (std::vector<std::string>{k, k + ":tags", k + ":metadata", k + ":roles"}));
}

TEST(ModelLayout, EveryKeyOfAModelIsInOneClusterSlot) {
  boost::asio::io_context ctx;
  std::uint16_t bus_port = 0;
  {
    // The cluster bus defaults to port + 10000, which may be taken or beyond 65535: pick one.
    boost::asio::ip::tcp::acceptor probe(ctx, {boost::asio::ip::address_v4::loopback(), 0});
    bus_port = probe.local_endpoint().port();
  }
  rapyer::testing::embedded_server_options options;
  options.extra_arguments = {"--cluster-enabled", "yes", "--cluster-port", std::to_string(bus_port)};
  rapyer::testing::embedded_server server(options);
  for (const std::string id : {"plain", "with:colon.dot", "with{brace", "with}close", "with space", "ünï"}) {
    User user;
    user.set_id(id);
    std::vector<long long> slots;
    rapyer::test::run(ctx, [&]() -> awaitable<void> {
      rapyer::connection conn(ctx.get_executor(), rapyer::connection_config::from_url(server.url()));
      co_await conn.connect();
      for (const auto& k : user.all_keys()) {
        const reply slot = co_await conn.execute("CLUSTER", "KEYSLOT", k);
        slots.push_back(slot.as_integer());
      }
      const reply lock_slot = co_await conn.execute("CLUSTER", "KEYSLOT", user.key() + "/default:lock");
      slots.push_back(lock_slot.as_integer());
    }());
    ASSERT_EQ(slots.size(), 5u);
    for (long long slot : slots) EXPECT_EQ(slot, slots.front()) << id;
  }
}

TEST_F(ModelTest, SaveReplacesEverythingAndLeavesNoStaleElements) {
  User user;
  user.name = "first";
  user.nickname = "nick";
  user.tags = std::vector<std::string>{"a", "b", "c"};
  user.metadata = std::map<std::string, std::string>{{"x", "1"}};
  user.roles = std::set<std::string>{"r"};
  run(user.save());
  user.name = "second";
  user.nickname.reset();
  user.tags = std::vector<std::string>{"z"};
  user.metadata = std::map<std::string, std::string>{};
  user.roles = std::set<std::string>{};
  run(user.save());
  const std::string k = user.key();
  EXPECT_EQ(raw("LRANGE", k + ":tags", 0, -1), reply::array({reply::string("z")}));
  EXPECT_EQ(raw("EXISTS", k + ":metadata").as_integer(), 0);
  EXPECT_EQ(raw("EXISTS", k + ":roles").as_integer(), 0);
  EXPECT_TRUE(raw("HGET", k, "nickname").is_nil());
  const User loaded = run(User::get(k));
  EXPECT_EQ(loaded.name, "second");
  EXPECT_FALSE(loaded.nickname.has_value());
  EXPECT_TRUE(loaded.metadata.empty());
}

TEST_F(ModelTest, FailedSaveLeavesThePreviousVersionWhole) {
  Everything e = filled_everything();
  run(e.save());
  Everything broken = e;
  broken.text = "changed";
  broken.queue = std::deque<std::string>{"valid", std::string("\xff\xfe not utf-8")};  // cannot be JSON
  EXPECT_THROW(run(broken.save()), rapyer::encode_error);
  expect_same(e, run(Everything::get(e.key())));
}

TEST_F(ModelTest, SaveKeepsTheExistingTtlAndSetsTheConfiguredOne) {
  User user;
  run(user.save());
  EXPECT_EQ(raw("TTL", user.key()).as_integer(), -1);
  run(user.aset_ttl(500s));
  user.tags = std::vector<std::string>{"a"};
  run(user.save());
  for (const auto& k : user.all_keys()) {
    if (k.ends_with(":metadata") || k.ends_with(":roles")) continue;  // empty: no key
    const auto ttl = raw("TTL", k).as_integer();
    EXPECT_GT(ttl, 490) << k;
    EXPECT_LE(ttl, 500) << k;
  }
  Session session;
  session.token = "t-1";
  session.pages = std::vector<std::string>{"/"};
  run(session.save());
  EXPECT_GT(raw("TTL", session.key()).as_integer(), 90);
  EXPECT_GT(raw("TTL", session.key() + ":pages").as_integer(), 90);
}

TEST_F(ModelTest, OperationsRefreshTheTtlWhenConfigured) {
  Session session;
  session.token = "refresh-me";
  session.pages = std::vector<std::string>{"/"};
  run(session.save());
  raw("EXPIRE", session.key(), 5);
  raw("EXPIRE", session.key() + ":pages", 5);
  EXPECT_EQ(run(session.hits.aincrease(1)), 1);
  EXPECT_GT(raw("TTL", session.key()).as_integer(), 90);
  EXPECT_GT(raw("TTL", session.key() + ":pages").as_integer(), 90);
  raw("EXPIRE", session.key(), 5);
  run(session.pages.aappend("/home"));
  EXPECT_GT(raw("TTL", session.key()).as_integer(), 90);
  // Reads too (sliding expiry): get, and a find of several.
  raw("EXPIRE", session.key(), 5);
  raw("EXPIRE", session.key() + ":pages", 5);
  const Session loaded = run(Session::get(session.key()));
  EXPECT_EQ(loaded.pages.size(), 2U);
  EXPECT_GT(raw("TTL", session.key()).as_integer(), 90);
  EXPECT_GT(raw("TTL", session.key() + ":pages").as_integer(), 90);
  raw("EXPIRE", session.key(), 5);
  std::vector<std::string> keys = {session.key(), "app:Session:{absent}"};
  EXPECT_EQ(run(Session::afind(keys, rapyer::missing_keys::skip)).size(), 1U);
  EXPECT_GT(raw("TTL", session.key()).as_integer(), 90);
  EXPECT_EQ(raw("EXISTS", "app:Session:{absent}").as_integer(), 0);
  raw("EXPIRE", session.key(), 5);
  (void)run(rapyer::aget(session.key()));
  EXPECT_GT(raw("TTL", session.key()).as_integer(), 90);
}

TEST_F(ModelTest, KeyFieldIsTheId) {
  Session session;
  session.token = "tok:1.{x} ü";
  run(session.save());
  EXPECT_EQ(session.key(), "app:Session:{tok:1.{x} ü}");
  const Session loaded = run(Session::get("app:Session:{tok:1.{x} ü}"));
  EXPECT_EQ(loaded.token, std::string("tok:1.{x} ü"));
  Session empty;
  EXPECT_THROW((void)empty.key(), rapyer::usage_error);
}

TEST_F(ModelTest, MissingKeyThrowsKeyNotFound) {
  try {
    run(User::get("User:{nobody}"));
    FAIL();
  } catch (const rapyer::key_not_found& e) {
    EXPECT_EQ(e.key(), "User:{nobody}");
  }
  User user;
  EXPECT_THROW(run(user.load()), rapyer::key_not_found);
  EXPECT_THROW(run(User::get("Session:{x}")), rapyer::usage_error);
}

TEST_F(ModelTest, CorruptDataThrowsDecodeErrorNamingKeyAndField) {
  User user;
  user.tags = std::vector<std::string>{"a"};
  run(user.save());
  const std::string k = user.key();
  const auto expect_decode_error = [&](const std::string& field) {
    try {
      run(User::get(k));
      ADD_FAILURE() << "no decode_error for " << field;
    } catch (const rapyer::decode_error& e) {
      EXPECT_EQ(e.key(), k);
      EXPECT_EQ(e.field(), field) << e.what();
    }
  };
  raw("HSET", k, "age", "abc");
  expect_decode_error("age");
  raw("HSET", k, "age", "99999999999999999999");  // beyond int64
  expect_decode_error("age");
  raw("HSET", k, "age", "1");
  raw("HDEL", k, "address.city");
  expect_decode_error("address.city");
  raw("HSET", k, "address.city", "x");
  raw("HSET", k, "__rapyer_model__", "Session");
  expect_decode_error("");

  Everything e;
  run(e.save());
  raw("RPUSH", e.key() + ":p_addresses", "{not json");
  try {
    run(Everything::get(e.key()));
    ADD_FAILURE();
  } catch (const rapyer::decode_error& error) {
    EXPECT_EQ(error.field(), "p_addresses");
  }
  raw("DEL", e.key() + ":p_addresses");
  raw("HSET", e.key(), "color", "purple");
  EXPECT_THROW(run(Everything::get(e.key())), rapyer::decode_error);
  raw("DEL", e.key());
  raw("SET", e.key(), "a plain string");
  EXPECT_THROW(run(Everything::get(e.key())), rapyer::decode_error);
}

TEST_F(ModelTest, SafeLoadFieldsFallBackToDefaultAndAreReported) {
  Lenient l;
  l.age = 5;
  l.name = "kept";
  l.scores = std::vector<int>{1, 2};
  run(l.save());
  raw("HSET", l.key(), "age", "not a number");
  raw("RPUSH", l.key() + ":scores", "x");
  const Lenient loaded = run(Lenient::get(l.key()));
  EXPECT_EQ(loaded.age, 0);
  EXPECT_EQ(loaded.name, "kept");
  EXPECT_TRUE(loaded.scores.empty());
  ASSERT_EQ(loaded.load_errors().size(), 2u);
  EXPECT_EQ(loaded.load_errors()[0].field, "age");
  EXPECT_EQ(loaded.load_errors()[1].field, "scores");
  raw("HSET", l.key(), "name", "");
  raw("HDEL", l.key(), "name");
  EXPECT_THROW(run(Lenient::get(l.key())), rapyer::decode_error);  // name is not safe-load
}

TEST_F(ModelTest, DeleteExistsTtlAndDuplicate) {
  User user;
  user.name = "dup";
  user.tags = std::vector<std::string>{"x"};
  run(user.save());
  EXPECT_TRUE(run(user.aexists()));
  const User copy = run(user.aduplicate());
  EXPECT_NE(copy.key(), user.key());
  const User loaded_copy = run(User::get(copy.key()));
  EXPECT_EQ(loaded_copy.name, "dup");
  EXPECT_EQ(loaded_copy.tags.value(), std::vector<std::string>{"x"});
  EXPECT_TRUE(run(user.adelete()));
  EXPECT_FALSE(run(user.aexists()));
  EXPECT_EQ(raw("EXISTS", user.key() + ":tags").as_integer(), 0);
  EXPECT_FALSE(run(user.adelete()));
  EXPECT_TRUE(run(copy.aexists()));
  Session s;
  s.token = "k";
  EXPECT_THROW(run(s.aduplicate()), rapyer::usage_error);
}

TEST_F(ModelTest, DuplicateManySavesAllCopiesAtOnce) {
  User user;
  user.name = "orig";
  user.roles = std::set<std::string>{"a", "b"};
  run(user.save());
  const std::vector<User> copies = run(user.aduplicate_many(3));
  ASSERT_EQ(copies.size(), 3U);
  std::set<std::string> keys = {user.key()};
  for (const auto& c : copies) {
    keys.insert(c.key());
    const User loaded = run(User::get(c.key()));
    EXPECT_EQ(loaded.name, "orig");
    EXPECT_EQ(loaded.roles.value(), (std::set<std::string>{"a", "b"}));
  }
  EXPECT_EQ(keys.size(), 4U);  // every copy has an id of its own
  EXPECT_TRUE(run(user.aduplicate_many(0)).empty());
}

// aupdate writes exactly the named fields, in one MULTI/EXEC, and leaves the rest as stored.
TEST_F(ModelTest, UpdateWritesOnlyTheNamedFieldsAtomically) {
  User user;
  user.name = "before";
  user.age = 1;
  user.score = 1.5;
  user.tags = std::vector<std::string>{"t1"};
  user.address = Address{"Paris", 75001, std::string("Rue A")};
  user.nickname = "nick";
  run(user.save());
  User other = run(User::get(user.key()));
  other.score = 9.5;  // someone else's concurrent change to another field
  run(other.score.save());

  user.name = "after";
  user.age = 2;
  user.score = 0;  // changed locally but not named: must not be written
  user.tags.push_back("t2");
  user.address.city = "Lyon";
  user.address.street.reset();
  user.nickname.reset();
  run(user.aupdate(user.name, user.age, user.tags, user.address, user.nickname));

  const User loaded = run(User::get(user.key()));
  EXPECT_EQ(loaded.name, "after");
  EXPECT_EQ(loaded.age, 2);
  EXPECT_EQ(loaded.score, 9.5);
  EXPECT_EQ(loaded.tags.value(), (std::vector<std::string>{"t1", "t2"}));
  EXPECT_EQ(loaded.address.city, "Lyon");
  EXPECT_EQ(loaded.address.zip, 75001);
  EXPECT_FALSE(loaded.address.street.has_value());
  EXPECT_FALSE(loaded.nickname.has_value());
  EXPECT_EQ(raw("HEXISTS", user.key(), "address.street").as_integer(), 0);

  // A field of another model is refused before anything is sent.
  user.name = "not written";
  EXPECT_THROW(run(user.aupdate(user.name, other.age)), rapyer::usage_error);
  EXPECT_EQ(raw("HGET", user.key(), "name").as_string(), "after");
}

TEST_F(ModelTest, BulkInsertFindAndDelete) {
  std::vector<User> users(5);
  for (std::size_t i = 0; i < users.size(); ++i) {
    users[i].name = "user" + std::to_string(i);
    users[i].tags = std::vector<std::string>{std::to_string(i)};
  }
  run(User::ainsert(users));
  std::vector<std::string> keys;
  for (const auto& u : users) keys.push_back(u.key());
  const auto found = run(User::afind(keys));
  ASSERT_EQ(found.size(), 5u);
  for (std::size_t i = 0; i < found.size(); ++i) {
    EXPECT_EQ(found[i].name, "user" + std::to_string(i));
    EXPECT_EQ(found[i].tags.value(), std::vector<std::string>{std::to_string(i)});
  }
  keys.push_back("User:{missing}");
  EXPECT_THROW(run(User::afind(keys)), rapyer::key_not_found);
  EXPECT_EQ(run(User::afind(keys, rapyer::missing_keys::skip)).size(), 5u);

  Session other;
  other.token = "not a user";
  run(other.save());
  const auto all_keys = run(User::afind_keys());
  EXPECT_EQ(all_keys.size(), 5u);
  EXPECT_EQ(run(User::afind_keys(2)).size(), 2u);
  EXPECT_EQ(run(User::afind()).size(), 5u);

  keys.pop_back();
  keys.resize(3);
  EXPECT_EQ(run(User::adelete_many(keys)), 3u);
  EXPECT_EQ(run(User::afind()).size(), 2u);
  EXPECT_EQ(raw("EXISTS", keys[0] + ":tags").as_integer(), 0);
  run(User::ainsert(users[0], users[1]));
  EXPECT_EQ(run(User::afind()).size(), 4u);
}

TEST_F(ModelTest, AgetResolvesTheClassFromTheKey) {
  User user;
  user.name = "by prefix";
  run(user.save());
  Session session;
  session.token = "s";
  run(session.save());
  auto any_user = run(rapyer::aget(user.key()));
  auto* as_user = dynamic_cast<User*>(any_user.get());
  ASSERT_NE(as_user, nullptr);
  EXPECT_EQ(as_user->name, "by prefix");
  auto any_session = run(rapyer::aget(session.key()));
  EXPECT_NE(dynamic_cast<Session*>(any_session.get()), nullptr);
  EXPECT_EQ(any_session->model_name(), "Session");
  EXPECT_THROW(run(rapyer::aget("Unknown:{x}")), rapyer::usage_error);
  EXPECT_THROW(run(rapyer::aget("User:{missing}")), rapyer::key_not_found);
}

TEST_F(ModelTest, AfindOfAnyClassesReadsAllInOneRoundTrip) {
  std::vector<std::string> keys;
  for (int i = 0; i < 3; ++i) {
    User user;
    user.name = "u" + std::to_string(i);
    user.tags = std::vector<std::string>{"t" + std::to_string(i)};
    run(user.save());
    Session session;
    session.token = "s" + std::to_string(i);
    session.hits = i;
    run(session.save());
    keys.push_back(user.key());
    keys.push_back(session.key());
  }
  keys.insert(keys.begin() + 2, "User:{missing}");
  const auto before = raw("INFO", "commandstats").as_string();
  EXPECT_THROW(run(rapyer::afind(keys)), rapyer::key_not_found);
  const auto found = run(rapyer::afind(keys, rapyer::missing_keys::skip));
  ASSERT_EQ(found.size(), 6U);
  for (std::size_t i = 0; i < found.size(); ++i) {
    if (i % 2 == 0) {
      const auto* user = dynamic_cast<const User*>(found[i].get());
      ASSERT_NE(user, nullptr) << i;
      EXPECT_EQ(user->name, "u" + std::to_string(i / 2));
      EXPECT_EQ(user->tags.value(), std::vector<std::string>{"t" + std::to_string(i / 2)});
    } else {
      const auto* session = dynamic_cast<const Session*>(found[i].get());
      ASSERT_NE(session, nullptr) << i;
      EXPECT_EQ(session->hits, static_cast<long long>(i / 2));
    }
  }
  // Both calls were one MULTI/EXEC each (on a cluster: one per hash slot, spread over the nodes).
  if (rapyer::test::on_cluster()) return;
  const auto multis = [](const std::string& stats) {
    const auto at = stats.find("cmdstat_multi:calls=");
    return at == std::string::npos ? 0L : std::stol(stats.substr(at + 20));
  };
  EXPECT_EQ(multis(raw("INFO", "commandstats").as_string()) - multis(before), 2);
}

TEST_F(ModelTest, FieldLevelSaveAndLoadTouchOnlyThatField) {
  User user;
  user.name = "original";
  user.age = 1;
  run(user.save());
  user.name = "local only";
  user.age = 99;
  run(user.age.save());
  EXPECT_EQ(raw("HGET", user.key(), "age").as_string(), "99");
  EXPECT_EQ(raw("HGET", user.key(), "name").as_string(), "original");
  raw("RPUSH", user.key() + ":tags", "from elsewhere");
  run(user.tags.aload());
  EXPECT_EQ(user.tags.value(), std::vector<std::string>{"from elsewhere"});
  run(user.name.aload());
  EXPECT_EQ(user.name, "original");
  user.tags = std::vector<std::string>{"replaced"};
  run(user.tags.save());
  EXPECT_EQ(raw("LRANGE", user.key() + ":tags", 0, -1), reply::array({reply::string("replaced")}));
  EXPECT_EQ(raw("HGET", user.key(), "name").as_string(), "original");
}

TEST_F(ModelTest, CopiesAndMovesKeepFieldsWorking) {
  User user;
  user.age = 10;
  run(user.save());
  User copy = user;
  EXPECT_EQ(run(copy.age.aincrease(5)), 15);
  EXPECT_EQ(copy.age, 15);
  EXPECT_EQ(user.age, 10);  // the copy's proxy updated the copy
  User moved = std::move(copy);
  EXPECT_EQ(run(moved.age.aincrease(1)), 16);
  EXPECT_EQ(moved.key(), user.key());
  std::vector<User> many(3);
  for (auto& u : many) run(u.save());
  many.push_back(user);  // reallocation moves every element
  for (auto& u : many) EXPECT_EQ(run(u.age.aincrease(1)), u.key() == user.key() ? 17 : 1);
}

TEST_F(ModelTest, StandaloneProxyAndMissingClientAreUsageErrors) {
  rapyer::RedisInt lonely;
  EXPECT_THROW(run(lonely.aincrease(1)), rapyer::usage_error);
  rapyer::RedisList<int> lonely_list;
  EXPECT_THROW(run(lonely_list.aappend(1)), rapyer::usage_error);
  rapyer::teardown();
  User user;
  EXPECT_THROW(run(user.save()), rapyer::usage_error);
}

// Keys and values are always separate binary-safe arguments, never spliced into a command line or
// a script's source: protocol framing, quotes, NUL and Lua metacharacters come back byte for byte
// and nothing else in the database is touched.
TEST_F(ModelTest, HostileTextIsStoredAsPlainData) {
  constexpr char hostile_text[] = "a\r\n*3\r\n$4\r\nPING\0 \"'` ]] ..redis.call('FLUSHALL')-- %s {x}";
  const std::string hostile(hostile_text, sizeof hostile_text - 1);  // keeps the NUL
  raw("SET", "bystander", "still here");
  Session session;
  session.token = hostile;
  run(session.save());
  run(session.pages.aappend(hostile));
  run(session.hits.aincrease(1));
  Everything e;
  e.text = hostile;
  e.p_str = hostile;
  e.labels = {hostile};
  e.weights = {{hostile, 1.5}};
  run(e.save());
  run(e.p_str.aappend(hostile));
  run(e.p_counts.aset_item(hostile, 7));
  const Session loaded_session = run(Session::get(session.key()));
  EXPECT_EQ(loaded_session.token, hostile);
  ASSERT_EQ(loaded_session.pages.size(), 1u);
  EXPECT_EQ(loaded_session.pages.front(), hostile);
  EXPECT_EQ(loaded_session.hits, 1);
  const Everything loaded = run(Everything::get(e.key()));
  EXPECT_EQ(loaded.text, hostile);
  EXPECT_EQ(loaded.p_str.value(), hostile + hostile);
  EXPECT_EQ(loaded.labels, std::unordered_set<std::string>{hostile});
  EXPECT_EQ(loaded.weights.at(hostile), 1.5);
  EXPECT_EQ(loaded.p_counts.at(hostile), 7);
  EXPECT_EQ(raw("GET", "bystander").as_string(), "still here");
}

// An ACL user allowed only User keys: an operation on another model's keys is a server_error that
// names the command, the same client goes on serving permitted operations, and no message carries
// the password.
TEST_F(ModelTest, AclDeniedOperationIsAServerErrorNamingTheCommand) {
  RAPYER_STANDALONE_ONLY("the ACL user is made on one server");
  const std::string password = "s3cret-pw-for-acl";
  raw("ACL", "SETUSER", "limited", "reset", "on", ">" + password, "~User:*", "~app:Session:*", "+@all", "-@dangerous",
      "+info");
  const auto port = std::to_string(rapyer::test::server_port());
  auto limited =
      std::make_shared<rapyer::client>(ctx_.get_executor(), "redis://limited:" + password + "@127.0.0.1:" + port);
  run(limited->connect());
  rapyer::init(limited);
  User user;
  user.name = "allowed";
  run(user.save());
  Session session;
  session.token = "t";
  run(session.save());
  Lenient forbidden;
  forbidden.age = 1;
  try {
    run(forbidden.save());
    ADD_FAILURE() << "save outside the ACL key pattern succeeded";
  } catch (const rapyer::server_error& e) {
    EXPECT_EQ(e.command(), "save");  // the script called
    EXPECT_NE(e.server_message().find("NOPERM"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find(password), std::string::npos) << e.what();
  }
  try {
    run(limited->execute_one([] {
      rapyer::request req;
      req.push("HINCRBY", "Lenient:{x}", "age", 1);
      return req;
    }()));
    ADD_FAILURE() << "HINCRBY outside the ACL key pattern succeeded";
  } catch (const rapyer::server_error& e) {
    EXPECT_EQ(e.command(), "HINCRBY");
    EXPECT_EQ(e.server_message().rfind("NOPERM", 0), 0u) << e.what();
    EXPECT_EQ(std::string(e.what()).find(password), std::string::npos) << e.what();
  }
  try {
    run(limited->execute_one([] {
      rapyer::request req;
      req.push("FLUSHALL");
      return req;
    }()));
    ADD_FAILURE() << "FLUSHALL is not allowed to this user";
  } catch (const rapyer::server_error& e) {
    EXPECT_EQ(e.command(), "FLUSHALL");
  }
  run(user.age.aincrease(5));  // the same client still serves what is allowed
  EXPECT_EQ(run(User::get(user.key())).age, 5);
  rapyer::teardown();
  auto admin = std::make_shared<rapyer::client>(ctx_.get_executor(), rapyer::test::server_url());
  run(admin->connect());
  rapyer::init(admin);
  EXPECT_EQ(raw("EXISTS", "Lenient:{x}").as_integer(), 0);
  EXPECT_EQ(raw("EXISTS", forbidden.key()).as_integer(), 0);
  raw("ACL", "DELUSER", "limited");
}

// 4 processes x 250 coroutines, each doing aappend and aincrease(1) on the same model.
TEST_F(ModelTest, NoLostUpdatesAcrossProcessesAndCoroutines) {
  User user;
  user.age = 0;
  run(user.save());
  const std::string key = user.key();
  constexpr int processes = 4;
  constexpr int coroutines = 250;
  User mine;  // each process's copy, shared by its coroutines
  const auto load = [&](int) -> awaitable<void> { mine = co_await User::get(key); };
  const auto work = [&](int p, int c) -> awaitable<void> {
    co_await mine.tags.aappend(std::to_string(p) + ":" + std::to_string(c));
    co_await mine.age.aincrease(1);
  };
  EXPECT_TRUE(rapyer::test::run_in_processes(processes, coroutines, load, work));
  const User loaded = run(User::get(key));
  EXPECT_EQ(loaded.age, processes * coroutines);
  EXPECT_EQ(loaded.tags.size(), static_cast<std::size_t>(processes * coroutines));
  const std::set<std::string> distinct(loaded.tags.begin(), loaded.tags.end());
  EXPECT_EQ(distinct.size(), static_cast<std::size_t>(processes * coroutines));
}

}  // namespace
