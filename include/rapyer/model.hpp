// AtomicRedisModel<Derived>: a struct described with BOOST_DESCRIBE_STRUCT becomes a Redis model.
//
//   struct User : rapyer::AtomicRedisModel<User> {
//     rapyer::RedisStr name;
//     rapyer::RedisInt age;
//     rapyer::RedisList<std::string> tags;
//   };
//   BOOST_DESCRIBE_STRUCT(User, (), (name, age, tags))
//
// Every operation below is one round trip. The storage layout is described in model_layout.hpp
// and in the README.
#pragma once

#include <boost/describe.hpp>  // BOOST_DESCRIBE_STRUCT / BOOST_DESCRIBE_ENUM for the user's models
#include <chrono>
#include <concepts>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "rapyer/detail/atomic_blocks.hpp"
#include "rapyer/detail/layout_migration.hpp"
#include "rapyer/detail/model_layout.hpp"
#include "rapyer/detail/model_registry.hpp"
#include "rapyer/detail/scripts.hpp"
#include "rapyer/detail/type_name.hpp"
#include "rapyer/error.hpp"
#include "rapyer/init.hpp"
#include "rapyer/lock.hpp"
#include "rapyer/model_pipeline.hpp"
#include "rapyer/query.hpp"
#include "rapyer/registry.hpp"
#include "rapyer/transaction.hpp"

namespace rapyer {

/// What aget_or_create returns: the model as stored, and whether this call created it.
template <class Model>
struct get_or_create_result {
  Model model;
  bool created = false;
};

template <class Derived>
class AtomicRedisModel : public detail::model_base {
 public:
  AtomicRedisModel() { open_scope(); }
  AtomicRedisModel(const AtomicRedisModel& other) : model_base(other) { open_scope(); }
  AtomicRedisModel(AtomicRedisModel&& other) noexcept : model_base(other) { open_scope(); }
  AtomicRedisModel& operator=(const AtomicRedisModel&) = default;
  AtomicRedisModel& operator=(AtomicRedisModel&&) noexcept = default;

  // ---- identity ----
  std::string id() const override {
    if constexpr (detail::has_key_field<Derived>()) {
      std::string out;
      detail::for_each_member(self(), [&](const char*, const auto& member) {
        if constexpr (detail::is_key_field_v<std::remove_cvref_t<decltype(member)>>)
          out = detail::encode(member.value());
      });
      return out;
    } else {
      return id_;
    }
  }
  /// Gives a model without a Key<T> field another id (the key follows).
  void set_id(std::string_view id) { id_ = id; }

  const std::string& model_name() const override { return class_name(); }
  const model_config& config() const override { return class_config(); }
  std::vector<std::string> all_keys() const override { return keys_of(key()); }
  std::span<const detail::index_spec> indexes() const override { return class_indexes(); }
  const detail::key_layout& layout() const override { return class_layout(); }
  std::string_view field_name_of(const void* member) const override {
    std::string_view found;
    detail::for_each_member(self(), [&](const char* name, const auto& m) {
      if (static_cast<const void*>(&m) == member) found = name;
    });
    return found;
  }

  /// The class's settings: Derived::redis_config() when declared, else the defaults.
  static const model_config& class_config() {
    static const model_config config = [] {
      if constexpr (requires { Derived::redis_config(); }) {
        return model_config(Derived::redis_config());
      } else {
        return model_config{};
      }
    }();
    return config;
  }
  static const std::string& class_name() {
    static const std::string name = class_config().name.empty() ? detail::type_name<Derived>() : class_config().name;
    return name;
  }
  /// How the class's keys are built and parsed (see key_layout.hpp): in index buckets when the
  /// class has indexes. usage_error for an indexed class with model_config::index_buckets 0.
  static const detail::key_layout& class_layout() {
    static const detail::key_layout layout = [] {
      const auto& c = class_config();
      if (!c.indexes.empty() && c.index_buckets == 0) {
        throw usage_error(class_name() + " has indexes: model_config::index_buckets must be at least 1");
      }
      return detail::key_layout(c.prefix, class_name(), c.indexes.empty() ? 0 : c.index_buckets);
    }();
    return layout;
  }
  /// The key of the model with `id`.
  static std::string key_for(std::string_view id) { return class_layout().model_key(id); }
  /// The key a lookup (get, afind, aexists) is given: for a class with a Key<T> field, a key of the
  /// class or else a bare id (key_layout::key_of); for any other class, a key.
  static std::string lookup_key(std::string key_or_id) {
    if constexpr (detail::has_key_field<Derived>()) {
      return class_layout().key_of(key_or_id);
    } else {
      return key_or_id;
    }
  }
  /// Every key of the model at `key`: the hash and each collection key.
  static std::vector<std::string> keys_of(const std::string& key) {
    std::vector<std::string> keys = {key};
    boost::mp11::mp_for_each<detail::public_members<Derived>>([&](auto member) {
      using M = std::remove_cvref_t<decltype(std::declval<Derived&>().*member.pointer)>;
      if constexpr (detail::is_collection_field_v<M>) keys.push_back(key + ":" + member.name);
    });
    return keys;
  }
  /// The indexed fields of model_config::indexes with their kinds; usage_error for a name that is
  /// no field of the model's hash, or a field that cannot be indexed (a JSON value).
  static const std::vector<detail::index_spec>& class_indexes() {
    static const std::vector<detail::index_spec> specs = [] {
      std::vector<detail::index_spec> out;
      if (class_config().indexes.empty()) return out;
      const Derived probe;
      for (const auto& path : class_config().indexes) {
        bool found = false;
        detail::for_each_hash_field(probe, "", [&](const std::string& field, const auto& value) {
          if (field != path) return;
          found = true;
          using V = std::remove_cvref_t<decltype(value)>;
          constexpr auto kind = detail::index_kind_of<V>();
          if constexpr (kind.has_value()) {
            out.push_back({path, *kind, detail::indexed_in_every_model<V>()});
          } else {
            throw usage_error(class_name() + "." + path + " cannot be indexed: it is stored as JSON");
          }
        });
        if (!found)
          throw usage_error("model_config::indexes names '" + path + "', which is no field of " + class_name());
      }
      return out;
    }();
    return specs;
  }

