#include "rapyer/detail/key_layout.hpp"

#include <utility>

#include "rapyer/detail/cluster/key_slot.hpp"
#include "rapyer/detail/model_registry.hpp"

namespace rapyer::detail {

key_layout::key_layout(std::string prefix, std::string name, std::size_t buckets)
    : prefix_(std::move(prefix)), name_(std::move(name)), head_(prefix_ + name_), buckets_(buckets) {}

std::size_t key_layout::bucket_of(std::string_view id) const noexcept {
  return buckets_ == 0 ? 0 : cluster::crc16(id) % buckets_;
}

void key_layout::append_bucket_tag(std::string& key, std::size_t bucket) const {
  key.append("{").append(name_).append("#").append(std::to_string(bucket)).append("}");
}

std::string key_layout::model_key(std::string_view id, std::string_view suffix) const {
  std::string key;
  key.reserve(head_.size() + id.size() + name_.size() + 12 + suffix.size());
  key.append(head_).append(":");
  if (buckets_ > 0) {
    append_bucket_tag(key, bucket_of(id));
    key.append(":");
  }
  key.append("{").append(id).append("}");
  if (!suffix.empty()) key.append(":").append(suffix);
  return key;
}

std::optional<std::string> key_layout::id_of(std::string_view key) const {
  std::string_view rest = key;
  const auto skip = [&](std::string_view expected) {
    if (!rest.starts_with(expected)) return false;
    rest.remove_prefix(expected.size());
    return true;
  };
  if (!skip(head_) || !skip(":{")) return std::nullopt;
  if (buckets_ > 0) {
    if (!skip(name_ + "#")) return std::nullopt;
    const auto tag_end = rest.find("}:{");
    if (tag_end == std::string_view::npos) return std::nullopt;
    rest.remove_prefix(tag_end + 3);
  }
  if (!rest.ends_with('}')) return std::nullopt;
  std::string id(rest.substr(0, rest.size() - 1));
  // Rebuilt to compare: a bucket that is not the id's ("#03", another number) is no key of ours.
  if (model_key(id) != key) return std::nullopt;
  return id;
}

std::string key_layout::key_of(std::string_view key_or_id) const {
  const bool is_key = id_of(key_or_id) || (buckets_ > 0 && unbucketed().id_of(key_or_id));
  return is_key ? std::string(key_or_id) : model_key(key_or_id);
}

bool key_layout::has_bucket_tag(std::string_view key) const { return key.starts_with(head_ + ":{" + name_ + "#"); }

std::string key_layout::index_key(std::size_t bucket, std::string_view path) const {
  std::string key = head_ + ":";
  if (buckets_ > 0) {
    append_bucket_tag(key, bucket);
    key.append(":");
  }
  key.append("index:").append(path);
  return key;
}

std::string key_layout::scan_pattern() const {
  if (buckets_ == 0) return glob_escape(head_ + ":{") + "*}";
  return glob_escape(head_ + ":{" + name_ + "#") + "*}:{*}";
}

std::string key_layout::index_scan_pattern() const { return glob_escape(head_ + ":{" + name_ + "#") + "*}:index:*"; }

std::optional<std::string> key_layout::index_path_of(std::string_view key) const {
  const std::string start = head_ + ":{" + name_ + "#";
  constexpr std::string_view marker = "}:index:";
  if (buckets_ == 0 || !key.starts_with(start)) return std::nullopt;
  const auto at = key.find(marker, start.size());
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view path = key.substr(at + marker.size());
  constexpr std::string_view members = ":members";
  if (path.ends_with(members)) path.remove_suffix(members.size());
  // Only digits between "#" and "}:index:": a model key whose id holds "}:index:" is no index key.
  const std::string_view bucket = key.substr(start.size(), at - start.size());
  if (bucket.empty() || bucket.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
  return std::string(path);
}

std::optional<std::string_view> key_head_of(std::string_view key) {
  const auto brace = key.find(":{");
  if (brace == std::string_view::npos) return std::nullopt;
  return key.substr(0, brace);
}

}  // namespace rapyer::detail
