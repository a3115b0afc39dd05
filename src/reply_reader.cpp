#include "rapyer/detail/reply_reader.hpp"

#include <hiredis/read.h>

#include <algorithm>
#include <string>

#include "rapyer/error.hpp"

namespace rapyer::detail {
namespace {

// hiredis builds a tree bottom-up through these callbacks. A top-level object is heap-allocated
// and handed to us by redisReaderGetReply; a nested one is appended in place to its parent array,
// so only the root is ever freed. Elements arrive in order, and hiredis keeps a pointer only to the
// element being filled, so growing the parent never invalidates a pointer still in use.
void* place(const redisReadTask* task, reply&& value) {
  if (task->parent != nullptr) {
    auto& elements = static_cast<reply*>(task->parent->obj)->as_array();
    elements.push_back(std::move(value));
    return &elements.back();
  }
  return new reply(std::move(value));
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

void free_object(void* object) { delete static_cast<reply*>(object); }

redisReplyObjectFunctions reply_functions{create_string, create_array, create_integer, create_nil, free_object};

}  // namespace

reply_reader::reply_reader() : reader_(redisReaderCreateWithFunctions(&reply_functions)) {
  if (reader_ == nullptr) throw std::bad_alloc();
}

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
  auto* root = static_cast<reply*>(object);
  reply result = std::move(*root);
  delete root;
  return result;
}

void reply_reader::reset() {
  redisReader* fresh = redisReaderCreateWithFunctions(&reply_functions);
  if (fresh == nullptr) throw std::bad_alloc();
  redisReaderFree(reader_);
  reader_ = fresh;
}

}  // namespace rapyer::detail

namespace rapyer::detail {

void throw_unexpected_reply(const reply& r) {
  throw protocol_error("reply with no request waiting for it: " + r.to_debug_string().substr(0, 200));
}

}  // namespace rapyer::detail