  /// The class's client: model_config::redis, else the default from rapyer::init.
  static client& class_client() { return class_config().redis ? *class_config().redis : default_client(); }

  // ---- whole model ----

  /// Atomically replaces the model: hash and every collection (an empty collection leaves no
  /// stale element). Sets the configured TTL, or keeps the existing one.
  /// Throws version_conflict when a Version field found another version stored.
  awaitable<void> save() const {
    request req;
    append_save(req);
    return perform(std::move(req), [this](const reply&) { mark_saved(); });
  }

  /// What a successful save changes locally (the Version field advances), for saves sent with
  /// append_save by other means, such as a transaction.
  void mark_saved() const {
    if (const Version* version = version_field()) ++version->number;
  }

  /// Re-reads the whole model, consistently (one MULTI/EXEC). Throws key_not_found, decode_error.
  awaitable<void> load() {
    std::vector<std::string> keys(1, key());
    std::vector<Derived> found = co_await read_models(redis(), std::move(keys), missing_keys::raise);
    self() = std::move(found.front());
  }

  /// The model at `key` (or with the id `key`, see lookup_key). Throws key_not_found, decode_error,
  /// usage_error for a key of another class.
  static awaitable<Derived> get(std::string key) {
    std::vector<std::string> keys;
    keys.push_back(lookup_key(std::move(key)));
    std::vector<Derived> found = co_await read_models(class_client(), std::move(keys), missing_keys::raise);
    co_return std::move(found.front());
  }

  /// Deletes every key of the model (and its index entries); returns whether it existed.
  awaitable<bool> adelete() const {
    request req;
    append_remove(req, key());
    const auto existed = [](const reply& r) { return detail::count_or_zero(r) > 0; };
    return perform_returning(std::move(req), detail::ignore_reply{}, existed, "");
  }
  /// Deletes the model at `key` (or with the id `key`, see lookup_key); returns whether it existed.
  static awaitable<bool> adelete_by_key(std::string key) {
    std::vector<std::string> keys;
    keys.push_back(std::move(key));
    co_return co_await adelete_many(keys) == 1;
  }

  /// Whether this model is stored (see the static aexists).
  awaitable<bool> aexists() const { return aexists(key()); }
  /// Whether a model is stored at `key` (or with the id `key`, see lookup_key): EXISTS of its hash.
  /// usage_error for a key of another class, before anything is sent.
  static awaitable<bool> aexists(std::string key) {
    key = lookup_key(std::move(key));
    (void)id_of(key);
    const reply exists = co_await class_client().execute("EXISTS", key);
    co_return exists.as_integer() == 1;
  }

  /// Creates `model` when no model is stored at its key, else loads the stored one: atomic and one
  /// round trip (one MULTI/EXEC of the save script behind an existence guard, then the read).
  /// Returns the model as stored, and whether this call created it. Throws decode_error when what
  /// is stored does not decode, version_conflict when a model with a Version other than 0 is absent.
  static awaitable<get_or_create_result<Derived>> aget_or_create(Derived model) {
    const std::string key = model.key();
    request req;
    req.push("MULTI");
    detail::scripts::push_save_if_absent(req, model.save_script_arguments());
    append_read(req, key);
    append_read_refresh(req, key);
    req.push("EXEC");
    // After NOSCRIPT only the reads ran, before the script: the whole block runs again.
    const auto replies =
        co_await detail::execute_calling_scripts(class_client(), req, detail::noscript_blocks::rerun_whole);
    const reply& exec = replies.back();
    exec.throw_if_error("EXEC");
    const std::span<const reply> results(exec.as_array());
    const reply& saved = results.front();
    if (saved.is_error()) detail::throw_if_version_conflict(saved.error_message());
    saved.throw_if_error("save " + key);
    get_or_create_result<Derived> out{decode(key, results.subspan(1, read_size())), saved.as_integer() == 1};
    co_return out;
  }

