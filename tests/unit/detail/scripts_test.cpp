#include "rapyer/detail/scripts.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "rapyer/detail/blocking_command.hpp"
#include "rapyer/detail/script.hpp"

namespace rapyer::detail {
namespace {

using argv = std::vector<std::string>;

/// Each command of a request as its arguments, name first.
std::vector<argv> commands_of(const request& req) {
  std::vector<argv> commands;
  for (const auto& command : split_commands(req.payload())) commands.emplace_back(command.begin(), command.end());
  return commands;
}

/// The one command of a request.
argv only_command(const request& req) {
  const auto commands = commands_of(req);
  EXPECT_EQ(commands.size(), 1U);
  return commands.empty() ? argv{} : commands.front();
}

std::string sha_of(const script& s) { return std::string(s.sha); }

TEST(Scripts, EveryScriptIsEmbeddedWithALowercaseSha1OfItsText) {
  std::set<std::string_view> names;
  std::set<std::string_view> shas;
  for (const script* s : scripts::all()) {
    EXPECT_FALSE(s->source.empty()) << s->name;
    EXPECT_EQ(s->sha.size(), 40U) << s->name;
    EXPECT_EQ(s->sha.find_first_not_of("0123456789abcdef"), std::string_view::npos) << s->name;
    names.insert(s->name);
    shas.insert(s->sha);
  }
  EXPECT_EQ(names.size(), 20U);
  EXPECT_EQ(shas.size(), 20U);
  // The scripts calling reindex() carry its definition before their own text.
  for (const script* s : {&scripts::save, &scripts::remove, &scripts::reindex, &scripts::save_if_absent}) {
    EXPECT_LT(s->source.find("local function reindex("), s->source.find("\nreindex(KEYS[1]")) << s->name;
  }
  EXPECT_EQ(scripts::list_insert.source.find("reindex"), std::string_view::npos);
  // The scripts on a field of a model start by refusing a model that does not exist.
  for (const script* s :
       {&scripts::field_command, &scripts::list_insert, &scripts::dict_pop_item, &scripts::integer_arithmetic,
        &scripts::datetime_add, &scripts::dict_pop_many, &scripts::set_algebra}) {
    EXPECT_EQ(s->source.find("if redis.call('EXISTS', KEYS[1]) == 0 then"), s->source.find("if redis.call("))
        << s->name;
    EXPECT_NE(s->source.find("NOMODEL"), std::string_view::npos) << s->name;
  }
  EXPECT_EQ(scripts::lock_release.source.find("NOMODEL"), std::string_view::npos);
  // A guard of save.lua comes before save.lua's own text.
  const std::string_view guarded = scripts::save_if_absent.source;
  const auto save_text = scripts::save.source.substr(scripts::save.source.find("-- Replaces a model"));
  EXPECT_TRUE(guarded.ends_with(save_text));
  EXPECT_LT(guarded.find("redis.call('EXISTS', KEYS[1])"), guarded.size() - save_text.size());
}

TEST(Scripts, FieldCommandRunsTheCommandOnItsKeyUnderTheModelsGuard) {
  request req;
  EXPECT_EQ(scripts::push_field_command(req, "M", "RPUSH", "M:tags", "a", 7), &scripts::field_command);
  EXPECT_EQ(only_command(req),
            (argv{"EVALSHA", sha_of(scripts::field_command), "2", "M", "M:tags", "RPUSH", "a", "7"}));
}

TEST(Scripts, BuildersPushKeysThenArgumentsInTheScriptsOrder) {
  request req;
  EXPECT_EQ(scripts::push_list_insert(req, "M", "L", -2, "v"), &scripts::list_insert);
  EXPECT_EQ(only_command(req), (argv{"EVALSHA", sha_of(scripts::list_insert), "2", "M", "L", "-2", "v"}));

  request all;
  EXPECT_EQ(scripts::push_list_pop_at(all, "M", "L", 3, "t"), &scripts::list_pop_at);
  EXPECT_EQ(scripts::push_list_remove_range(all, "M", "L", 1, -1, "t"), &scripts::list_remove_range);
  EXPECT_EQ(scripts::push_dict_pop(all, "M", "D", "f"), &scripts::dict_pop);
  EXPECT_EQ(scripts::push_dict_pop_item(all, "M", "D"), &scripts::dict_pop_item);
  EXPECT_EQ(scripts::push_string_append(all, "H", "f", "s"), &scripts::string_append);
  EXPECT_EQ(scripts::push_integer_arithmetic(all, "H", "f", "pow", 3), &scripts::integer_arithmetic);
  EXPECT_EQ(scripts::push_float_arithmetic(all, "H", "f", "div", 0.5), &scripts::float_arithmetic);
  EXPECT_EQ(scripts::push_string_repeat(all, "H", "f", 4), &scripts::string_repeat);
  EXPECT_EQ(scripts::push_datetime_add(all, "H", "f", -7), &scripts::datetime_add);
  EXPECT_EQ(scripts::push_lock_release(all, "K", "tok"), &scripts::lock_release);
  EXPECT_EQ(scripts::push_lock_extend(all, "K", "tok", 500), &scripts::lock_extend);
  const auto commands = commands_of(all);
  ASSERT_EQ(commands.size(), 11U);
  EXPECT_EQ(commands[0], (argv{"EVALSHA", sha_of(scripts::list_pop_at), "2", "M", "L", "3", "t"}));
  EXPECT_EQ(commands[1], (argv{"EVALSHA", sha_of(scripts::list_remove_range), "2", "M", "L", "1", "-1", "t"}));
  EXPECT_EQ(commands[2], (argv{"EVALSHA", sha_of(scripts::dict_pop), "2", "M", "D", "f"}));
  EXPECT_EQ(commands[3], (argv{"EVALSHA", sha_of(scripts::dict_pop_item), "2", "M", "D"}));
  EXPECT_EQ(commands[4], (argv{"EVALSHA", sha_of(scripts::string_append), "1", "H", "f", "s"}));
  EXPECT_EQ(commands[5], (argv{"EVALSHA", sha_of(scripts::integer_arithmetic), "1", "H", "f", "pow", "3"}));
  EXPECT_EQ(commands[6], (argv{"EVALSHA", sha_of(scripts::float_arithmetic), "1", "H", "f", "div", "0.5"}));
  EXPECT_EQ(commands[7], (argv{"EVALSHA", sha_of(scripts::string_repeat), "1", "H", "f", "4"}));
  EXPECT_EQ(commands[8], (argv{"EVALSHA", sha_of(scripts::datetime_add), "1", "H", "f", "-7"}));
  EXPECT_EQ(commands[9], (argv{"EVALSHA", sha_of(scripts::lock_release), "1", "K", "tok"}));
  EXPECT_EQ(commands[10], (argv{"EVALSHA", sha_of(scripts::lock_extend), "1", "K", "tok", "500"}));
}

TEST(Scripts, CollectionBuildersTakeTheModelThenEveryKeyTheyTouch) {
  request req;
  EXPECT_EQ(scripts::push_dict_pop_many(req, "M", "D", 3), &scripts::dict_pop_many);
  EXPECT_EQ(scripts::push_set_algebra(req, "M", "M:a", "M:b", "SDIFFSTORE"), &scripts::set_algebra);
  const auto commands = commands_of(req);
  ASSERT_EQ(commands.size(), 2U);
  EXPECT_EQ(commands[0], (argv{"EVALSHA", sha_of(scripts::dict_pop_many), "2", "M", "D", "3"}));
  EXPECT_EQ(commands[1], (argv{"EVALSHA", sha_of(scripts::set_algebra), "3", "M", "M:a", "M:b", "SDIFFSTORE"}));
}

TEST(Scripts, SaveBuilderLaysOutHashCollectionsAndIndexSection) {
  scripts::save_arguments args;
  args.model_key = "M";
  args.ttl_ms = 5000;
  args.version_field = "version";
  args.expected_version = "2";
  args.hash_pairs = std::vector<std::string>{"a", "1", "version", "3"};
  args.collections.push_back({"M:tags", 'l', {"x", "y"}});
  args.collections.push_back({"M:roles", 's', {}});
  args.index = {{"I:age"}, {"1", "id", "n", "age"}};
  request req;
  EXPECT_EQ(scripts::push_save(req, args), &scripts::save);
  EXPECT_EQ(only_command(req), (argv{"EVALSHA", sha_of(scripts::save),
                                     "4",       "M",
                                     "M:tags",  "M:roles",
                                     "I:age",   "5000",
                                     "version", "2",
                                     "2",       "2",
                                     "a",       "1",
                                     "version", "3",
                                     "l",       "2",
                                     "x",       "y",
                                     "s",       "0",
                                     "1",       "id",
                                     "n",       "age"}));

  // Only one collection, hash untouched, no index: what a collection's own save sends.
  scripts::save_arguments collection;
  collection.model_key = "M";
  collection.collections.push_back({"M:tags", 'l', {"z"}});
  request one;
  scripts::push_save(one, collection);
  EXPECT_EQ(only_command(one), (argv{"EVALSHA", sha_of(scripts::save), "2", "M", "M:tags", "0", "", "", "-1", "1", "l",
                                     "1", "z", "0", ""}));

  // The guarded save takes the same KEYS and ARGV.
  request guarded;
  EXPECT_EQ(scripts::push_save_if_absent(guarded, args), &scripts::save_if_absent);
  argv expected = only_command(req);
  expected[1] = sha_of(scripts::save_if_absent);
  EXPECT_EQ(only_command(guarded), expected);
}

TEST(Scripts, RemoveReindexAndExpireBuilders) {
  const scripts::index_section index{{"I:name", "I:name:members"}, {"1", "id", "s", "name"}};
  const std::vector<std::string> model_keys = {"M", "M:tags"};
  request req;
  EXPECT_EQ(scripts::push_remove(req, model_keys, index), &scripts::remove);
  EXPECT_EQ(scripts::push_reindex(req, "M", index), &scripts::reindex);
  EXPECT_EQ(scripts::push_expire_all(req, model_keys, 60), &scripts::expire_all);
  const auto commands = commands_of(req);
  ASSERT_EQ(commands.size(), 3U);
  EXPECT_EQ(commands[0], (argv{"EVALSHA", sha_of(scripts::remove), "4", "M", "M:tags", "I:name", "I:name:members", "2",
                               "1", "id", "s", "name"}));
  EXPECT_EQ(commands[1],
            (argv{"EVALSHA", sha_of(scripts::reindex), "3", "M", "I:name", "I:name:members", "1", "id", "s", "name"}));
  EXPECT_EQ(commands[2], (argv{"EVALSHA", sha_of(scripts::expire_all), "2", "M", "M:tags", "60"}));
}

// ---- noscript_rerun ----

reply noscript() { return reply::error("NOSCRIPT No matching script. Please use EVAL."); }

TEST(NoscriptRerun, NothingToDoWithoutNoscriptOfAKnownScript) {
  request req;
  scripts::push_string_append(req, "H", "f", "s");
  req.push("EVALSHA", std::string(40, '0'), 0);
  EXPECT_FALSE(noscript_rerun::plan(req, {reply::string("s"), noscript()}, noscript_blocks::rerun));
}

TEST(NoscriptRerun, LoadsEachMissingScriptOnceAndRerunsTheFailedPlainCommands) {
  request req;
  scripts::push_string_append(req, "H", "f", "s");
  req.push("HINCRBY", "H", "n", 1);
  scripts::push_string_append(req, "H", "g", "t");
  std::vector<reply> replies = {noscript(), reply::integer(1), noscript()};
  const auto rerun = noscript_rerun::plan(req, replies, noscript_blocks::rerun);
  ASSERT_TRUE(rerun);
  const auto again = commands_of(rerun->again());
  ASSERT_EQ(again.size(), 3U);
  EXPECT_EQ(again[0], (argv{"SCRIPT", "LOAD", std::string(scripts::string_append.source)}));
  EXPECT_EQ(again[1], commands_of(req)[0]);
  EXPECT_EQ(again[2], commands_of(req)[2]);
  rerun->merge(replies,
               {reply::string(std::string(scripts::string_append.sha)), reply::string("s"), reply::string("t")});
  EXPECT_EQ(replies[0].as_string(), "s");
  EXPECT_EQ(replies[1].as_integer(), 1);
  EXPECT_EQ(replies[2].as_string(), "t");
}

TEST(NoscriptRerun, ABlockRerunsOnlyWhatFailedAndTheStateSettingCommandsAfterIt) {
  request req;
  req.push("MULTI");
  req.push("HINCRBY", "H", "n", 1);                                 // ran: never again
  scripts::push_integer_arithmetic(req, "H", "n", "mul", 2);        // failed
  req.push("RPUSH", "L", "x");                                      // ran: never again
  scripts::push_reindex(req, "H", scripts::index_section::none());  // ran too early: again
  req.push("EXPIRE", "L", 60);                                      // again: L may be new
  req.push("EXEC");
  std::vector<reply> replies = {reply::status("OK"),     reply::status("QUEUED"), reply::status("QUEUED"),
                                reply::status("QUEUED"), reply::status("QUEUED"), reply::status("QUEUED")};
  replies.push_back(
      reply::array({reply::integer(4), noscript(), reply::integer(2), reply::integer(1), reply::integer(1)}));
  const auto rerun = noscript_rerun::plan(req, replies, noscript_blocks::rerun);
  ASSERT_TRUE(rerun);
  const auto sent = commands_of(req);
  const auto again = commands_of(rerun->again());
  ASSERT_EQ(again.size(), 6U);
  EXPECT_EQ(again[0], (argv{"SCRIPT", "LOAD", std::string(scripts::integer_arithmetic.source)}));
  EXPECT_EQ(again[1], argv{"MULTI"});
  EXPECT_EQ(again[2], sent[2]);
  EXPECT_EQ(again[3], sent[4]);
  EXPECT_EQ(again[4], sent[5]);
  EXPECT_EQ(again[5], argv{"EXEC"});
  rerun->merge(replies,
               {reply::string("sha"), reply::status("OK"), reply::status("QUEUED"), reply::status("QUEUED"),
                reply::status("QUEUED"), reply::array({reply::string("8"), reply::integer(1), reply::integer(1)})});
  const auto& results = replies.back().as_array();
  EXPECT_EQ(results[0].as_integer(), 4);
  EXPECT_EQ(results[1].as_string(), "8");
  EXPECT_EQ(results[2].as_integer(), 2);
}

TEST(NoscriptRerun, ABlockThatReadsWhatItsScriptWritesRunsAgainWhole) {
  request req;
  req.push("MULTI");
  scripts::push_reindex(req, "H", scripts::index_section::none());  // failed
  req.push("HGETALL", "H");                                         // ran, but before the script
  req.push("EXPIRE", "H", 60);
  req.push("EXEC");
  std::vector<reply> replies = {reply::status("OK"), reply::status("QUEUED"), reply::status("QUEUED"),
                                reply::status("QUEUED"),
                                reply::array({noscript(), reply::array({}), reply::integer(0)})};
  const auto rerun = noscript_rerun::plan(req, replies, noscript_blocks::rerun_whole);
  ASSERT_TRUE(rerun);
  auto expected = commands_of(req);
  expected.insert(expected.begin(), argv{"SCRIPT", "LOAD", std::string(scripts::reindex.source)});
  EXPECT_EQ(commands_of(rerun->again()), expected);
  rerun->merge(
      replies,
      {reply::string("sha"), reply::status("OK"), reply::status("QUEUED"), reply::status("QUEUED"),
       reply::status("QUEUED"),
       reply::array({reply::integer(1), reply::array({reply::string("f"), reply::string("v")}), reply::integer(1)})});
  const auto& results = replies.back().as_array();
  EXPECT_EQ(results[0].as_integer(), 1);
  EXPECT_EQ(results[1].as_array().size(), 2U);
  EXPECT_EQ(results[2].as_integer(), 1);
  EXPECT_FALSE(has_noscript(replies));
}

TEST(NoscriptRerun, AWatchedBlockIsOnlyLoadedForTheCallerToRetry) {
  request req;
  req.push("MULTI");
  scripts::push_string_append(req, "H", "f", "s");
  req.push("EXEC");
  std::vector<reply> replies = {reply::status("OK"), reply::status("QUEUED"), reply::array({noscript()})};
  const auto rerun = noscript_rerun::plan(req, replies, noscript_blocks::load_only);
  ASSERT_TRUE(rerun);
  EXPECT_EQ(commands_of(rerun->again()),
            (std::vector<argv>{{"SCRIPT", "LOAD", std::string(scripts::string_append.source)}}));
  rerun->merge(replies, {reply::string("sha")});
  EXPECT_TRUE(has_noscript(replies));
}

}  // namespace
}  // namespace rapyer::detail
