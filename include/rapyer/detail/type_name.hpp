// The unqualified name of a class ("User" for app::User), used as the default model name in keys.
#pragma once

#include <string>
#include <string_view>

namespace rapyer::detail {

std::string unqualified_name(std::string_view pretty_function);

template <class T>
std::string type_name() {
  return unqualified_name(__PRETTY_FUNCTION__);  // "... [with T = app::User; ...]" or "... [T = app::User]"
}

}  // namespace rapyer::detail
