#pragma once
// Key and value rules of MemcachedBackend: key_prefix + key, validated
// (length, bytes), in a stack buffer; the errors that name a refused key
// or value; memcached's item size rule. Pure: no I/O.

#include "../config.hpp"  // CACHEKIT_DETAIL_VIEW

#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "../error.hpp"
#include "../memcached_config.hpp"

CACHEKIT_BEGIN_NAMESPACE
namespace detail {

/// Key with prefix, validated; in a stack buffer when there is a prefix
/// (no allocation), else the caller's bytes.
struct FullKey {
  char buf[CACHEKIT_MAX_KEY_LENGTH];
  const char* data = buf;
  std::size_t len = 0;
  std::string_view view() const noexcept { return std::string_view(data, len); }
};

class KeyRules {
 public:
  explicit KeyRules(const MemcachedBackendConfig& config) : config_(config), prefix_(config.key_prefix) {}

  /// Why key (with key_prefix) is not a valid memcached key, or null.
  CACHEKIT_HOT_INLINE const char* problem(std::string_view key) const noexcept {
    if (key.empty()) return "empty key";
    if (prefix_.size() + key.size() > CACHEKIT_MAX_KEY_LENGTH) return "key longer than 250 bytes (with key_prefix)";
    if (has_bad_key_byte(key.data(), key.size())) return "key contains whitespace or a control character";
    return nullptr;
  }

  /// Fills out with key_prefix + key; null, or why the key is refused.
  CACHEKIT_HOT_INLINE const char* make(std::string_view key, FullKey& out) const noexcept {
    if (const char* why = problem(key)) return why;
    if (prefix_.empty()) {
      out.data = key.data();
    } else {
      std::memcpy(out.buf, prefix_.data(), prefix_.size());
      std::memcpy(out.buf + prefix_.size(), key.data(), key.size());
    }
    out.len = prefix_.size() + key.size();
    return nullptr;
  }

  /// A refused key: why, with the length and at most the first 64 bytes of
  /// the key when it is too long.
  Error error(const char* why, const char* op, std::string_view key) const {
    const std::size_t len = config_.key_prefix.size() + key.size();
    if (len <= CACHEKIT_MAX_KEY_LENGTH) {
      Error e(ErrorKind::permanent, why);
      e.with_operation(op);
      if (!key.empty()) e.with_key(std::string(key));
      return e;
    }
    std::string m = config_.key_prefix.empty() ? "key of " : "key_prefix + key of ";
    m += std::to_string(len) + " bytes is longer than the " + std::to_string(CACHEKIT_MAX_KEY_LENGTH) + "-byte limit";
    constexpr std::size_t kShown = 64;
    if (key.size() > kShown) m += " (key= shows its first " + std::to_string(kShown) + " bytes)";
    Error e(ErrorKind::permanent, std::move(m));
    e.with_operation(op);
    e.with_key(std::string(key.substr(0, kShown)));
    return e;
  }

  /// memcached's item header, counted against its item size limit (-I)
  /// with the key and the value (1.6, 64-bit: header, CAS, the key's NUL,
  /// the value's CRLF); non-zero flags add four bytes.
  static constexpr std::size_t kItemOverhead = 59, kFlagsOverhead = 4;

  /// Refuses a value that a server with max_item_size_bytes as its item
  /// size limit would refuse (key_len: the full key's length).
  Result<void> check_value(std::string_view value, std::size_t key_len, std::uint32_t flags) const {
    const std::size_t limit = config_.max_item_size_bytes;
    const std::size_t overhead = key_len + kItemOverhead + (flags != 0 ? kFlagsOverhead : 0);
    if (limit != 0 && (value.size() > limit || limit - value.size() < overhead)) {
      const std::size_t fits = limit > overhead ? limit - overhead : 0;
      return Error(ErrorKind::permanent,
                   "value of " + std::to_string(value.size()) + " bytes does not fit max_item_size_bytes (" +
                       std::to_string(limit) + "): memcached's item size limit also counts the " +
                       std::to_string(key_len) + "-byte key and " + std::to_string(overhead - key_len) +
                       " bytes of item header, so at most " + std::to_string(fits) + " bytes fit");
    }
    if (value.size() > 0xffffffffu - CACHEKIT_MAX_KEY_LENGTH - 8) return Error(ErrorKind::permanent, "value too large");
    return {};
  }

 private:
  const MemcachedBackendConfig& config_;
  std::string_view prefix_;  // config_.key_prefix, read on every call
};

}  // namespace detail
CACHEKIT_END_NAMESPACE

#endif  // CACHEKIT_DETAIL_VIEW
