// Quickstart: prints the cachekit version. Grows into a memoized function
// once the typed facade lands.
#include <cachekit/cachekit.hpp>

#include <cstdio>

int main() {
  std::printf("cachekit %s\n", CACHEKIT_VERSION_STRING);
  return 0;
}
