// What a field proxy needs of the model that holds it, independent of the model's class; and how
// a proxy finds that model: each model constructor opens a "binding scope" covering its own bytes,
// and every proxy constructed inside those bytes binds to it. This keeps fields working in copies
// and moves of a model without the user writing any constructor.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rapyer/client.hpp"
#include "rapyer/detail/index.hpp"
#include "rapyer/detail/key_layout.hpp"
#include "rapyer/detail/random.hpp"
#include "rapyer/detail/script.hpp"
#include "rapyer/model_config.hpp"

namespace rapyer {

/// A field that failed to decode in a safe-load field, left at its default.
struct load_issue {
  std::string field;
  std::string reason;
};

namespace detail {

class model_base;

/// What to do with an operation's reply once it arrives (update the local copy). Type-erased
/// only when apipeline() queues the operation; otherwise it runs in place.
using reply_handler = std::function<void(const reply&)>;

/// The handler of operations whose local effect needs nothing from the reply.
struct ignore_reply {
  void operator()(const reply& /*result*/) const noexcept {}
};

/// The count an operation returns (RPUSH's length, SADD's additions, ...): 0 for the nil reply of
/// an operation queued in apipeline(), whose result is not known yet.
inline std::size_t count_or_zero(const reply& result) {
  return result.is_nil() ? 0 : static_cast<std::size_t>(result.as_integer());
}
/// Whether an operation's count was exactly one (SADD, SREM, HDEL of one element); false inside
/// apipeline().
inline bool counted_one(const reply& result) { return count_or_zero(result) == 1; }

/// Operations queued by apipeline(): sent as one MULTI/EXEC when its body ends.
struct pipeline_state {
  struct operation {
    request command;  // exactly one command
    reply_handler apply;
    std::string description;  // "HINCRBY User:{...} age", for error reports
  };
  std::vector<operation> operations;
  std::vector<const model_base*> models;
};

struct binding_scope {
  const model_base* owner = nullptr;
  std::uintptr_t begin = 0;  // addresses as integers: the range may extend before the base subobject
  std::uintptr_t end = 0;
  std::size_t proxies_left = 0;
};
inline thread_local binding_scope constructing_model;

/// Base of every model; not used directly (see AtomicRedisModel).
class model_base {
 public:
  virtual ~model_base() = default;

  /// The model's key (key_layout): every key of the model is in one cluster hash slot.
  std::string key() const { return key_with_suffix({}); }
  /// "<key>:<field>": the key of the collection field named `field`.
  std::string collection_key(std::string_view field) const { return key_with_suffix(field); }
  /// The id: the Key<T> field's value when the model has one, else a uuid4 made at construction.
  virtual std::string id() const { return id_; }
  /// The model's class name as stored ("User").
  virtual const std::string& model_name() const = 0;
  virtual const model_config& config() const = 0;
  /// The model key and the key of every list / dict / set field.
  virtual std::vector<std::string> all_keys() const = 0;
  /// The class's indexed fields (model_config::indexes).
  virtual std::span<const index_spec> indexes() const = 0;
  /// How the class's keys are built and parsed.
  virtual const key_layout& layout() const = 0;
  /// Safe-load fields that failed to decode in the last load.
  const std::vector<load_issue>& load_errors() const noexcept { return load_errors_; }

  /// The model's client: model_config::redis, else the default from rapyer::init.
  client& redis() const;
  /// Name of the top-level field stored at `member` (an address inside this model).
  virtual std::string_view field_name_of(const void* member) const = 0;

  /// Appends a call of the reindex script for the indexed fields among `specs` (nothing when empty).
  void push_reindex(request& req, std::span<const index_spec> specs) const;

  /// Appends `EXPIRE key ttl` for every key when refresh_ttl is configured.
  void push_refresh(request& req) const;
  bool refreshes_ttl() const noexcept { return config().refresh_ttl && config().ttl.has_value(); }

  /// Runs a request of ONE command (a call of a script: field operations run only while the model
  /// exists, see scripts.hpp) atomically with the TTL refresh when configured and the update of the
  /// indexes under `field`, then apply(reply); throws as throw_if_failed on an error reply. Inside
  /// apipeline() the command is queued instead and apply runs after EXEC. Returns result(reply),
  /// the operation's value, where the reply is nil inside apipeline(). Operations return this
  /// awaitable directly: no coroutine frame of their own.
  template <class Apply, class Result>
  awaitable<std::invoke_result_t<Result&, const reply&>> perform_returning(request command, Apply apply, Result result,
                                                                           std::string_view field) const {
    const std::span<const index_spec> reindexed = indexes_under(field);
    if (active_pipeline() != nullptr) {
      enqueue(std::move(command), reply_handler(std::move(apply)), field, reindexed);
      co_return result(reply());
    }
    reply outcome;
    if (reindexed.empty() && !refreshes_ttl()) {
      // Most operations are one script call alone: awaited here, without the frame of the general path.
      auto replies = co_await execute_calling_scripts(redis(), command);
      outcome = std::move(replies.front());
    } else {
      outcome = co_await execute_operation(command, reindexed);
    }
    if (outcome.is_error()) throw_if_failed(outcome, command, field);
    apply(outcome);
    co_return result(outcome);
  }
  /// perform_returning() of an operation without a value.
  template <class Apply = ignore_reply>
  awaitable<void> perform(request command, Apply apply = {}, std::string_view field = {}) const {
    return perform_returning(std::move(command), std::move(apply), ignore_reply{}, field);
  }

