// The hot path reads the monotonic clock directly; its readings must be
// steady_clock's, since deadlines mix the two.
#include <doctest/doctest.h>

#include <chrono>

#include <cachekit/cachekit.hpp>

TEST_CASE("hot clock: net::now() lies between steady_clock readings") {
  using SteadyClock = std::chrono::steady_clock;
  for (int i = 0; i < 10000; ++i) {
    const SteadyClock::time_point before = SteadyClock::now();
    const SteadyClock::time_point mid = cachekit::detail::net::now();
    const SteadyClock::time_point after = SteadyClock::now();
    REQUIRE(before <= mid);
    REQUIRE(mid <= after);
  }
}
