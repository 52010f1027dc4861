// Second translation unit including the whole header (see unit-odr.cpp):
// every non-template namespace-scope definition must be inline.
#include <cachekit/cachekit.hpp>

int cachekit_second_tu_kind() {
  cachekit::Error e(cachekit::ErrorKind::timeout, "x");
  return static_cast<int>(e.kind());
}
