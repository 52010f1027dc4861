// Stampede protection: one caller computes under a lease, the others wait
// for its value, and nobody waits past the bound.
#include <doctest/doctest.h>

#include <cachekit/cachekit.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "support/stampede_run.hpp"

using namespace std::chrono_literals;

TEST_CASE("stampede: 16 threads missing one key run the function once" * doctest::test_suite("concurrency")) {
  auto backend = std::make_shared<cachekit::MemoryBackend>();
  cktest::StampedeSettings s;
  s.compute_time = 300ms;
  s.max_wait = 3000ms;
  const auto r = cktest::run_stampede(backend, s);
  CHECK(r.calls == 1);
  CHECK(r.wrong_values == 0);
  CHECK(r.stats.stampede_waits == 15);
  CHECK(r.stats.stampede_timeouts == 0);
  CHECK(r.stats.hits == 15);
  CHECK(r.longest_wait <= s.max_wait + 250ms);
  // The lease is given back once the value is stored.
  CHECK_FALSE(backend->get(r.key + ":lock")->has_value());
}

TEST_CASE("stampede: waiters give up at the bound and compute anyway" * doctest::test_suite("concurrency")) {
  auto backend = std::make_shared<cachekit::MemoryBackend>();
  cktest::StampedeSettings s;
  s.compute_time = 1500ms;
  s.max_wait = 200ms;
  const auto r = cktest::run_stampede(backend, s);
  CHECK(r.wrong_values == 0);
  CHECK(r.calls >= 1);
  CHECK(r.stats.stampede_timeouts == r.stats.stampede_waits);
  CHECK(r.calls == 1 + static_cast<int>(r.stats.stampede_timeouts));
  CHECK(r.longest_wait <= s.max_wait + 250ms);
  CHECK(r.longest_wait >= s.max_wait);
}

TEST_CASE("stampede: without protection every thread computes") {
  auto backend = std::make_shared<cachekit::MemoryBackend>();
  cktest::StampedeSettings s;
  s.compute_time = 200ms;
  s.enabled = false;
  const auto r = cktest::run_stampede(backend, s);
  CHECK(r.calls == s.threads);
  CHECK(r.stats.stampede_waits == 0);
}