  /// Sets the expiry of every key of the model, atomically.
  awaitable<void> aset_ttl(std::chrono::seconds ttl) const {
    request req;
    detail::scripts::push_expire_all(req, all_keys(), ttl.count());
    co_await perform(std::move(req));
  }

  /// Locks this model (see lock.hpp): body(fresh) or body(fresh, lock) runs on a freshly loaded copy
  /// while the lock `<key>/<action>:lock` is held; released whatever happens.
  template <class Body>
  awaitable<void> alock(Body body, lock_options options = {}) const {
    // NOLINTNEXTLINE(bugprone-use-after-move): clang-tidy 14 counts the co_await as a use of the coroutine's parameters
    co_await alock_from_key<Derived>(key(), std::move(body), std::move(options));
  }

  /// An optimistic transaction on this model's key (see transaction.hpp); returns the saved model.
  template <class Fn>
  awaitable<Derived> atransaction(Fn fn, transaction_options options = {}) const {
    co_return co_await rapyer::atransaction<Derived>(key(), std::move(fn), options);
  }

  /// Runs `body(model)`; every field operation, save, delete and TTL change on this model inside it
  /// is queued and sent as ONE MULTI/EXEC when the body ends (nothing is sent if it throws).
  /// Local copies update after EXEC. See rapyer::apipeline for several models.
  template <class Body>
  awaitable<void> apipeline(Body body, pipeline_options options = {}) {
    const std::vector<const detail::model_base*> models(1, this);
    co_await detail::run_model_pipeline(
        models, [&]() -> awaitable<void> { co_await body(self()); }, options);
  }

  /// Saves a copy under a new id and returns it. Not for models with a Key<T> field.
  awaitable<Derived> aduplicate() const {
    if constexpr (detail::has_key_field<Derived>()) {
      throw usage_error(class_name() + " has a Key field: a duplicate would have the same key");
    }
    Derived copy(self());
    copy.id_ = detail::new_uuid4();
    co_await copy.save();
    co_return copy;
  }

  /// Saves `count` copies under new ids in one atomic MULTI/EXEC and returns them.
  awaitable<std::vector<Derived>> aduplicate_many(std::size_t count) const {
    if constexpr (detail::has_key_field<Derived>()) {
      throw usage_error(class_name() + " has a Key field: a duplicate would have the same key");
    }
    std::vector<Derived> copies(count, self());
    for (auto& copy : copies) copy.id_ = detail::new_uuid4();
    co_await ainsert(std::span<const Derived>(copies));
    co_return copies;
  }

  /// Writes the local values of the given fields of this model, and only those, atomically in one
  /// MULTI/EXEC: `user.name = "Bob"; user.age = 30; co_await user.aupdate(user.name, user.age);`.
  /// Any top-level field but the Key and Version fields; indexes and the TTL refresh follow.
  /// key_not_found when the model does not exist (nothing is written).
  template <class... Fields>
  requires(sizeof...(Fields) > 0) awaitable<void> aupdate(const Fields&... fields) {
    std::vector<std::function<awaitable<void>()>> writes;
    (writes.push_back(field_writer(fields)), ...);
    try {
      co_await apipeline([&](Derived&) -> awaitable<void> {
        for (const auto& write : writes) co_await write();
      });
    } catch (const pipeline_error& e) {
      // Every write of a model that does not exist fails alike: reported as the missing model.
      if (!detail::is_missing_model(e.failures().front().message)) throw;
      throw key_not_found(key() + " field " + std::string(field_name_of(&std::get<0>(std::tie(fields...)))));
    }
  }

  // ---- many models, one round trip each ----

