// Per-model configuration (prefix, TTL refreshed by every operation), a Key field (lookups by the
// bare id), bulk operations in one round trip, get-or-create, listing every model of a class, and
// loading by key alone.
#include <chrono>

#include "example_main.hpp"

using namespace std::chrono_literals;

struct Session : rapyer::AtomicRedisModel<Session> {
  rapyer::Key<std::string> token;  // the model's id: key "web:Session:{<token>}"
  rapyer::RedisStr user;
  rapyer::RedisInt requests;
  static rapyer::model_config redis_config() {
    rapyer::model_config config;
    config.prefix = "web:";
    config.ttl = 30min;         // set by save()
    config.refresh_ttl = true;  // and reset by every field operation
    return config;
  }
};
BOOST_DESCRIBE_STRUCT(Session, (), (token, user, requests))

rapyer::awaitable<void> ttl_and_bulk() {
  std::vector<Session> sessions(3);
  for (std::size_t i = 0; i < sessions.size(); ++i) {
    sessions[i].token = "tok-" + std::to_string(i);
    sessions[i].user = "user" + std::to_string(i);
  }
  co_await Session::ainsert(sessions);  // one atomic round trip
  std::cout << "inserted " << sessions[0].key() << " ...\n";

  auto& redis = rapyer::default_client();
  co_await redis.execute("EXPIRE", sessions[0].key(), 10);
  co_await sessions[0].requests.aincrease(1);  // refreshes the TTL to 30 min, atomically
  const auto ttl = (co_await redis.execute("TTL", sessions[0].key())).as_integer();
  std::cout << "TTL after an operation: " << ttl << " s\n";
  check(ttl > 1700, "ttl refreshed");

  const auto keys = co_await Session::afind_keys();  // SCAN, never KEYS
  const auto all = co_await Session::afind();
  std::cout << "found " << keys.size() << " keys, " << all.size() << " sessions\n";
  check(all.size() == 3, "afind");

  std::vector<std::string> wanted = {sessions[2].key(), "web:Session:{gone}"};
  const auto some = co_await Session::afind(wanted, rapyer::missing_keys::skip);
  check(some.size() == 1 && some[0].user == "user2", "afind by keys");
  // A class with a Key field is looked up by the bare id too.
  const Session by_id = co_await Session::get("tok-1");
  std::vector<std::string> ids = {"tok-0", "tok-2"};
  const auto by_ids = co_await Session::afind(ids);
  check(by_id.user == "user1" && by_ids.size() == 2, "lookups by id");
  const bool stored = co_await Session::aexists("tok-0");
  const bool absent = !co_await Session::aexists("tok-9");
  check(stored && absent, "aexists");
  const bool unknown_class = co_await rapyer::aexists("web:Unknown:{x}");
  check(!unknown_class, "a key of no registered class holds no model");

  // Atomic get-or-create, one round trip: creates tok-9, then finds it.
  Session fresh;
  fresh.token = "tok-9";
  fresh.user = "first";
  const auto first = co_await Session::aget_or_create(fresh);
  fresh.user = "second";
  const auto again = co_await rapyer::aget_or_create(fresh);  // the same, with the class deduced
  std::cout << "get-or-create: created " << first.created << ", then found " << again.model.user.value() << '\n';
  check(first.created && !again.created && again.model.user == "first", "aget_or_create");

  auto any = co_await rapyer::aget(sessions[1].key());  // the class comes from the key
  std::cout << "aget gave a " << any->model_name() << '\n';
  check(dynamic_cast<Session*>(any.get()) != nullptr, "aget");
  std::vector<std::string> mixed = {sessions[0].key(), sessions[1].key()};
  const auto several = co_await rapyer::afind(mixed);  // any classes, one round trip
  check(several.size() == 2, "rapyer::afind");

  std::vector<std::string> doomed;
  doomed.reserve(sessions.size());
  for (const auto& s : sessions) doomed.push_back(s.key());
  doomed.push_back(first.model.key());
  const auto deleted = co_await Session::adelete_many(doomed);
  std::cout << "deleted " << deleted << '\n';
  check(deleted == 4, "adelete_many");
}

int main() { return run_example("ttl_and_bulk", ttl_and_bulk); }
