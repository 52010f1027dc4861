#pragma once
// A growable byte buffer for outgoing requests. Unlike std::string, growth
// leaves the new bytes uninitialised, for callers that write them at once
// (a pipeline of thousands of headers is encoded in place, not zero-filled
// first). Pure: no I/O.

#include "../config.hpp"  // CACHEKIT_DETAIL_VIEW

#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)
#include <cstddef>
#include <cstring>
#include <memory>

#include "../version.hpp"

CACHEKIT_BEGIN_NAMESPACE
namespace detail {

class ByteBuffer {
 public:
  ByteBuffer() = default;
  ByteBuffer(const ByteBuffer&) = delete;
  ByteBuffer& operator=(const ByteBuffer&) = delete;

  const char* data() const noexcept { return buf_.get(); }
  char* data() noexcept { return buf_.get(); }
  std::size_t size() const noexcept { return size_; }
  std::size_t capacity() const noexcept { return cap_; }
  bool empty() const noexcept { return size_ == 0; }
  /// Forgets the contents; keeps the memory.
  void clear() noexcept { size_ = 0; }
  /// Room for at least n bytes in all.
  void reserve(std::size_t n) {
    if (n <= cap_) return;
    std::unique_ptr<char[]> bigger(new char[n]);  // uninitialised on purpose
    if (size_ > 0) std::memcpy(bigger.get(), buf_.get(), size_);
    buf_ = std::move(bigger);
    cap_ = n;
  }
  /// Grows by n bytes for the caller to write; returns where they start.
  char* extend(std::size_t n) {
    if (n > cap_ - size_) reserve(size_ + n > 2 * cap_ ? size_ + n : 2 * cap_);
    char* at = buf_.get() + size_;
    size_ += n;
    return at;
  }
  /// Drops the last n bytes (after an extend() that reserved more than was written).
  void shrink(std::size_t n) noexcept { size_ -= n; }
  /// Appends n bytes from p.
  void append(const char* p, std::size_t n) {
    char* at = extend(n);
    if (n > 0) std::memcpy(at, p, n);
  }
  /// Overwrites every byte held, up to the capacity, with zeros (for
  /// buffers that carried a secret).
  void scrub() noexcept {
    volatile char* p = buf_.get();
    for (std::size_t i = 0; i < cap_; ++i) p[i] = 0;
  }

 private:
  std::unique_ptr<char[]> buf_;
  std::size_t size_ = 0;
  std::size_t cap_ = 0;
};

}  // namespace detail
CACHEKIT_END_NAMESPACE

#endif  // CACHEKIT_DETAIL_VIEW
