// The test harness itself: servers start, answer, die on demand, restart.
#include <doctest/doctest.h>

#include "support/memcached_process.hpp"

TEST_CASE("harness starts, kills and restarts memcached on free loopback ports") {
  cktest::MemcachedCluster cluster(2);
  REQUIRE(cluster.size() == 2);
  CHECK(cluster.port(0) != 11211);
  CHECK(cluster.port(0) != cluster.port(1));
  CHECK(cktest::port_accepts(cluster.port(0)));
  CHECK(cktest::port_accepts(cluster.port(1)));

  cluster.kill(1);
  CHECK_FALSE(cluster.running(1));
  CHECK(cktest::wait_until([&] { return !cktest::port_accepts(cluster.port(1)); },
                           std::chrono::seconds(5)));
  CHECK(cktest::port_accepts(cluster.port(0)));

  cluster.restart(1);
  CHECK(cluster.running(1));
  CHECK(cktest::port_accepts(cluster.port(1)));
}
