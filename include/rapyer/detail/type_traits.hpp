// Type classification shared by the codecs and the model layout.
#pragma once

#include <boost/describe/enum.hpp>
#include <boost/describe/enumerators.hpp>
#include <boost/describe/members.hpp>
#include <chrono>
#include <cstddef>
#include <deque>
#include <list>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "rapyer/timestamp.hpp"

namespace rapyer::detail {

template <class T, template <class...> class Template>
inline constexpr bool is_specialization_v = false;
template <template <class...> class Template, class... Args>
inline constexpr bool is_specialization_v<Template<Args...>, Template> = true;

using bytes = std::vector<std::byte>;
using time_point = std::chrono::system_clock::time_point;

template <class T>
inline constexpr bool is_optional_v = is_specialization_v<T, std::optional>;

template <class T>
inline constexpr bool is_described_struct_v = std::is_class_v<T>&& boost::describe::has_describe_members<T>::value;

template <class T>
inline constexpr bool is_described_enum_v = std::is_enum_v<T>&& boost::describe::has_describe_enumerators<T>::value;

/// Sequence containers stored as arrays (a vector of bytes is bytes, not a sequence).
template <class T>
inline constexpr bool is_sequence_v = (is_specialization_v<T, std::vector> && !std::is_same_v<T, bytes>) ||
                                      is_specialization_v<T, std::deque> || is_specialization_v<T, std::list>;

template <class T>
inline constexpr bool is_set_v = is_specialization_v<T, std::set> || is_specialization_v<T, std::unordered_set>;

template <class T>
inline constexpr bool is_map_v = is_specialization_v<T, std::map> || is_specialization_v<T, std::unordered_map>;

/// Values written as one plain text (not JSON) in a hash field or a collection element.
template <class T>
inline constexpr bool is_scalar_v =
    std::is_same_v<T, std::string> || std::is_same_v<T, bytes> || std::is_arithmetic_v<T> || std::is_enum_v<T> ||
    std::is_same_v<T, time_point> || std::is_same_v<T, timestamp>;

}  // namespace rapyer::detail
