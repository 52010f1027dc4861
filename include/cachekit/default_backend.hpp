#pragma once
// The default backend of cachekit::cache(fn): memcached when the environment
// names servers, else the in-process store. Chosen once per process, on
// first use, without connecting anywhere and without logging.

#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "backend.hpp"
#include "error.hpp"
#include "memcached_backend.hpp"
#include "memory_backend.hpp"

CACHEKIT_BEGIN_NAMESPACE

namespace detail {
/// Stands in for a backend whose configuration was refused: every operation
/// returns that error, so cached functions run uncached and report it. (A
/// class template only so that it is compiled where it is used.)
template <class Unused = void>
class BasicFailedBackend final : public Backend {
 public:
  explicit BasicFailedBackend(Error error) : error_(std::move(error)) {}
  Result<std::optional<std::string>> get(std::string_view) override { return error_; }
  Result<void> set(std::string_view, std::string_view, std::chrono::seconds) override { return error_; }
  Result<bool> add(std::string_view, std::string_view, std::chrono::seconds) override { return error_; }
  Result<bool> remove(std::string_view) override { return error_; }
  Result<bool> exists(std::string_view) override { return error_; }
  Result<bool> touch(std::string_view, std::chrono::seconds) override { return error_; }

 private:
  Error error_;
};
using FailedBackend = BasicFailedBackend<>;
}  // namespace detail

/// Whether CACHEKIT_MEMCACHED_SERVERS is set to something non-empty.
inline bool memcached_configured() noexcept {
  const char* servers = std::getenv("CACHEKIT_MEMCACHED_SERVERS");
  return servers != nullptr && servers[0] != '\0';
}

/// A new backend chosen from the environment: a MemcachedBackend from
/// MemcachedBackendConfig::from_env() when CACHEKIT_MEMCACHED_SERVERS is set,
/// else a MemoryBackend. Fails when that configuration is malformed.
/// (A template only so that it is compiled where it is used.)
template <class Memcached = MemcachedBackend>
Result<std::shared_ptr<Backend>> make_default_backend() {
  if (!memcached_configured()) return std::shared_ptr<Backend>(std::make_shared<MemoryBackend>());
  auto config = MemcachedBackendConfig::from_env();
  if (!config) return std::move(config).error();
  return std::shared_ptr<Backend>(std::make_shared<Memcached>(std::move(config).value()));
}

/// The process-wide default backend, made by make_default_backend() on first
/// use and kept for the life of the process. When the environment's
/// configuration is malformed, every operation on it fails with that error
/// (so cached functions run uncached and report it to on_error).
/// (A template only so that it is compiled where it is used; one backend
/// per process all the same.)
template <class Memcached = MemcachedBackend>
std::shared_ptr<Backend> default_backend() {
  static const std::shared_ptr<Backend> backend = []() -> std::shared_ptr<Backend> {
    auto made = make_default_backend<Memcached>();
    if (!made) return std::make_shared<detail::FailedBackend>(std::move(made).error());
    return std::move(made).value();
  }();
  return backend;
}

CACHEKIT_END_NAMESPACE
