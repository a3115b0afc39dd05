// Queries on indexed fields (model_config::indexes), for Model::afind(query) / afind_one(query),
// acount(query) and adelete_many(query):
//
//   auto adults = co_await User::afind(rapyer::where(&User::age) >= 18 &&
//                                      rapyer::where(&User::address, &Address::city) == "Paris");
//
// A condition reads one index range (from the shard of every bucket, merged in index order:
// detail::read_index_ranges); && intersects and || unites the ids found, in the order of the
// first condition's index (ascending value). A negation (!q) is not bounded by any range: its
// candidates are every id of the class (Model::afind reads them from an index every model has,
// else by SCAN). Every model read is checked against the whole query again, so results are exact
// even where the index is approximate (a number index scores doubles, so integers beyond 2^53
// share scores) or is behind a concurrent write.
#pragma once

#include <algorithm>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_set>
#include <utility>
#include <vector>

#include "rapyer/detail/codec.hpp"
#include "rapyer/detail/index.hpp"
#include "rapyer/detail/model_layout.hpp"

namespace rapyer {

namespace detail {

/// The value a member stores: T for a proxy of T and for T itself, optionals unwrapped.
template <class M>
struct stored_type {
  using type = M;
};
template <class M>
requires std::is_base_of_v<scalar_field_tag, M>
struct stored_type<M> {
  using type = typename M::value_type;
};
template <class M>
using stored_type_t = typename stored_type<M>::type;

template <class T>
struct without_optional {
  using type = T;
};
template <class T>
struct without_optional<std::optional<T>> {
  using type = T;
};
template <class M>
using query_value_t = typename without_optional<stored_type_t<M>>::type;

/// The stored value of a member, or null for an empty optional.
template <class M>
const query_value_t<M>* stored_value(const M& member) {
  const auto& value = [&]() -> const stored_type_t<M>& {
    if constexpr (std::is_base_of_v<scalar_field_tag, M>) {
      return member.value();
    } else {
      return member;
    }
  }();
  if constexpr (is_optional_v<stored_type_t<M>>) {
    return value ? &*value : nullptr;
  } else {
    return &value;
  }
}

/// The described name of a data member.
template <class Class, class Member>
std::string member_name(Member Class::*pointer) {
  std::string name;
  boost::mp11::mp_for_each<public_members<Class>>([&](auto member) {
    if constexpr (std::is_same_v<std::remove_const_t<decltype(member.pointer)>, Member Class::*>) {
      if (member.pointer == pointer) name = member.name;
    }
  });
  if (name.empty()) throw usage_error("a queried member is not described by BOOST_DESCRIBE_STRUCT");
  return name;
}

}  // namespace detail

/// A condition, or conditions combined with && and ||, on a model's indexed fields.
template <class Model>
class query {
 public:
  /// Whether a model satisfies the query (checked on every model read).
  bool matches(const Model& model) const {
    switch (node_->how) {
      case combination::condition:
        return node_->check(model);
      case combination::all_of:
        for (const auto& part : node_->parts)
          if (!part.matches(model)) return false;
        return true;
      case combination::any_of:
        for (const auto& part : node_->parts)
          if (part.matches(model)) return true;
        return false;
      case combination::negation:
        return !node_->parts.front().matches(model);
    }
    return false;
  }

  /// Whether the candidates are bounded by index ranges; when not (a negation that no condition
  /// narrows), candidates() needs every id of the class.
  bool bounded() const {
    switch (node_->how) {
      case combination::condition:
        return true;
      case combination::all_of:
        return std::any_of(node_->parts.begin(), node_->parts.end(), [](const query& q) { return q.bounded(); });
      case combination::any_of:
        return std::all_of(node_->parts.begin(), node_->parts.end(), [](const query& q) { return q.bounded(); });
      case combination::negation:
        return false;
    }
    return false;
  }

  /// The field path of every condition, negated ones included.
  void collect_paths(std::vector<std::string>& out) const {
    if (node_->how == combination::condition) {
      out.push_back(node_->range.path);
      return;
    }
    for (const auto& part : node_->parts) part.collect_paths(out);
  }

  /// The index range of every condition that bounds the candidates, depth first (a negation's
  /// conditions only check).
  void collect_ranges(std::vector<const detail::index_range*>& out) const {
    if (node_->how == combination::condition) {
      out.push_back(&node_->range);
      return;
    }
    for (const auto& part : node_->parts)
      if (bounds_candidates(part)) part.collect_ranges(out);
  }

  /// The candidate ids, from the ids each range found (in collect_ranges order), combined by the
  /// tree: in the order of the first condition, without duplicates. `all_ids`, every id of the
  /// class, is read only when the query is not bounded().
  std::vector<std::string> candidates(std::span<const std::vector<std::string>> range_ids,
                                      std::span<const std::string> all_ids = {}) const {
    std::size_t next = 0;
    return combine(range_ids, all_ids, next);
  }

