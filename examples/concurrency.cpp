// Multi-field changes made safe: a lock-protected read-modify-write, a pipeline of mixed field
// operations sent as one MULTI/EXEC, and optimistic transactions with retry, on one model and
// across two.
#include "example_main.hpp"

struct Account : rapyer::AtomicRedisModel<Account> {
  rapyer::RedisStr owner;
  rapyer::RedisInt balance;
  rapyer::RedisList<std::string> history;
  long long audited = 0;  // a plain field, changed by read-modify-write
};
BOOST_DESCRIBE_STRUCT(Account, (), (owner, balance, history, audited))

rapyer::awaitable<void> concurrency() {
  Account account;
  account.owner = "alice";
  account.balance = 100;
  co_await account.save();

  // 1. A lock: load fresh, change, save at the end; released whatever happens.
  rapyer::lock_options options;
  options.save_at_end = true;
  co_await account.alock(
      [](Account& fresh) -> rapyer::awaitable<void> {
        fresh.audited += 1;
        co_return;
      },
      options);

  // 2. A pipeline: queued locally, sent as ONE MULTI/EXEC; arithmetic stays server-relative.
  co_await account.apipeline([](Account& a) -> rapyer::awaitable<void> {
    co_await a.balance.aincrease(-30);
    co_await a.history.aappend("withdraw 30");
    co_await a.owner.aappend(" smith");
  });
  std::cout << "after the pipeline: balance " << account.balance << ", owner '" << account.owner << "'\n";

  // 3. An optimistic transaction: WATCH, load, change, MULTI/EXEC; retried on conflict.
  const Account saved = co_await account.atransaction([](Account& fresh) -> rapyer::awaitable<void> {
    fresh.audited += 1;
    fresh.history.push_back("audited");
    co_return;
  });
  std::cout << "after the transaction: audited " << saved.audited << ", history size " << saved.history.size() << '\n';

  const Account loaded = co_await Account::get(account.key());
  check(loaded.balance == 70 && loaded.owner == "alice smith" && loaded.audited == 2 && loaded.history.size() == 2,
        "concurrency example state");

  // 4. A transaction over two models: both are saved in one MULTI/EXEC, or neither is.
  Account bob;
  bob.owner = "bob";
  co_await bob.save();
  const auto transfer = [](Account& from, Account& to) -> rapyer::awaitable<void> {
    from.audited -= 1;  // plain fields: read-modify-write, safe inside the transaction
    to.audited += 1;
    co_return;
  };
  const auto [alice_after, bob_after] =
      co_await rapyer::atransaction<Account, Account>(account.key(), bob.key(), transfer);
  std::cout << "after the transfer: alice " << alice_after.audited << ", bob " << bob_after.audited << '\n';
  check(alice_after.audited == 1 && bob_after.audited == 1, "two-model transaction");
}

int main() { return run_example("concurrency", concurrency); }