  /// Saves all models in one round trip, atomically: the whole batch in one MULTI/EXEC on a
  /// standalone server; on a cluster one MULTI/EXEC per hash slot (each model all-or-nothing).
  static awaitable<void> ainsert(std::span<const Derived> models) {
    if (models.empty()) co_return;
    std::vector<std::string> keys;
    keys.reserve(models.size());
    for (const auto& m : models) keys.push_back(m.key());
    client& redis = class_client();
    detail::atomic_blocks blocks(redis.is_cluster(), keys);
    const auto save_block = [&](request& block, std::span<const std::size_t> members) {
      for (const std::size_t i : members) models[i].append_save(block);
    };
    const auto replies = co_await blocks.execute(redis, save_block);
    for (const auto* results : blocks.all_results(replies)) {
      for (const auto& r : *results) r.throw_if_error("save");
    }
  }
  template <class... Models>
  requires(sizeof...(Models) > 0 && (std::is_same_v<std::remove_cvref_t<Models>, Derived> &&
                                     ...)) static awaitable<void> ainsert(const Models&... models) {
    const std::vector<Derived> all = {models...};
    co_await ainsert(std::span<const Derived>(all));
  }

  /// Reads the models at `keys` (or with those ids, see lookup_key) in one consistent round trip,
  /// in order.
  static awaitable<std::vector<Derived>> afind(std::vector<std::string> keys,
                                               missing_keys missing = missing_keys::raise) {
    for (auto& key : keys) key = lookup_key(std::move(key));
    co_return co_await read_models(class_client(), std::move(keys), missing);
  }
  /// Every model of the class (SCAN, never KEYS), at most `limit`.
  static awaitable<std::vector<Derived>> afind(std::optional<std::size_t> limit = std::nullopt) {
    auto keys = co_await afind_keys(limit);
    co_return co_await read_models(class_client(), std::move(keys), missing_keys::skip);
  }
  /// The keys of every model of the class (SCAN ... MATCH ... TYPE hash), at most `limit`.
  static awaitable<std::vector<std::string>> afind_keys(std::optional<std::size_t> limit = std::nullopt) {
    co_return co_await detail::scan_model_keys(class_client(), class_layout().scan_pattern(), limit);
  }

  /// The models matching a query on indexed fields (model_config::indexes), at most `limit`, in the
  /// order of the first condition's index. Two round trips: the index ranges of every bucket (one
  /// request: on a cluster one round trip per node, in parallel), then one consistent read of the
  /// candidates (in batches of 512), each checked against the query exactly. Index entries of
  /// models that expired are removed on the way.
  static awaitable<std::vector<Derived>> afind(const query<Derived>& where,
                                               std::optional<std::size_t> limit = std::nullopt) {
    find_options options;
    options.limit = limit;
    co_return co_await afind(where, options);
  }
  /// A page of the models matching a query (see find_options): `options.offset` matches skipped,
  /// then at most `options.limit`, in the order asked. Exact like afind(query).
  static awaitable<std::vector<Derived>> afind(const query<Derived>& where, const find_options& options) {
    std::vector<Derived> out;
    std::size_t skipped = 0;
    const auto wanted = [&] { return !options.limit || out.size() < *options.limit; };
    auto collect = [&](std::vector<Derived> matching) -> awaitable<bool> {
      for (auto& model : matching) {
        if (skipped < options.offset) {
          ++skipped;
        } else if (wanted()) {
          out.push_back(std::move(model));
        }
      }
      co_return wanted();
    };
    if (wanted()) co_await visit_matches(where, options, collect);
    co_return out;
  }

  /// How many models match a query, exactly: every candidate is read and checked (see afind(query)).
  static awaitable<std::size_t> acount(const query<Derived>& where) {
    std::size_t count = 0;
    auto add = [&](std::vector<Derived> matching) -> awaitable<bool> {
      count += matching.size();
      co_return true;
    };
    const find_options every_match;
    co_await visit_matches(where, every_match, add);
    co_return count;
  }

  /// Deletes the models matching a query, a batch of 512 candidates at a time (read, checked, then
  /// deleted with adelete_many(keys)); returns how many were deleted. A model changed between its
  /// read and its deletion is deleted as it was read.
  static awaitable<std::size_t> adelete_many(const query<Derived>& where) {
    std::size_t deleted = 0;
    auto remove = [&](std::vector<Derived> matching) -> awaitable<bool> {
      std::vector<std::string> keys;
      keys.reserve(matching.size());
      for (const auto& model : matching) keys.push_back(model.key());
      deleted += co_await adelete_many(keys);
      co_return true;
    };
    const find_options every_match;
    co_await visit_matches(where, every_match, remove);
    co_return deleted;
  }