  friend query operator&&(query a, query b) { return query(combination::all_of, std::move(a), std::move(b)); }
  friend query operator||(query a, query b) { return query(combination::any_of, std::move(a), std::move(b)); }
  /// The models that do not match `q`, models without the queried fields included.
  friend query operator!(query q) {
    if (q.node_->how == combination::negation) return q.node_->parts.front();
    std::vector<query> parts(1, std::move(q));
    return query(std::make_shared<const node>(node{combination::negation, {}, {}, std::move(parts)}));
  }

  /// One condition: its index range and its exact check. Made by rapyer::where(...).
  query(detail::index_range range, std::function<bool(const Model&)> check)
      : node_(std::make_shared<const node>(node{combination::condition, std::move(range), std::move(check), {}})) {}

 private:
  enum class combination { condition, all_of, any_of, negation };
  struct node {
    combination how;
    detail::index_range range;
    std::function<bool(const Model&)> check;
    std::vector<query> parts;
  };

  query(combination combined, query a, query b) {
    std::vector<query> parts;
    for (auto* side : {&a, &b}) {
      // (a && b) && c is one all_of of three parts.
      if (side->node_->how == combined) {
        parts.insert(parts.end(), side->node_->parts.begin(), side->node_->parts.end());
      } else {
        parts.push_back(std::move(*side));
      }
    }
    node_ = std::make_shared<const node>(node{combined, {}, {}, std::move(parts)});
  }
  explicit query(std::shared_ptr<const node> built) : node_(std::move(built)) {}

  /// Whether `part` of this node takes part in the candidates: not a negation's (it only checks),
  /// nor an unbounded part of a bounded && (the other parts bound it; its check filters).
  bool bounds_candidates(const query& part) const {
    if (node_->how == combination::negation) return false;
    return node_->how != combination::all_of || part.bounded() || !bounded();
  }

  std::vector<std::string> combine(std::span<const std::vector<std::string>> range_ids,
                                   std::span<const std::string> all_ids, std::size_t& next) const {
    if (node_->how == combination::condition) return unique(range_ids[next++]);
    if (node_->how == combination::negation) return unique(all_ids);
    std::vector<std::vector<std::string>> found;
    for (const auto& part : node_->parts)
      if (bounds_candidates(part)) found.push_back(part.combine(range_ids, all_ids, next));
    if (node_->how == combination::any_of) {
      std::vector<std::string> all;
      for (auto& ids : found)
        all.insert(all.end(), std::make_move_iterator(ids.begin()), std::make_move_iterator(ids.end()));
      return unique(all);
    }
    std::vector<std::string> kept = std::move(found.front());
    for (std::size_t i = 1; i < found.size(); ++i) {
      const std::unordered_set<std::string> other(found[i].begin(), found[i].end());
      std::erase_if(kept, [&](const std::string& id) { return !other.contains(id); });
    }
    return kept;
  }

  static std::vector<std::string> unique(std::span<const std::string> ids) {
    std::vector<std::string> out;
    std::unordered_set<std::string> seen;
    for (const auto& id : ids)
      if (seen.insert(id).second) out.push_back(id);
    return out;
  }

  std::shared_ptr<const node> node_;
};

/// An indexed field of Model whose values are T, to build conditions with ==, !=, in(), <, <=, >,
/// >=, between() and (text fields) starts_with(). Made by rapyer::where(...).
template <class Model, class T>
class field_condition {
 public:
  static constexpr detail::index_kind kind = *detail::index_kind_of<T>();
  /// Named enums are indexed by name, so only equality is meaningful for them.
  static constexpr bool ordered = !std::is_enum_v<T> || kind == detail::index_kind::number;
  using getter = std::function<const T*(const Model&)>;

  field_condition(std::string path, getter get) : path_(std::move(path)), get_(std::move(get)) {}

