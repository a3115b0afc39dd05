// rapyer::aget(key): loads whatever model is stored at a key, its class resolved from the key's
// "<prefix><Name>:{" head, like the Python original's rapyer.aget. A class is known once one of
// its objects was constructed, or after rapyer::register_model<Model>().
#pragma once

#include <memory>
#include <string>

#include "rapyer/detail/model_registry.hpp"

namespace rapyer {

/// Any model, as returned by aget; dynamic_cast to the class, or use key() / model_name().
using any_model = detail::model_base;

/// Loads the model at `key`. Throws usage_error for a key of no registered class, key_not_found,
/// decode_error.
awaitable<std::unique_ptr<any_model>> aget(std::string key);

/// Makes a model class known to aget before any object of it exists.
template <class Model>
void register_model() {
  Model probe;  // constructing registers the class
}

}  // namespace rapyer