  /// What areindex() did.
  struct reindex_result {
    std::size_t models = 0;        // models whose index entries were rebuilt
    std::size_t dropped_keys = 0;  // index keys of fields no longer in model_config::indexes
  };
  /// Rebuilds the index entries of every model of the class (SCAN), e.g. of models saved before a
  /// field was added to model_config::indexes, and deletes the index keys of fields removed from
  /// it. Idempotent; concurrent writes stay correct (each model's rebuild is one atomic script).
  static awaitable<reindex_result> areindex() {
    const auto& layout = class_layout();
    const auto& specs = class_indexes();
    if (specs.empty()) throw usage_error(class_name() + " has no indexes: nothing to rebuild");
    client& redis = class_client();
    reindex_result result;
    std::vector<std::string> keys;
    for (auto& key : co_await afind_keys()) {
      if (layout.id_of(key)) keys.push_back(std::move(key));  // not a text index's ":members" hash
    }
    constexpr std::size_t batch = 512;
    for (std::size_t first = 0; first < keys.size(); first += batch) {
      request rebuild;
      for (std::size_t i = first; i < std::min(keys.size(), first + batch); ++i)
        detail::push_reindex_call(rebuild, keys[i], layout, id_of(keys[i]), specs);
      for (const auto& r : co_await detail::execute_calling_scripts(redis, rebuild)) r.throw_if_error("reindex");
    }
    result.models = keys.size();
    request drop;
    for (const auto& key : co_await detail::scan_keys(redis, layout.index_scan_pattern())) {
      const auto path = layout.index_path_of(key);
      if (path && !is_indexed(*path)) drop.push("DEL", key);
    }
    if (!drop.empty()) {
      for (const auto& r : co_await redis.execute(drop)) result.dropped_keys += r.as_integer() > 0 ? 1 : 0;
    }
    co_return result;
  }

  /// Moves the models of an indexed class stored by rapyer versions before index buckets (keys
  /// "<prefix><Name>:{<id>}", class-wide indexes "<prefix><Name>:index:<path>") to their buckets
  /// and rebuilds their index entries; returns how many models moved. Idempotent. Run it once,
  /// while no process of an earlier version writes (see README "Migrating to index buckets").
  static awaitable<std::size_t> amigrate_layout() {
    const std::vector<std::string> key_suffixes = keys_of("");
    co_return co_await detail::migrate_to_buckets(class_client(), class_layout(), key_suffixes, class_indexes());
  }

  /// The first model matching a query (see afind(query)), or nullopt.
  static awaitable<std::optional<Derived>> afind_one(const query<Derived>& where) {
    std::vector<Derived> found = co_await afind(where, 1);
    co_return first_of(std::move(found));
  }
  /// The model at `key` (or with the id `key`, see lookup_key), or nullopt when none is stored.
  static awaitable<std::optional<Derived>> afind_one(std::string key) {
    std::vector<std::string> keys;
    keys.push_back(std::move(key));
    std::vector<Derived> found = co_await afind(std::move(keys), missing_keys::skip);
    co_return first_of(std::move(found));
  }
  /// Some model of the class (the first SCAN finds), or nullopt when none is stored.
  static awaitable<std::optional<Derived>> afind_one() {
    std::vector<Derived> found = co_await afind(std::optional<std::size_t>(1));
    co_return first_of(std::move(found));
  }

  /// Deletes the models at `keys` (or with those ids, see lookup_key; with their collection keys)
  /// atomically (per hash slot on a cluster, like ainsert); returns how many existed.
  static awaitable<std::size_t> adelete_many(std::vector<std::string> keys) {
    if (keys.empty()) co_return 0;
    for (auto& key : keys) key = lookup_key(std::move(key));
    client& redis = class_client();
    detail::atomic_blocks blocks(redis.is_cluster(), keys);
    const auto remove_block = [&](request& block, std::span<const std::size_t> members) {
      for (const std::size_t i : members) append_remove(block, keys[i]);
    };
    const auto replies = co_await blocks.execute(redis, remove_block);
    std::size_t deleted = 0;
    for (const auto* results : blocks.all_results(replies)) {
      for (const auto& r : *results) deleted += r.as_integer() > 0 ? 1 : 0;
    }
    co_return deleted;
  }

  /// Appends this model's atomic save (one EVALSHA of the save script) to a request, e.g. to batch
  /// it with other commands; save() and ainsert() use it.
  void append_save(request& req) const { detail::scripts::push_save(req, save_script_arguments()); }

  /// Appends the deletion of the model at `key` with its index entries (one EVALSHA of the remove
  /// script); adelete() and adelete_many() use it.
  static void append_remove(request& req, const std::string& key) {
    detail::scripts::push_remove(req, keys_of(key),
                                 detail::index_section_of(class_layout(), id_of(key), class_indexes()));
  }

