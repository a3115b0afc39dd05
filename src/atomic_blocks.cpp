#include "rapyer/detail/atomic_blocks.hpp"

#include <map>

#include "rapyer/detail/cluster/command_keys.hpp"
#include "rapyer/detail/cluster/key_slot.hpp"
#include "rapyer/error.hpp"

namespace rapyer::detail {

atomic_blocks::atomic_blocks(bool by_slot, const std::vector<std::string>& keys) : placement_(keys.size()) {
  std::map<std::uint16_t, std::size_t> group_of_slot;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const std::uint16_t slot = by_slot ? cluster::key_slot(keys[i]) : 0;
    const auto [entry, added] = group_of_slot.try_emplace(slot, groups_.size());
    if (added) groups_.emplace_back();
    auto& members = groups_[entry->second].members;
    placement_[i] = {entry->second, members.size()};
    members.push_back(i);
  }
}

std::pair<const std::vector<reply>*, std::size_t> atomic_blocks::results_of(const std::vector<reply>& replies,
                                                                            std::size_t key_index) const {
  const auto [g, rank] = placement_.at(key_index);
  const reply& exec = replies.at(groups_[g].exec_reply);
  exec.throw_if_error("EXEC");
  return {&exec.as_array(), rank};
}

std::vector<const std::vector<reply>*> atomic_blocks::all_results(const std::vector<reply>& replies) const {
  std::vector<const std::vector<reply>*> results;
  for (const auto& g : groups_) {
    const reply& exec = replies.at(g.exec_reply);
    exec.throw_if_error("EXEC");
    results.push_back(&exec.as_array());
  }
  return results;
}

void require_one_slot(const std::vector<std::string>& keys, std::string_view operation) {
  if (keys.empty()) return;
  const std::uint16_t first = cluster::key_slot(keys.front());
  bool same = true;
  for (const auto& key : keys) same = same && cluster::key_slot(key) == first;
  if (same) return;
  const std::vector<std::string_view> views(keys.begin(), keys.end());
  throw usage_error(std::string(operation) + ": on a cluster all keys must be in one hash slot, but they are " +
                    cluster::describe_key_slots(views));
}

}  // namespace rapyer::detail
