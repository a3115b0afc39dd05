// rapyer::aget(key) / rapyer::afind(keys) / rapyer::aexists(key): load whatever models are stored
// at keys, or tell whether one is, each class resolved from the key's "<prefix><Name>:{" head, like
// the Python original's rapyer.aget/afind. A class is known once one of its objects was
// constructed, or after rapyer::register_model<Model>().
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "rapyer/detail/model_registry.hpp"

namespace rapyer {

/// Any model, as returned by aget; dynamic_cast to the class, or use key() / model_name().
using any_model = detail::model_base;

/// What a find by keys does with keys that hold no model.
enum class missing_keys { raise, skip };

/// Loads the model at `key`. Throws usage_error for a key of no registered class, key_not_found,
/// decode_error.
awaitable<std::unique_ptr<any_model>> aget(std::string key);

/// Loads the models at `keys`, of any registered classes, in order, in one round trip (one per
/// client when classes use different clients), each model read consistently (one MULTI/EXEC for
/// all on a standalone server, one per hash slot on a cluster). Missing keys raise key_not_found
/// or are skipped.
awaitable<std::vector<std::unique_ptr<any_model>>> afind(std::vector<std::string> keys,
                                                         missing_keys missing = missing_keys::raise);

/// Whether a model is stored at `key`, of the registered class its head names (one EXISTS). False,
/// with nothing sent, for a key that no registered class makes: a key of an unknown class (as in the
/// original), a collection key.
awaitable<bool> aexists(std::string key);

/// Makes a model class known to aget before any object of it exists.
template <class Model>
void register_model() {
  Model probe;  // constructing registers the class
}

}  // namespace rapyer
