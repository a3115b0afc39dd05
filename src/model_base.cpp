#include "rapyer/detail/model_base.hpp"

#include <algorithm>
#include <random>

#include "rapyer/error.hpp"
#include "rapyer/init.hpp"

namespace rapyer::detail {

void throw_if_version_conflict(std::string_view server_message) {
  constexpr std::string_view marker = "VERSIONCONFLICT ";
  if (server_message.starts_with(marker)) throw version_conflict(std::string(server_message.substr(marker.size())));
}

std::string new_uuid4() {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  std::uint64_t high = generator();
  std::uint64_t low = generator();
  high = (high & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;  // version 4
  low = (low & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;    // variant 1
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 32; ++i) {
    const std::uint64_t word = i < 16 ? high : low;
    const int shift = 60 - 4 * (i % 16);
    if (i == 8 || i == 12 || i == 16 || i == 20) out += '-';
    out += digits[(word >> shift) & 0xF];
  }
  return out;
}

model_base::model_base() : id_(new_uuid4()) {}

std::string model_base::key() const {
  const std::string identifier = id();
  if (identifier.empty()) throw usage_error(model_name() + " has no key yet: its key field is empty");
  std::string out = config().prefix;
  out.append(model_name()).append(":{").append(identifier).append("}");
  return out;
}

client& model_base::redis() const { return config().redis ? *config().redis : default_client(); }

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

awaitable<void> field_proxy::perform(request command, reply_handler apply, const script* used) const {
  const model_base& owner = model();
  return owner.perform(std::move(command), std::move(apply), used, owner.field_name_of(this));
}

awaitable<void> model_base::perform(request command, reply_handler apply, const script* used,
                                    std::string_view field) const {
  const std::string name = command.command_name(0);
  if (pipeline_state* pipeline = active_pipeline()) {
    std::string description = name + " " + key();
    if (!field.empty()) description.append(" ").append(field);
    if (used != nullptr &&
        std::find(pipeline->scripts.begin(), pipeline->scripts.end(), used) == pipeline->scripts.end()) {
      pipeline->scripts.push_back(used);
    }
    pipeline->operations.push_back({std::move(command), std::move(apply), std::move(description)});
    co_return;
  }
  client& connection = redis();
  reply result;
  if (!refreshes_ttl()) {
    auto replies = co_await execute_with_script(connection, command, used);
    result = std::move(replies.front());
  } else {
    // One write: MULTI, the operation, EXPIREs, EXEC. On a pipelined connection nothing can come
    // between them, and MULTI makes the TTL refresh atomic with the operation.
    request wrapped;
    wrapped.push("MULTI").append(command);
    push_refresh(wrapped);
    wrapped.push("EXEC");
    auto replies = co_await execute_with_script(connection, wrapped, used);
    replies.back().throw_if_error("EXEC");
    result = std::move(replies.back().as_array().front());
  }
  result.throw_if_error(name);
  if (apply) apply(result);
}

}  // namespace rapyer::detail