  /// Appends the reads of the model at `key` (its hash, then each collection): read_size()
  /// commands whose replies decode() turns into a model. Wrap them in MULTI/EXEC for a consistent read.
  static void append_read(request& req, const std::string& key) {
    (void)id_of(key);  // refuses keys of other classes before anything is sent
    req.push("HGETALL", key);
    boost::mp11::mp_for_each<detail::public_members<Derived>>([&](auto member) {
      using M = std::remove_cvref_t<decltype(std::declval<Derived&>().*member.pointer)>;
      if constexpr (detail::is_collection_field_v<M>)
        detail::push_collection_read(req, M::kind, key + ":" + member.name);
    });
  }
  static std::size_t read_size() { return keys_of("").size(); }
  /// A read is an operation too: with refresh_ttl, appends the EXPIREs that renew the TTL of the
  /// model at `key` (sliding expiry), to go in the read's MULTI after the reads.
  static void append_read_refresh(request& req, const std::string& key) {
    if (!class_config().refresh_ttl || !class_config().ttl) return;
    for (const auto& each : keys_of(key)) req.push("EXPIRE", each, class_config().ttl->count());
  }
  /// The model at `key` from the replies of append_read. Throws key_not_found, decode_error.
  static Derived decode(const std::string& key, std::span<const reply> replies) {
    if (replies.front().is_array() && replies.front().as_array().empty()) throw key_not_found(key);
    Derived model;
    model.decode_from(key, replies);
    return model;
  }

 private:
  /// The first of what a find returned, if any (the afind_one forms).
  static std::optional<Derived> first_of(std::vector<Derived> found) {
    if (found.empty()) return std::nullopt;
    return std::move(found.front());
  }

  /// Whether model_config::indexes lists `path`.
  static bool is_indexed(std::string_view path) {
    const auto& specs = class_indexes();
    return std::any_of(specs.begin(), specs.end(), [&](const auto& spec) { return spec.path == path; });
  }

  /// Reads the candidates of `where` in the order of `options` (offset and limit aside), a batch
  /// of 512 at a time, and passes each batch's matching models to `on_batch` (returning
  /// awaitable<bool>: whether to go on). Then removes the index entries of models that vanished.
  template <class OnBatch>
  static awaitable<void> visit_matches(const query<Derived>& where, const find_options& options, OnBatch& on_batch) {
    const auto& specs = class_indexes();
    std::vector<std::string> paths;
    where.collect_paths(paths);
    if (options.order_by) paths.push_back(options.order_by->path);
    for (const auto& path : paths) {
      if (!is_indexed(path)) {
        throw usage_error(class_name() + "." + path + " is not indexed: add it to model_config::indexes");
      }
    }
    std::vector<const detail::index_range*> ranges;
    where.collect_ranges(ranges);
    const std::size_t condition_ranges = ranges.size();
    // A whole index: of the order, and of a field every model has when all ids are needed.
    const auto whole_index = [](const detail::index_spec& spec) {
      return detail::index_range{spec.path, spec.kind, detail::index_bottom(spec.kind), detail::index_top(spec.kind)};
    };
    std::vector<detail::index_range> whole;
    whole.reserve(2);
    if (options.order_by) {
      whole.push_back(whole_index(*std::find_if(
          specs.begin(), specs.end(), [&](const auto& spec) { return spec.path == options.order_by->path; })));
    }
    const auto everyone = std::find_if(specs.begin(), specs.end(), [](const auto& spec) { return spec.every_model; });
    const bool all_ids_needed = !where.bounded();
    if (all_ids_needed && everyone != specs.end()) whole.push_back(whole_index(*everyone));
    for (const auto& range : whole) ranges.push_back(&range);

    client& redis = class_client();
    std::vector<std::vector<std::string>> range_ids;
    if (!ranges.empty()) range_ids = co_await detail::read_index_ranges(redis, class_layout(), ranges);
    std::optional<std::vector<std::string>> order_ids;
    if (options.order_by) order_ids = std::move(range_ids[condition_ranges]);
    std::vector<std::string> all_ids;
    if (all_ids_needed && everyone != specs.end()) {
      all_ids = std::move(range_ids.back());
    } else if (all_ids_needed) {
      // No field every model has: the ids come from the class's keys.
      for (const auto& key : co_await afind_keys()) {
        if (auto id = class_layout().id_of(key)) all_ids.push_back(std::move(*id));
      }
    }
    const std::span<const std::vector<std::string>> condition_ids(range_ids.data(), condition_ranges);
    const std::vector<std::string> ids =
        detail::order_candidates(where.candidates(condition_ids, all_ids), order_ids, options.descending);

    constexpr std::size_t batch = 512;
    std::vector<std::string> vanished;
    for (std::size_t first = 0; first < ids.size(); first += batch) {
      std::vector<std::string> keys;
      for (std::size_t i = first; i < std::min(ids.size(), first + batch); ++i) keys.push_back(key_for(ids[i]));
      auto models = co_await read_models_at(redis, keys);
      std::vector<Derived> matching;
      for (std::size_t i = 0; i < models.size(); ++i) {
        if (!models[i]) {
          vanished.push_back(keys[i]);
        } else if (where.matches(*models[i])) {
          matching.push_back(std::move(*models[i]));
        }
      }
      if (!co_await on_batch(std::move(matching))) break;
    }
    if (!vanished.empty()) {
      request cleanup;
      for (const auto& key : vanished) detail::push_reindex_call(cleanup, key, class_layout(), id_of(key), specs);
      co_await detail::execute_calling_scripts(redis, cleanup);
    }
  }

