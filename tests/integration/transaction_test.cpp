#include "rapyer/transaction.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "rapyer/rapyer.hpp"
#include "test_models.hpp"
#include "test_support.hpp"

namespace {

namespace asio = boost::asio;
using rapyer::awaitable;

struct Account : rapyer::AtomicRedisModel<Account> {
  long long balance = 0;  // plain field: read-modify-write
  rapyer::RedisList<std::string> history;
};
BOOST_DESCRIBE_STRUCT(Account, (), (balance, history))

struct Document : rapyer::AtomicRedisModel<Document> {
  std::string text;
  rapyer::Version version;
};
BOOST_DESCRIBE_STRUCT(Document, (), (text, version))

class TransactionTest : public rapyer::test::model_test {};

TEST_F(TransactionTest, VersionedSaveDetectsAConcurrentSave) {
  Document doc;
  doc.text = "v1";
  run(doc.save());
  EXPECT_EQ(doc.version.value(), 1);
  EXPECT_EQ(raw("HGET", doc.key(), "version").as_string(), "1");
  Document mine = run(Document::get(doc.key()));
  Document theirs = run(Document::get(doc.key()));
  theirs.text = "theirs";
  run(theirs.save());
  mine.text = "mine";
  EXPECT_THROW(run(mine.save()), rapyer::version_conflict);
  EXPECT_EQ(raw("HGET", doc.key(), "text").as_string(), "theirs");  // the failed save changed nothing
  EXPECT_EQ(raw("HGET", doc.key(), "version").as_string(), "2");
  run(mine.load());
  mine.text = "mine, rebased";
  run(mine.save());
  EXPECT_EQ(run(Document::get(doc.key())).version.value(), 3);
}

TEST_F(TransactionTest, ConcurrentReadModifyWriteAcrossProcessesIsExact) {
  Account account;
  run(account.save());
  const std::string key = account.key();
  const auto nothing = [](int) -> awaitable<void> { co_return; };
  const auto deposit = [&](int p, int c) -> awaitable<void> {
    (void)co_await rapyer::atransaction<Account>(key, [&](Account& fresh) -> awaitable<void> {
      fresh.balance += 1;
      fresh.history.push_back(std::to_string(p) + ":" + std::to_string(c));
      co_return;
    });
  };
  EXPECT_TRUE(rapyer::test::run_in_processes(4, 50, nothing, deposit));
  const Account loaded = run(Account::get(key));
  EXPECT_EQ(loaded.balance, 200);
  EXPECT_EQ(loaded.history.size(), 200u);
}

TEST_F(TransactionTest, RetryBoundIsReportedUnderForcedConflict) {
  Account account;
  run(account.save());
  rapyer::transaction_options options;
  options.max_attempts = 5;
  int attempts = 0;
  EXPECT_THROW(run(account.atransaction(
                   [&](Account& fresh) -> awaitable<void> {
                     ++attempts;
                     // Another client changes a watched key between WATCH and EXEC, every time.
                     co_await rapyer::default_client().execute("HSET", fresh.key(), "balance", attempts);
                     fresh.balance = 1000;
                   },
                   options)),
               rapyer::transaction_conflict);
  EXPECT_EQ(attempts, 5);
  EXPECT_EQ(raw("HGET", account.key(), "balance").as_string(), "5");  // no transaction's write landed
}

TEST_F(TransactionTest, ReturnsTheSavedModelAndAnExceptionWritesNothing) {
  Account account;
  account.balance = 10;
  run(account.save());
  const Account saved = run(account.atransaction([](Account& fresh) -> awaitable<void> {
    fresh.balance *= 3;
    co_return;
  }));
  EXPECT_EQ(saved.balance, 30);
  EXPECT_EQ(raw("HGET", account.key(), "balance").as_string(), "30");
  EXPECT_THROW(run(account.atransaction([](Account& fresh) -> awaitable<void> {
                 fresh.balance = -1;
                 throw std::runtime_error("no");
                 co_return;
               })),
               std::runtime_error);
  EXPECT_EQ(raw("HGET", account.key(), "balance").as_string(), "30");
}

// Transfers between two models from 4 processes x 25 coroutines: each is all-or-nothing, so the
// sum never changes and the counts are exact.
TEST_F(TransactionTest, TransfersBetweenTwoModelsAreExactAcrossProcesses) {
  RAPYER_STANDALONE_ONLY("the two models lie in different hash slots (refused on a cluster, see below)");
  Account from;
  from.balance = 1000;
  Account to;
  run(from.save());
  run(to.save());
  const std::string from_key = from.key();
  const std::string to_key = to.key();
  const auto nothing = [](int) -> awaitable<void> { co_return; };
  const auto transfer = [&](int p, int c) -> awaitable<void> {
    const std::string tag = std::to_string(p) + ":" + std::to_string(c);
    const auto moved = [&](Account& source, Account& target) -> awaitable<void> {
      source.balance -= 1;
      target.balance += 1;
      source.history.push_back("out " + tag);
      target.history.push_back("in " + tag);
      co_return;
    };
    const auto [source, target] = co_await rapyer::atransaction<Account, Account>(from_key, to_key, moved);
    if (source.balance + target.balance != 1000) throw std::logic_error("a transfer saw a half-applied state");
  };
  EXPECT_TRUE(rapyer::test::run_in_processes(4, 25, nothing, transfer));
  const Account source = run(Account::get(from_key));
  const Account target = run(Account::get(to_key));
  EXPECT_EQ(source.balance, 900);
  EXPECT_EQ(target.balance, 100);
  EXPECT_EQ(source.history.size(), 100u);
  EXPECT_EQ(target.history.size(), 100u);
}

TEST_F(TransactionTest, MultiModelConflictOrExceptionWritesNeitherModel) {
  RAPYER_STANDALONE_ONLY("the two models lie in different hash slots (refused on a cluster, see below)");
  Account account;
  account.balance = 7;
  Document doc;
  doc.text = "draft";
  run(account.save());
  run(doc.save());
  rapyer::transaction_options options;
  options.max_attempts = 3;
  int attempts = 0;
  const auto touch_doc_every_time = [&](Account& a, Document& d) -> awaitable<void> {
    ++attempts;
    co_await rapyer::default_client().execute("HSET", d.key(), "text", "theirs " + std::to_string(attempts));
    a.balance = 0;
    d.text = "mine";
  };
  EXPECT_THROW(run(rapyer::atransaction<Account, Document>(account.key(), doc.key(), touch_doc_every_time, options)),
               rapyer::transaction_conflict);
  EXPECT_EQ(attempts, 3);
  EXPECT_EQ(raw("HGET", account.key(), "balance").as_string(), "7");
  EXPECT_EQ(raw("HGET", doc.key(), "text").as_string(), "theirs 3");

  const auto failing = [](Account& a, Document& d) -> awaitable<void> {
    a.balance = 0;
    d.text = "lost";
    throw std::runtime_error("no");
    co_return;
  };
  EXPECT_THROW(run(rapyer::atransaction<Account, Document>(account.key(), doc.key(), failing)), std::runtime_error);
  EXPECT_EQ(raw("HGET", account.key(), "balance").as_string(), "7");
  EXPECT_EQ(raw("HGET", doc.key(), "text").as_string(), "theirs 3");

  const auto publish = [](Account& a, Document& d) -> awaitable<void> {
    a.balance += 1;
    d.text = "published";
    co_return;
  };
  const auto [saved_account, saved_doc] =
      run(rapyer::atransaction<Account, Document>(account.key(), doc.key(), publish));
  EXPECT_EQ(saved_account.balance, 8);
  EXPECT_EQ(saved_doc.text, "published");
  EXPECT_EQ(saved_doc.version.value(), 2);  // the versioned save ran inside the transaction
  EXPECT_EQ(raw("HGET", doc.key(), "version").as_string(), "2");
  EXPECT_EQ(raw("HGET", account.key(), "balance").as_string(), "8");
}

TEST_F(TransactionTest, OnAClusterModelsInDifferentSlotsAreRefusedBeforeAnythingIsSent) {
  if (!rapyer::test::on_cluster()) GTEST_SKIP() << "cluster only: one server holds every slot";
  Account account;
  account.balance = 7;
  Document doc;
  run(account.save());
  run(doc.save());
  int calls = 0;
  const auto change = [&](Account& a, Document&) -> awaitable<void> {
    ++calls;
    a.balance = 0;
    co_return;
  };
  try {
    run(rapyer::atransaction<Account, Document>(account.key(), doc.key(), change));
    FAIL() << "a transaction across slots ran";
  } catch (const rapyer::usage_error& e) {
    EXPECT_NE(std::string(e.what()).find(account.key()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(doc.key()), std::string::npos) << e.what();
  }
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(raw("HGET", account.key(), "balance").as_string(), "7");
}

}  // namespace
