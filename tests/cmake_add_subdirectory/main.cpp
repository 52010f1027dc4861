#include <cachekit/cachekit.hpp>

#include <cstring>

int main() {
  // Linked as a subproject: the header and its version are reachable.
  return std::strlen(CACHEKIT_VERSION_STRING) > 0 ? 0 : 1;
}
