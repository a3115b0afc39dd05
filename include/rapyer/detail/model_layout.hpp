// How a model's fields map onto Redis (see README "Storage layout"):
//  - scalars, Key<T> fields and scalar proxies are fields of the model's HASH; members of nested
//    described structs are flattened with dotted names ("address.city"); an empty optional is an
//    absent field; any other type is JSON text in one field;
//  - RedisList / RedisDict / RedisSet live in keys of their own, "<model key>:<field name>";
//  - a marker field names the model's class, so an empty model still exists and a key of another
//    model is recognised.
#pragma once

#include <boost/describe/members.hpp>
#include <boost/mp11/algorithm.hpp>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "rapyer/detail/codec.hpp"
#include "rapyer/detail/collection_field.hpp"
#include "rapyer/detail/scalar_field.hpp"
#include "rapyer/key.hpp"

namespace rapyer::detail {

/// The hash field naming the model class.
inline constexpr std::string_view model_marker_field = "__rapyer_model__";

template <class T>
using public_members = boost::describe::describe_members<T, boost::describe::mod_public>;

template <class T>
inline constexpr bool is_proxy_v = std::is_base_of_v<field_proxy, T>;
template <class T>
inline constexpr bool is_collection_field_v = std::is_base_of_v<collection_field_tag, T>;
template <class T>
inline constexpr bool is_key_field_v = std::is_base_of_v<key_field_tag, T>;
template <class T>
inline constexpr bool is_version_field_v = std::is_base_of_v<version_field_tag, T>;
template <class T>
inline constexpr bool is_flattened_struct_v =
    is_described_struct_v<T> && !is_proxy_v<T> && !is_key_field_v<T> && !is_version_field_v<T>;

template <class Object, class Visit>
void for_each_member(Object& object, Visit&& visit) {
  boost::mp11::mp_for_each<public_members<std::remove_const_t<Object>>>(
      [&](auto member) { visit(member.name, object.*member.pointer); });
}

/// Calls visit(path, value&) for every value stored in the model's hash (T, not the proxy).
template <class Object, class Visit>
void for_each_hash_field(Object& object, const std::string& prefix, Visit&& visit) {
  for_each_member(object, [&](const char* name, auto& member) {
    using M = std::remove_cvref_t<decltype(member)>;
    std::string path = prefix + name;
    if constexpr (is_collection_field_v<M>) {
      return;
    } else if constexpr (std::is_base_of_v<scalar_field_tag, M> || is_key_field_v<M> || is_version_field_v<M>) {
      visit(path, member.value());
    } else if constexpr (is_flattened_struct_v<M>) {
      static_assert(!is_proxy_v<M>, "field proxies are supported at the top level of a model only");
      for_each_hash_field(member, path + ".", visit);
    } else {
      visit(path, member);
    }
  });
}

/// Calls visit(name, proxy&) for every list / dict / set field.
template <class Model, class Visit>
void for_each_collection(Model& model, Visit&& visit) {
  for_each_member(model, [&](const char* name, auto& member) {
    if constexpr (is_collection_field_v<std::remove_cvref_t<decltype(member)>>) visit(name, member);
  });
}

template <class Model>
std::size_t proxy_count() {
  std::size_t count = 0;
  boost::mp11::mp_for_each<public_members<Model>>([&](auto member) {
    using M = std::remove_cvref_t<decltype(std::declval<Model&>().*member.pointer)>;
    if constexpr (is_proxy_v<M>) ++count;
  });
  return count;
}

template <class Model>
constexpr bool has_key_field() {
  bool found = false;
  boost::mp11::mp_for_each<public_members<Model>>([&](auto member) {
    using M = std::remove_cvref_t<decltype(std::declval<Model&>().*member.pointer)>;
    if constexpr (is_key_field_v<M>) found = true;
  });
  return found;
}

/// Appends path, text pairs for one value; an empty optional writes nothing.
template <class T>
void encode_hash_field(std::vector<std::string>& pairs, const std::string& path, const T& value) {
  if constexpr (is_optional_v<T>) {
    if (value) encode_hash_field(pairs, path, *value);
  } else {
    pairs.push_back(path);
    pairs.push_back(encode(value));
  }
}

/// Decodes one value of the hash; `stored` is null when the field is absent.
template <class T>
void decode_hash_field(const std::string* stored, T& value) {
  if constexpr (is_optional_v<T>) {
    if (stored == nullptr) {
      value.reset();
    } else {
      value = decode<typename T::value_type>(*stored);
    }
  } else {
    if (stored == nullptr) throw decode_failure("missing required field");
    value = decode<T>(*stored);
  }
}

/// The hash reply (field, value, ...) as a lookup table.
std::unordered_map<std::string_view, const std::string*> index_hash(const reply& hash);

}  // namespace rapyer::detail