  friend Derived;
  /// What aupdate does for one field: a proxy's own save(), or HSET / HDEL of a plain value's
  /// hash fields (a nested struct's dotted fields; an empty optional is deleted).
  template <class Field>
  std::function<awaitable<void>()> field_writer(const Field& field) const {
    static_assert(!detail::is_key_field_v<Field> && !detail::is_version_field_v<Field>,
                  "aupdate cannot write the Key field (it is the id) or the Version field (save() does)");
    const std::string name(field_name_of(&field));
    if (name.empty()) throw usage_error("aupdate: an argument is not a top-level field of this " + class_name());
    if constexpr (detail::is_proxy_v<Field>) {
      return [&field] { return field.save(); };
    } else {
      return [this, &field, name]() -> awaitable<void> {
        std::vector<std::string> pairs;
        std::vector<std::string> absent;
        const auto add = [&](const std::string& path, const auto& value) {
          const std::size_t before = pairs.size();
          detail::encode_hash_field(pairs, path, value);
          if (pairs.size() == before) absent.push_back(path);
        };
        if constexpr (detail::is_flattened_struct_v<Field>) {
          detail::for_each_hash_field(field, name + ".", add);
        } else {
          add(name, field);
        }
        const std::string k = key();
        if (!pairs.empty()) {
          request set;
          detail::scripts::push_field_command(set, k, "HSET", k, pairs);
          co_await perform(std::move(set), {}, name);
        }
        if (!absent.empty()) {
          request remove;
          detail::scripts::push_field_command(remove, k, "HDEL", k, absent);
          co_await perform(std::move(remove), {}, name);
        }
      };
    }
  }

  /// What save.lua writes for this model (append_save, aget_or_create).
  detail::scripts::save_arguments save_script_arguments() const {
    detail::scripts::save_arguments args;
    args.model_key = key();
    std::vector<std::string> pairs = {std::string(detail::model_marker_field), class_name()};
    detail::for_each_hash_field(
        self(), "", [&](const std::string& path, const auto& value) { detail::encode_hash_field(pairs, path, value); });
    detail::for_each_collection(self(), [&](const char* name, const auto& field) {
      using F = std::remove_cvref_t<decltype(field)>;
      args.collections.push_back(
          {args.model_key + ":" + name, static_cast<char>(F::kind), F::traits_type::encode_items(field.value())});
    });
    args.index = detail::index_section_of(class_layout(), id(), class_indexes());
    args.ttl_ms = config().ttl ? config().ttl->count() * 1000 : 0;
    if (const Version* version = version_field()) {
      args.version_field = std::string(field_name_of(version));
      args.expected_version = std::to_string(version->number);
      // The stored pair carries the next version; the script checks the expected one first.
      for (std::size_t i = 0; i + 1 < pairs.size(); i += 2) {
        if (pairs[i] == args.version_field) pairs[i + 1] = std::to_string(version->number + 1);
      }
    }
    args.hash_pairs = std::move(pairs);
    return args;
  }

  /// The model's Version field, if it has one.
  const Version* version_field() const {
    const Version* found = nullptr;
    detail::for_each_member(self(), [&](const char*, const auto& member) {
      if constexpr (detail::is_version_field_v<std::remove_cvref_t<decltype(member)>>) found = &member;
    });
    return found;
  }

  Derived& self() noexcept { return static_cast<Derived&>(*this); }
  const Derived& self() const noexcept { return static_cast<const Derived&>(*this); }

  void open_scope() {
    static const bool registered = (detail::register_model(class_layout().head(), registry_entry()), true);
    static const std::size_t proxies = detail::proxy_count<Derived>();
    (void)registered;
    // The Derived object is not constructed yet, so it cannot be cast to: the scope covers every
    // byte Derived can occupy around this base subobject.
    constexpr std::size_t before = sizeof(Derived) - sizeof(AtomicRedisModel);
    open_binding_scope(reinterpret_cast<std::uintptr_t>(this) - before, before + sizeof(Derived), proxies);
  }

  /// The id part of a key of this class, or usage_error for a key of another class.
  static std::string id_of(const std::string& key) {
    const auto& layout = class_layout();
    auto id = layout.id_of(key);
    if (id) return std::move(*id);
    if (layout.buckets() > 0 && !layout.has_bucket_tag(key) && layout.unbucketed().id_of(key)) {
      throw usage_error("'" + key + "' is a key of " + class_name() +
                        " stored before index buckets: move it with amigrate_layout()");
    }
    throw usage_error("'" + key + "' is not a key of model " + class_name());
  }

