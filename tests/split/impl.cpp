// The one translation unit that compiles the library (see config.hpp); the
// others define CACHEKIT_DECLARATIONS_ONLY.
#define CACHEKIT_IMPLEMENTATION
#include <cachekit/cachekit.hpp>
