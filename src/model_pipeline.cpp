#include "rapyer/model_pipeline.hpp"

#include "rapyer/detail/script.hpp"
#include "rapyer/error.hpp"

namespace rapyer::detail {

awaitable<void> run_model_pipeline(std::vector<const model_base*> models, std::function<awaitable<void>()> body,
                                   pipeline_options options) {
  pipeline_state* outer = nullptr;
  for (const auto* m : models) {
    if (m->active_pipeline() != nullptr) outer = m->active_pipeline();
  }
  if (outer != nullptr) {
    if (!options.join_existing)
      throw usage_error("apipeline: a model is already in a pipeline (join_existing is false)");
    for (const auto* m : models) {
      if (m->active_pipeline() != nullptr) continue;
      m->set_pipeline(outer);
      outer->models.push_back(m);  // released when the outer pipeline ends
    }
    co_await body();  // the outer pipeline sends everything, or nothing if this throws
    co_return;
  }

  pipeline_state state;
  state.models = models;
  for (const auto* m : models) m->set_pipeline(&state);
  std::exception_ptr failure;
  try {
    co_await body();
  } catch (...) {
    failure = std::current_exception();
  }
  for (const auto* m : state.models) m->set_pipeline(nullptr);
  if (failure) std::rethrow_exception(failure);
  if (state.operations.empty()) co_return;

  request block;
  block.push("MULTI");
  for (const auto& op : state.operations) block.append(op.command);
  for (const auto* m : state.models) m->push_refresh(block);
  block.push("EXEC");
  // The block mixes script calls with other commands: a NOSCRIPT inside it could only be repaired
  // by running the failed calls after the others, out of order. Its scripts are loaded first.
  const auto used = scripts_called(block);
  request req;
  push_script_loads(req, used);
  req.append(block);
  auto replies = co_await models.front()->redis().execute(req);
  throw_if_load_failed(std::span<const reply>(replies).first(used.size()));
  const std::size_t first_queued = used.size() + 1;  // after the loads and MULTI

  std::vector<pipeline_error::failure> failures;
  const reply& exec = replies.back();
  if (exec.is_error()) {  // EXECABORT: a command was refused while queueing; nothing ran
    for (std::size_t i = 0; i < state.operations.size(); ++i) {
      const reply& queued = replies.at(first_queued + i);
      if (queued.is_error()) failures.push_back({i, state.operations[i].description, queued.error_message()});
    }
    if (failures.empty()) exec.throw_if_error("EXEC");
    throw pipeline_error(std::move(failures));
  }
  const auto& results = exec.as_array();
  for (std::size_t i = 0; i < state.operations.size(); ++i) {
    const reply& result = results.at(i);
    if (result.is_error()) {
      failures.push_back({i, state.operations[i].description, result.error_message()});
    } else if (state.operations[i].apply) {
      state.operations[i].apply(result);
    }
  }
  if (!failures.empty() && !options.ignore_errors) throw pipeline_error(std::move(failures));
}

}  // namespace rapyer::detail
