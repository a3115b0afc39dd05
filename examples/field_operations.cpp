// Every field type's atomic operations: each is one round trip, atomic on the server, and updates
// the local copy to the server's result.
#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "example_main.hpp"

using namespace std::chrono_literals;

struct Address {
  std::string city;
  int zip = 0;
};
BOOST_DESCRIBE_STRUCT(Address, (), (city, zip))

struct Player : rapyer::AtomicRedisModel<Player> {
  rapyer::RedisStr name;
  rapyer::RedisInt level;
  rapyer::RedisFloat score;
  rapyer::RedisBool online;
  rapyer::RedisBytes avatar;
  rapyer::RedisDatetime last_seen;   // ISO-8601 text
  rapyer::RedisTimestamp last_paid;  // epoch seconds
  rapyer::RedisList<std::string> inventory;
  rapyer::RedisList<Address> homes;  // complex elements are JSON text
  rapyer::RedisDict<std::string, int> stats;
  rapyer::RedisSet<std::string> badges;
};
BOOST_DESCRIBE_STRUCT(Player, (),
                      (name, level, score, online, avatar, last_seen, last_paid, inventory, homes, stats, badges))

rapyer::awaitable<void> field_operations() {
  Player p;
  p.name = "neo";
  p.level = 1;
  p.last_seen = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
  co_await p.save();

  // Numbers: server-side arithmetic.
  co_await p.level.aincrease(4);      // HINCRBY        -> 5
  co_await p.level.amultiply(3);      // server-side *  -> 15
  co_await p.level.afloor_divide(4);  // Python //      -> 3
  co_await p.level.amodulo(2);        // Python %       -> 1
  co_await p.level.apower(10);        // Python **      -> 1
  co_await p.score.aincrease(2.5);    // HINCRBYFLOAT   -> 2.5
  co_await p.score.amultiply(3);      // float *        -> 7.5
  co_await p.score.adivide(2);        // float /        -> 3.75
  co_await p.score.afloor_divide(1);  // float //       -> 3
  std::cout << "level " << p.level << ", score " << p.score << '\n';
  check(p.level == 1 && p.score == 3.0, "numbers");

  // Strings, bytes, bools, times.
  co_await p.name.aappend(" the one");
  co_await p.avatar.aappend("\x89PNG");
  co_await p.online.aset(true);
  co_await p.last_seen.aadd(std::chrono::duration_cast<std::chrono::microseconds>(36h));
  co_await p.last_paid.aadd(std::chrono::duration_cast<std::chrono::microseconds>(30min));  // HINCRBYFLOAT
  check(p.last_paid.time() == std::chrono::system_clock::time_point(30min), "timestamps");
  std::cout << "name '" << p.name << "', online " << p.online.value() << '\n';
  check(p.name == "neo the one" && p.online.value() && p.avatar.size() == 4, "strings");

  // Lists.
  co_await p.inventory.aextend("sword", "shield", "potion");
  co_await p.inventory.ainsert(1, "map");            // before index 1
  const auto last = co_await p.inventory.apop();     // "potion"
  const auto second = co_await p.inventory.apop(1);  // "map"
  co_await p.inventory.aset_item(0, "great sword");
  const Address zion{"Zion", 1};  // GCC 12: bind aggregates to a name before co_await (see README)
  co_await p.homes.aappend(zion);
  std::cout << "popped " << *last << " and " << *second << "; inventory size " << p.inventory.size() << '\n';
  check(p.inventory.value() == std::vector<std::string>{"great sword", "shield"}, "lists");
  co_await p.inventory.aremove_range(0, 1);
  co_await p.inventory.aextend("bow", "arrow", "arrow");
  co_await p.inventory.aremove("arrow");              // LREM: the first one, as Python's remove()
  const auto tail = co_await p.inventory.aslice(-2);  // Python's inventory[-2:], read from the server
  const std::size_t length = co_await p.inventory.alen();
  check(tail == std::vector<std::string>{"bow", "arrow"} && length == 3, "list reads");

  // Dicts.
  co_await p.stats.aset_item("strength", 10);
  co_await p.stats.aupdate(std::pair{"speed", 7}, std::pair{"luck", 3});
  const auto luck = co_await p.stats.apop("luck");
  co_await p.stats.adel_item("speed");
  check(luck == 3 && p.stats.size() == 1, "dicts");

  // Sets.
  co_await p.badges.aadd("first-login");
  co_await p.badges.aadd("explorer");
  const bool has = co_await p.badges.acontains("explorer");
  co_await p.badges.aremove("first-login");
  check(has && p.badges.size() == 1, "sets");
  co_await p.badges.aadd_many("veteran", "collector");  // one SADD
  const std::set<std::string> stored_badges = co_await p.badges.amembers();
  check(stored_badges == std::set<std::string>{"collector", "explorer", "veteran"}, "set members");

  // Field-level save / load: only that field travels.
  p.level = 99;
  co_await p.level.save();
  co_await p.inventory.aload();
  const Player loaded = co_await Player::get(p.key());
  check(loaded.level == 99 && loaded.stats.at("strength") == 10 && loaded.homes[0].city == "Zion", "reload");
  std::cout << "reloaded " << loaded.key() << '\n';

  // Several fields at once: only these, in one MULTI/EXEC.
  p.name = "the one";
  p.online = true;
  co_await p.aupdate(p.name, p.online);
  const Player updated = co_await Player::get(p.key());
  check(updated.name == "the one" && updated.online && updated.level == 99, "aupdate");

  // Copies under new ids, saved together.
  const auto clones = co_await p.aduplicate_many(2);
  check(clones.size() == 2 && clones[0].key() != p.key(), "aduplicate_many");
  std::vector<std::string> doomed = {clones[0].key(), clones[1].key()};
  co_await Player::adelete_many(doomed);
  co_await p.adelete();
}

int main() { return run_example("field_operations", field_operations); }
