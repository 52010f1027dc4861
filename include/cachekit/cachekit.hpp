#pragma once
// cachekit: a single-header C++17 memcached client and typed cache.

#include "version.hpp"
#include "config.hpp"
#include "error.hpp"
#include "backend.hpp"
#include "memory_backend.hpp"
#include "hash/blake2b.hpp"
#include "msgpack.hpp"
#include "interop.hpp"
#include "cache_options.hpp"
#include "default_backend.hpp"
#include "cache.hpp"
#include "typed_cache.hpp"
