// Models shared by the model tests and the fuzz targets: one with every supported field type.
#pragma once

#include <boost/describe.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "rapyer/rapyer.hpp"

namespace test_models {

BOOST_DEFINE_ENUM_CLASS(Color, red, green, blue)
enum class Level : int { low = 1, high = 10 };  // not described: stored by value

struct Address {
  std::string city;
  int zip = 0;
  std::optional<std::string> street;
};
BOOST_DESCRIBE_STRUCT(Address, (), (city, zip, street))
inline bool operator==(const Address& a, const Address& b) {
  return a.city == b.city && a.zip == b.zip && a.street == b.street;
}
inline bool operator<(const Address& a, const Address& b) { return a.city < b.city; }

/// A type rapyer knows nothing about, given nlohmann adapters by its author.
struct Point {
  double x = 0;
  double y = 0;
  friend bool operator==(const Point&, const Point&) = default;
};
inline void to_json(nlohmann::json& j, const Point& p) { j = nlohmann::json::array({p.x, p.y}); }
inline void from_json(const nlohmann::json& j, Point& p) {
  p.x = j.at(0).get<double>();
  p.y = j.at(1).get<double>();
}

struct User : rapyer::AtomicRedisModel<User> {
  rapyer::RedisStr name;
  rapyer::RedisInt age;
  rapyer::RedisFloat score;
  rapyer::RedisList<std::string> tags;
  rapyer::RedisDict<std::string, std::string> metadata;
  rapyer::RedisSet<std::string> roles;
  Address address;
  std::optional<std::string> nickname;
};
BOOST_DESCRIBE_STRUCT(User, (), (name, age, score, tags, metadata, roles, address, nickname))

using time_point = std::chrono::system_clock::time_point;
using bytes = std::vector<std::byte>;

struct Everything : rapyer::AtomicRedisModel<Everything> {
  std::string text;
  bool flag = false;
  std::int8_t i8 = 0;
  std::uint8_t u8 = 0;
  std::int16_t i16 = 0;
  std::uint16_t u16 = 0;
  std::int32_t i32 = 0;
  std::uint32_t u32 = 0;
  std::int64_t i64 = 0;
  std::uint64_t u64 = 0;
  float f32 = 0;
  double f64 = 0;
  Color color = Color::red;
  Level level = Level::low;
  std::optional<int> maybe_number;
  std::optional<Address> maybe_address;
  time_point when{};
  bytes blob;
  Address address;
  std::vector<int> numbers;
  std::deque<std::string> queue;
  std::map<std::string, double> weights;
  std::unordered_map<std::string, int> counts;
  std::set<int> unique;
  std::unordered_set<std::string> labels;
  std::vector<Address> addresses;
  Point point;
  rapyer::RedisStr p_str;
  rapyer::RedisInt p_int;
  rapyer::RedisFloat p_float;
  rapyer::RedisBool p_bool;
  rapyer::RedisBytes p_bytes;
  rapyer::RedisDatetime p_time;
  rapyer::RedisTimestamp p_stamp;
  rapyer::RedisList<Address> p_addresses;
  rapyer::RedisList<double> p_doubles;
  rapyer::RedisDict<std::string, int> p_counts;
  rapyer::RedisSet<std::int64_t> p_ids;
};
BOOST_DESCRIBE_STRUCT(Everything, (),
                      (text, flag, i8, u8, i16, u16, i32, u32, i64, u64, f32, f64, color, level, maybe_number,
                       maybe_address, when, blob, address, numbers, queue, weights, counts, unique, labels, addresses,
                       point, p_str, p_int, p_float, p_bool, p_bytes, p_time, p_stamp, p_addresses, p_doubles, p_counts,
                       p_ids))

/// Identified by a field (the original's Key[T]), with a TTL refreshed by every operation.
struct Session : rapyer::AtomicRedisModel<Session> {
  rapyer::Key<std::string> token;
  rapyer::RedisInt hits;
  rapyer::RedisList<std::string> pages;
  static rapyer::model_config redis_config() {
    rapyer::model_config config;
    config.prefix = "app:";
    config.ttl = std::chrono::seconds(100);
    config.refresh_ttl = true;
    return config;
  }
};
BOOST_DESCRIBE_STRUCT(Session, (), (token, hits, pages))

/// Whose "age" decodes as default, instead of failing the load, when it is corrupt.
struct Lenient : rapyer::AtomicRedisModel<Lenient> {
  int age = 0;
  std::string name;
  rapyer::RedisList<int> scores;
  static rapyer::model_config redis_config() {
    rapyer::model_config config;
    config.safe_load = {"age", "scores"};
    return config;
  }
};
BOOST_DESCRIBE_STRUCT(Lenient, (), (age, name, scores))

}  // namespace test_models
