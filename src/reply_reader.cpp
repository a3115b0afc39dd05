#include "rapyer/detail/reply_reader.hpp"

#include <hiredis/read.h>

#include <algorithm>
#include <string>

#include "rapyer/error.hpp"

namespace rapyer::detail {
namespace {

// hiredis builds a tree bottom-up through these callbacks. A top-level object is built in the
// reader's root slot (task->privdata), so a reply needs no allocation of its own; a nested one is
// appended in place to its parent array. Elements arrive in order, and hiredis keeps a pointer only
// to the element being filled, so growing the parent never invalidates a pointer still in use.
void* place(const redisReadTask* task, reply&& value) {
  if (task->parent != nullptr) {
    auto& elements = static_cast<reply*>(task->parent->obj)->as_array();
    elements.push_back(std::move(value));
    return &elements.back();
  }
  auto* root = static_cast<reply*>(task->privdata);
  *root = std::move(value);
  return root;
}

void* create_string(const redisReadTask* task, char* data, size_t len) {
  std::string text(data, len);
  switch (task->type) {
    case REDIS_REPLY_ERROR:
      return place(task, reply::error(std::move(text)));
    case REDIS_REPLY_STATUS:
      return place(task, reply::status(std::move(text)));
    default:
      return place(task, reply::string(std::move(text)));
  }
}

// Sized by what arrives, not by the header: "*1000000000" alone must not allocate a gigabyte.
void* create_array(const redisReadTask* task, int elements) {
  std::vector<reply> slots;
  slots.reserve(std::min<std::size_t>(static_cast<std::size_t>(elements), 1024));
  return place(task, reply::array(std::move(slots)));
}

void* create_integer(const redisReadTask* task, long long value) { return place(task, reply::integer(value)); }

void* create_nil(const redisReadTask* task) { return place(task, reply::nil()); }

// The only object hiredis frees is a root, which lives in the reader: the next one overwrites it.
void free_object(void* /*root*/) {}

redisReplyObjectFunctions reply_functions{create_string, create_array, create_integer, create_nil, free_object};

redisReader* create_reader(reply* root) {
  redisReader* reader = redisReaderCreateWithFunctions(&reply_functions);
  if (reader == nullptr) throw std::bad_alloc();
  reader->privdata = root;  // handed to every callback as task->privdata
  return reader;
}

}  // namespace

reply_reader::reply_reader() : reader_(create_reader(&root_)) {}

reply_reader::~reply_reader() { redisReaderFree(reader_); }

void reply_reader::feed(std::string_view bytes) {
  if (redisReaderFeed(reader_, bytes.data(), bytes.size()) != REDIS_OK)
    throw protocol_error("RESP reader: out of memory");
}

std::optional<reply> reply_reader::next() {
  void* object = nullptr;
  if (redisReaderGetReply(reader_, &object) != REDIS_OK) {
    throw protocol_error(std::string("invalid RESP2 from server: ") + reader_->errstr);
  }
  if (object == nullptr) return std::nullopt;
  return std::move(root_);
}

void reply_reader::reset() {
  redisReader* fresh = create_reader(&root_);
  redisReaderFree(reader_);
  reader_ = fresh;
  root_ = reply();
}

}  // namespace rapyer::detail

namespace rapyer::detail {

void throw_unexpected_reply(const reply& r) {
  throw protocol_error("reply with no request waiting for it: " + r.to_debug_string().substr(0, 200));
}

}  // namespace rapyer::detail
