// The one translation unit that compiles the memcached backend.
#define CACHEKIT_IMPLEMENTATION
#include <cachekit/cachekit.hpp>