  /// Throws what the error reply `outcome` to the operation `sent` on `field` means: key_not_found
  /// when the model does not exist (NOMODEL), version_conflict when a save found another version,
  /// else server_error naming the operation (the command a field_command call runs).
  [[noreturn]] void throw_if_failed(const reply& outcome, const request& sent, std::string_view field) const;

  /// The pipeline this model is part of, or null.
  pipeline_state* active_pipeline() const noexcept { return pipeline_.state; }
  void set_pipeline(pipeline_state* state) const noexcept { pipeline_.state = state; }

 protected:
  model_base();
  model_base(const model_base&) = default;
  model_base& operator=(const model_base&) = default;
  void open_binding_scope(std::uintptr_t begin, std::size_t size, std::size_t proxies) const noexcept {
    constructing_model = proxies == 0 ? binding_scope{} : binding_scope{this, begin, begin + size, proxies};
  }

  std::string id_;
  std::vector<load_issue> load_errors_;

 private:
  /// key(), followed by ":<suffix>" when there is one, built in one allocation (field operations
  /// build a key every time).
  std::string key_with_suffix(std::string_view suffix) const;
  /// The indexes of the field named `field` or of paths inside it (none for an empty name).
  std::span<const index_spec> indexes_under(std::string_view field) const;
  /// perform() inside apipeline(): queues the command, and the index update after it.
  void enqueue(request command, reply_handler apply, std::string_view field,
               std::span<const index_spec> reindexed) const;
  /// perform() outside apipeline() of an operation with index updates or a TTL refresh: MULTI, the
  /// operation, the index update, EXPIREs, EXEC; the operation's reply. `command` outlives the call.
  awaitable<reply> execute_operation(const request& command, std::span<const index_spec> reindexed) const;

  /// Not copied with the model: a copy is not part of its original's pipeline.
  struct pipeline_slot {
    pipeline_state* state = nullptr;
    pipeline_slot() = default;
    pipeline_slot(const pipeline_slot&) noexcept {}
    // NOLINTNEXTLINE(bugprone-unhandled-self-assignment): copies nothing on purpose
    pipeline_slot& operator=(const pipeline_slot&) noexcept { return *this; }
  };
  mutable pipeline_slot pipeline_;
};

/// Appends a call of the reindex script bringing the `specs` index entries of the model at `key`
/// (id `id`, of the class laid out by `layout`) up to date (nothing when `specs` is empty).
void push_reindex_call(request& req, const std::string& key, const key_layout& layout, const std::string& id,
                       std::span<const index_spec> specs);

/// Whether a server message is a field script's refusal of a model that does not exist.
inline bool is_missing_model(std::string_view server_message) { return server_message.starts_with("NOMODEL "); }

/// Throws version_conflict when a save's error message is the save script's version check.
void throw_if_version_conflict(std::string_view server_message);

/// The name an error report gives the first command of `sent`: the command itself, the command a
/// field_command script call runs ("HINCRBY"), or the name of another script called.
std::string operation_name(const request& sent);

/// Base of the field proxies (RedisInt, RedisList, ...): knows its model and its field name, and
/// runs one-command operations atomically with the TTL refresh.
class field_proxy {
 public:
  /// The Redis key the field's data lives in: the model's hash, or its own key for collections.
  const model_base& model() const;
  std::string field_name() const;

 protected:
  field_proxy() noexcept { bind(); }
  field_proxy(const field_proxy&) noexcept { bind(); }
  // NOLINTNEXTLINE(bugprone-unhandled-self-assignment): keeps its own model, copies nothing
  field_proxy& operator=(const field_proxy&) noexcept { return *this; }
  ~field_proxy() = default;

  /// model().perform_returning(...) for this field.
  template <class Apply, class Result>
  auto perform_returning(request command, Apply apply, Result result) const {
    const model_base& owner = model();
    return owner.perform_returning(std::move(command), std::move(apply), std::move(result), owner.field_name_of(this));
  }
  /// model().perform(...) for this field.
  template <class Apply = ignore_reply>
  awaitable<void> perform(request command, Apply apply = {}) const {
    return perform_returning(std::move(command), std::move(apply), ignore_reply{});
  }
  /// Reads the field with `command` (a field_command call) without queueing it in apipeline():
  /// its reply, after throwing as model().throw_if_failed on an error.
  awaitable<reply> read(request command) const;

 private:
  void bind() noexcept {
    auto& scope = constructing_model;
    const auto self = reinterpret_cast<std::uintptr_t>(this);
    if (scope.proxies_left > 0 && self >= scope.begin && self < scope.end) {
      owner_ = scope.owner;
      if (--scope.proxies_left == 0) scope = {};
    }
  }

  const model_base* owner_ = nullptr;
};

}  // namespace detail
}  // namespace rapyer
