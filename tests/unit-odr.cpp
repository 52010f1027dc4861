// With odr-second-tu.cpp: the header linked from two translation units.
#include <doctest/doctest.h>

#include <cachekit/cachekit.hpp>

int cachekit_second_tu_kind();

TEST_CASE("the header links from two translation units") {
  CHECK(cachekit_second_tu_kind() == static_cast<int>(cachekit::ErrorKind::timeout));
}
