#include "rapyer/detail/model_base.hpp"

#include <algorithm>

#include "rapyer/detail/command_reader.hpp"
#include "rapyer/detail/scripts.hpp"
#include "rapyer/error.hpp"
#include "rapyer/init.hpp"

namespace rapyer::detail {

void throw_if_version_conflict(std::string_view server_message) {
  constexpr std::string_view marker = "VERSIONCONFLICT ";
  if (server_message.starts_with(marker)) throw version_conflict(std::string(server_message.substr(marker.size())));
}

std::string operation_name(const request& sent) {
  argv_buffer argv;
  command_reader reader(sent.payload());
  if (!reader.next(argv) || argv.empty()) return {};
  if (argv.size() < 2 || argv[0] != "EVALSHA") return std::string(argv[0]);
  const auto all = scripts::all();
  const auto called = std::find_if(all.begin(), all.end(), [&](const script* s) { return s->sha == argv[1]; });
  if (called == all.end()) return std::string(argv[0]);
  // EVALSHA <sha> 2 <model key> <key> <command> ...
  if (*called == &scripts::field_command && argv.size() > 5) return std::string(argv[5]);
  return std::string((*called)->name);
}

void model_base::throw_if_failed(const reply& outcome, const request& sent, std::string_view field) const {
  const std::string& message = outcome.error_message();
  if (is_missing_model(message)) throw key_not_found(key() + (field.empty() ? "" : " field " + std::string(field)));
  throw_if_version_conflict(message);
  throw server_error(operation_name(sent), message);
}

model_base::model_base() : id_(new_uuid4()) {}

std::string model_base::key_with_suffix(std::string_view suffix) const {
  const std::string identifier = id();
  if (identifier.empty()) throw usage_error(model_name() + " has no key yet: its key field is empty");
  return layout().model_key(identifier, suffix);
}

client& model_base::redis() const { return config().redis ? *config().redis : default_client(); }

void push_reindex_call(request& req, const std::string& key, const key_layout& layout, const std::string& id,
                       std::span<const index_spec> specs) {
  if (specs.empty()) return;
  scripts::push_reindex(req, key, index_section_of(layout, id, specs));
}

void model_base::push_reindex(request& req, std::span<const index_spec> specs) const {
  push_reindex_call(req, key(), layout(), id(), specs);
}

void model_base::push_refresh(request& req) const {
  if (!refreshes_ttl()) return;
  for (const auto& k : all_keys()) req.push("EXPIRE", k, config().ttl->count());
}

const model_base& field_proxy::model() const {
  if (owner_ == nullptr) {
    throw usage_error(
        "this field is not part of a model (a standalone or default-constructed proxy): "
        "operations need the model's key");
  }
  return *owner_;
}

std::string field_proxy::field_name() const { return std::string(model().field_name_of(this)); }

std::span<const index_spec> model_base::indexes_under(std::string_view field) const {
  if (field.empty()) return {};
  // The field itself, or the paths inside it (a nested struct): adjacent, as the paths are sorted.
  const auto under = [&](const index_spec& s) {
    return s.path.starts_with(field) && (s.path.size() == field.size() || s.path[field.size()] == '.');
  };
  const auto all = indexes();
  const auto first = std::find_if(all.begin(), all.end(), under);
  return {first, std::find_if_not(first, all.end(), under)};
}

void model_base::enqueue(request command, reply_handler apply, std::string_view field,
                         std::span<const index_spec> reindexed) const {
  pipeline_state* pipeline = active_pipeline();
  std::string description = operation_name(command) + " " + key();
  if (!field.empty()) description.append(" ").append(field);
  pipeline->operations.push_back({std::move(command), std::move(apply), description});
  if (!reindexed.empty()) {
    request reindex;
    push_reindex(reindex, reindexed);
    pipeline->operations.push_back({std::move(reindex), {}, "reindex of " + description});
  }
}

awaitable<reply> field_proxy::read(request command) const {
  const model_base& owner = model();
  auto replies = co_await execute_calling_scripts(owner.redis(), command);
  if (replies.front().is_error()) owner.throw_if_failed(replies.front(), command, owner.field_name_of(this));
  co_return std::move(replies.front());
}

awaitable<reply> model_base::execute_operation(const request& command, std::span<const index_spec> reindexed) const {
  client& connection = redis();
  // One write: MULTI, the operation, the index update, EXPIREs, EXEC. On a pipelined connection
  // nothing can come between them, and MULTI makes them atomic with the operation. When a script
  // was missing, what failed runs again with the index update and EXPIREs after it (noscript_rerun).
  request wrapped;
  wrapped.push("MULTI").append(command);
  push_reindex(wrapped, reindexed);
  push_refresh(wrapped);
  wrapped.push("EXEC");
  auto replies = co_await execute_calling_scripts(connection, wrapped);
  replies.back().throw_if_error("EXEC");
  auto& results = replies.back().as_array();
  if (!reindexed.empty()) results[1].throw_if_error("reindex");
  co_return std::move(results.front());
}

}  // namespace rapyer::detail
