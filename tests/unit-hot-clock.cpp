// The hot path reads the monotonic clock directly; its readings must be
// steady_clock's, since deadlines mix the two.
#include <doctest/doctest.h>

#include <chrono>

#include <cachekit/cachekit.hpp>

TEST_CASE("hot clock: net::now() lies between steady_clock readings") {
  using Clock = std::chrono::steady_clock;
  for (int i = 0; i < 10000; ++i) {
    const Clock::time_point before = Clock::now();
    const Clock::time_point mid = cachekit::detail::net::now();
    const Clock::time_point after = Clock::now();
    REQUIRE(before <= mid);
    REQUIRE(mid <= after);
  }
}