  query<Model> operator==(const T& value) const {
    const std::string e = encoded(value);
    return make(bound_low(e), bound_high(e), [value](const T& v) { return v == value; });
  }
  /// The field has a value, other than `value` (a model without the field does not match; for
  /// those too: !(where(...) == value)). Reads the field's whole index.
  query<Model> operator!=(const T& value) const {
    return make(bottom(), top(), [value](const T& v) { return v != value; });
  }
  /// The field's value is one of `values`: where(&User::age).in(18, 21).
  template <class... Values>
  requires(sizeof...(Values) > 0 &&
           (std::is_convertible_v<const Values&, T> && ...)) query<Model> in(const Values&... values)
  const { return ((*this == static_cast<T>(values)) || ...); }
  query<Model> operator>=(const T& value) const requires ordered {
    return make(bound_low(encoded(value)), top(), [value](const T& v) { return v >= value; });
  }
  query<Model> operator>(const T& value) const requires ordered {
    // Inclusive in the index (a number index rounds), exact in the check.
    return make(bound_low(encoded(value)), top(), [value](const T& v) { return v > value; });
  }
  query<Model> operator<=(const T& value) const requires ordered {
    return make(bottom(), bound_high(encoded(value)), [value](const T& v) { return v <= value; });
  }
  query<Model> operator<(const T& value) const requires ordered {
    return make(bottom(), bound_high(encoded(value)), [value](const T& v) { return v < value; });
  }
  /// low <= value <= high.
  query<Model> between(const T& low, const T& high) const requires ordered {
    return make(bound_low(encoded(low)), bound_high(encoded(high)),
                [low, high](const T& v) { return low <= v && v <= high; });
  }
  /// Text fields: the value starts with `prefix`.
  query<Model> starts_with(const std::string& prefix) const requires(std::is_same_v<T, std::string>) {
    const std::string e = detail::escape_index_text(prefix);
    return make("[" + e, detail::text_prefix_end(e), [prefix](const T& v) { return v.starts_with(prefix); });
  }

 private:
  static std::string encoded(const T& value) {
    if constexpr (kind == detail::index_kind::number) {
      if constexpr (std::is_enum_v<T>) {
        return detail::encode(static_cast<double>(static_cast<std::underlying_type_t<T>>(value)));
      } else if constexpr (std::is_same_v<T, timestamp>) {
        return detail::encode(value);  // epoch seconds: already a score
      } else {
        return detail::encode(static_cast<double>(value));
      }
    } else {
      return detail::escape_index_text(detail::encode(value));
    }
  }
  static std::string bound_low(const std::string& e) {
    return kind == detail::index_kind::number ? e : detail::text_lower_bound(e);
  }
  static std::string bound_high(const std::string& e) {
    return kind == detail::index_kind::number ? e : detail::text_upper_bound(e);
  }
  static std::string bottom() { return detail::index_bottom(kind); }
  static std::string top() { return detail::index_top(kind); }

  template <class Compare>
  query<Model> make(std::string min, std::string max, Compare compare) const {
    return query<Model>(detail::index_range{path_, kind, std::move(min), std::move(max)},
                        [get = get_, compare = std::move(compare)](const Model& model) {
                          const T* value = get(model);
                          return value != nullptr && compare(*value);
                        });
  }

  std::string path_;
  getter get_;
};

/// The indexed field `member` of Model: rapyer::where(&User::age) >= 18.
template <class Model, class Member>
auto where(Member Model::*member) {
  using T = detail::query_value_t<Member>;
  static_assert(detail::index_kind_of<T>().has_value(), "only plain values (not JSON) can be indexed and queried");
  return field_condition<Model, T>(detail::member_name(member),
                                   [member](const Model& model) { return detail::stored_value(model.*member); });
}

/// A field of a nested described struct: rapyer::where(&User::address, &Address::city) == "Paris".
template <class Model, class Nested, class Member>
auto where(Nested Model::*outer, Member Nested::*inner) {
  using T = detail::query_value_t<Member>;
  static_assert(detail::index_kind_of<T>().has_value(), "only plain values (not JSON) can be indexed and queried");
  return field_condition<Model, T>(
      detail::member_name(outer) + "." + detail::member_name(inner),
      [outer, inner](const Model& model) { return detail::stored_value(model.*outer.*inner); });
}

/// The indexed field whose index orders a query's results (find_options::order_by).
struct index_order {
  std::string path;
};

/// Orders by the indexed field `member`: rapyer::order_by(&User::age).
template <class Model, class Member>
index_order order_by(Member Model::*member) {
  static_assert(detail::index_kind_of<detail::query_value_t<Member>>().has_value(),
                "only indexed fields order results");
  return {detail::member_name(member)};
}
/// Orders by a field of a nested described struct: rapyer::order_by(&User::address, &Address::zip).
template <class Model, class Nested, class Member>
index_order order_by(Nested Model::*outer, Member Nested::*inner) {
  static_assert(detail::index_kind_of<detail::query_value_t<Member>>().has_value(),
                "only indexed fields order results");
  return {detail::member_name(outer) + "." + detail::member_name(inner)};
}

/// Which page of a query's results Model::afind returns, and in which order: by the index of
/// `order_by` (ties by id; models without the field last), else by the first condition's index;
/// `descending` reverses it. The order is a pure function of the stored data, so pages are stable
/// while it does not change.
struct find_options {
  std::optional<index_order> order_by;
  bool descending = false;
  std::size_t offset = 0;
  std::optional<std::size_t> limit;
};

}  // namespace rapyer