  /// The models at `keys`, read in one round trip, each consistently (see detail::atomic_blocks);
  /// nullopt where no model is stored.
  static awaitable<std::vector<std::optional<Derived>>> read_models_at(client& redis,
                                                                       const std::vector<std::string>& keys) {
    std::vector<std::optional<Derived>> out;
    if (keys.empty()) co_return out;
    detail::atomic_blocks blocks(redis.is_cluster(), keys);
    request req;
    blocks.append_to(req, [&](request& block, std::span<const std::size_t> members) {
      for (const std::size_t i : members) append_read(block, keys[i]);
      // after every read: the decoded replies come first
      for (const std::size_t i : members) append_read_refresh(block, keys[i]);
    });
    auto replies = co_await redis.execute(req);
    const std::size_t per_model = read_size();
    out.reserve(keys.size());
    for (std::size_t i = 0; i < keys.size(); ++i) {
      const auto [results, rank] = blocks.results_of(replies, i);
      const std::span<const reply> model_parts(results->data() + rank * per_model, per_model);
      const bool absent = model_parts.front().is_array() && model_parts.front().as_array().empty();
      if (absent) {
        out.emplace_back();
      } else {
        out.push_back(decode(keys[i], model_parts));
      }
    }
    co_return out;
  }

  static awaitable<std::vector<Derived>> read_models(client& redis, std::vector<std::string> keys,
                                                     missing_keys missing) {
    auto found = co_await read_models_at(redis, keys);
    std::vector<Derived> out;
    out.reserve(found.size());
    for (std::size_t i = 0; i < found.size(); ++i) {
      if (found[i]) {
        out.push_back(std::move(*found[i]));
      } else if (missing == missing_keys::raise) {
        throw key_not_found(keys[i]);
      }
    }
    co_return out;
  }

  bool is_safe_load(const std::string& path) const {
    const auto& c = config();
    return c.safe_load_all || c.safe_load.contains(path) || c.safe_load.contains(path.substr(0, path.find('.')));
  }

  /// Runs decode() for one field, applying safe-load.
  template <class Decode>
  void decode_field(const std::string& key, const std::string& path, Decode&& decode) {
    try {
      decode();
    } catch (const detail::decode_failure& e) {
      if (!is_safe_load(path)) throw decode_error(key, path, e.what());
      load_errors_.push_back({path, e.what()});
    } catch (const decode_error& e) {
      if (!is_safe_load(path)) throw;
      load_errors_.push_back({path, e.reason()});
    }
  }

  void decode_from(const std::string& key, std::span<const reply> parts) {
    load_errors_.clear();
    if constexpr (!detail::has_key_field<Derived>()) id_ = id_of(key);
    const reply& hash = parts.front();
    if (hash.is_error()) throw decode_error(key, "", hash.error_message());
    try {
      detail::check_read_shape(hash, detail::collection_kind::hash);
    } catch (const detail::decode_failure& e) {
      throw decode_error(key, "", e.what());
    }
    const auto fields = detail::index_hash(hash);
    const auto marker = fields.find(detail::model_marker_field);
    if (marker == fields.end())
      throw decode_error(key, "", "not a rapyer model (no " + std::string(detail::model_marker_field) + " field)");
    if (*marker->second != class_name()) {
      throw decode_error(key, "", "holds a " + *marker->second + " model, not " + class_name());
    }
    detail::for_each_hash_field(self(), "", [&](const std::string& path, auto& value) {
      const auto found = fields.find(path);
      decode_field(key, path,
                   [&] { detail::decode_hash_field(found == fields.end() ? nullptr : found->second, value); });
    });
    std::size_t next = 1;
    detail::for_each_collection(self(), [&](const char* name, auto& field) {
      using F = std::remove_cvref_t<decltype(field)>;
      const reply& stored = parts[next++];
      const std::string collection_key = key + ":" + name;
      decode_field(key, name, [&] {
        if (stored.is_error()) throw decode_error(collection_key, name, stored.error_message());
        detail::check_read_shape(stored, F::kind);
        field.value() = F::traits_type::decode_items(stored, collection_key, name);
      });
    });
  }

  static detail::model_class registry_entry() {
    return {&class_client,
            &class_layout,
            &read_size,
            &append_read,
            &append_read_refresh,
            [](const std::string& key, std::span<const reply> replies) -> std::unique_ptr<detail::model_base> {
              return std::make_unique<Derived>(decode(key, replies));
            }};
  }
};

/// Model::aget_or_create(model), beside rapyer::aget, afind and aexists.
template <class Model>
requires std::derived_from<Model, AtomicRedisModel<Model>> awaitable<get_or_create_result<Model>> aget_or_create(
    Model model) {
  return Model::aget_or_create(std::move(model));
}

}  // namespace rapyer
