// Finding models by field values on plain Redis: fields listed in model_config::indexes are kept
// in secondary indexes (sorted sets) updated atomically with every write, and Model::afind(query)
// / afind_one(query) / acount(query) / adelete_many(query) read them. Results are always exact:
// every candidate is checked again.
#include <chrono>

#include "example_main.hpp"

enum class Plan { free, pro };
BOOST_DESCRIBE_ENUM(Plan, free, pro)

struct Address {
  std::string city;
};
BOOST_DESCRIBE_STRUCT(Address, (), (city))

struct Customer : rapyer::AtomicRedisModel<Customer> {
  rapyer::RedisStr name;
  rapyer::RedisInt age;
  Plan plan = Plan::free;
  Address address;
  rapyer::RedisList<std::string> orders;  // not indexed: collections are never indexed
  static rapyer::model_config redis_config() {
    rapyer::model_config config;
    config.indexes = {"name", "age", "plan", "address.city"};
    return config;
  }
};
BOOST_DESCRIBE_STRUCT(Customer, (), (name, age, plan, address, orders))

rapyer::awaitable<void> queries() {
  using rapyer::where;
  std::vector<Customer> customers(6);
  const char* names[] = {"ada", "alan", "barbara", "claude", "edsger", "grace"};
  const char* cities[] = {"London", "London", "Boston", "Boston", "Austin", "Arlington"};
  for (std::size_t i = 0; i < customers.size(); ++i) {
    customers[i].name = names[i];
    customers[i].age = 30 + 5 * static_cast<long long>(i);
    customers[i].plan = i % 2 == 0 ? Plan::pro : Plan::free;
    customers[i].address.city = cities[i];
  }
  co_await Customer::ainsert(customers);

  // Conditions: ==, <, <=, >, >=, between(), starts_with() (text); combined with && and ||.
  const auto over_40 = co_await Customer::afind(where(&Customer::age) > 40);  // ascending by age
  std::cout << "over 40:";
  for (const auto& c : over_40) std::cout << ' ' << c.name << " (" << c.age << ')';
  std::cout << '\n';
  check(over_40.size() == 3 && over_40.front().name == "claude", "range query");

  const auto pro_in_boston = co_await Customer::afind(where(&Customer::plan) == Plan::pro &&
                                                      where(&Customer::address, &Address::city) == "Boston");
  check(pro_in_boston.size() == 1 && pro_in_boston[0].name == "barbara", "&&");

  const auto a_names = co_await Customer::afind(where(&Customer::name).starts_with("a") || where(&Customer::age) >= 55);
  std::cout << "names starting with a, or 55 and over: " << a_names.size() << '\n';
  check(a_names.size() == 3, "||");

  // !=, ! and in(); pages ordered by an indexed field.
  const auto others = co_await Customer::acount(!(where(&Customer::name).in("ada", "alan")));
  check(others == 4, "! and in()");
  rapyer::find_options page;
  page.order_by = rapyer::order_by(&Customer::age);
  page.descending = true;
  page.offset = 1;
  page.limit = 2;
  const auto second_page = co_await Customer::afind(where(&Customer::address, &Address::city) != "Austin", page);
  std::cout << "2nd and 3rd oldest not in Austin:";
  for (const auto& c : second_page) std::cout << ' ' << c.name;
  std::cout << '\n';
  check(second_page.size() == 2 && second_page[0].name == "claude" && second_page[1].name == "barbara", "page");

  // Every write keeps the index current, atomically: here HINCRBY and the index update in one MULTI.
  co_await customers[0].age.aincrease(40);
  const auto oldest = co_await Customer::afind_one(where(&Customer::age) >= 70);
  check(oldest && oldest->name == "ada", "index follows aincrease");
  std::cout << "now 70 or over: " << oldest->name << '\n';

  co_await customers[0].adelete();  // and deletes remove the entries
  check(!(co_await Customer::afind_one(where(&Customer::age) >= 70)), "index follows delete");

  // Delete by query: returns how many were deleted.
  const std::size_t deleted = co_await Customer::adelete_many(where(&Customer::plan) == Plan::free);
  std::cout << "deleted the free plan: " << deleted << '\n';
  const std::size_t left = co_await Customer::acount(where(&Customer::age) >= 0);
  check(deleted == 3 && left == 2, "delete by query");
}

int main() { return run_example("queries", queries); }
