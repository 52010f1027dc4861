#pragma once
// Pausing the calling thread: nanosleep, EINTR retried for the time left.
// Here rather than std::this_thread::sleep_for so that every translation unit
// does not pay for parsing <thread>.

#include "../config.hpp"  // CACHEKIT_DETAIL_VIEW

#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)
#include <cerrno>
#include <chrono>

#include <time.h>


CACHEKIT_BEGIN_NAMESPACE
namespace detail {

/// Blocks the calling thread for at least d (nothing when d <= 0).
inline void sleep_for(std::chrono::nanoseconds d) noexcept {
  if (d <= std::chrono::nanoseconds::zero()) return;
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(d);
  timespec left{};
  left.tv_sec = static_cast<time_t>(secs.count());
  left.tv_nsec = static_cast<long>((d - secs).count());
  while (::nanosleep(&left, &left) != 0 && errno == EINTR) {
  }
}

}  // namespace detail
CACHEKIT_END_NAMESPACE

#endif  // CACHEKIT_DETAIL_VIEW
