#pragma once
// cachekit: a single-header C++17 memcached client and typed cache.

#include "version.hpp"
#include "config.hpp"
#include "error.hpp"
#include "backend.hpp"
#include "hash/blake2b.hpp"
#include "msgpack.hpp"
#include "interop.hpp"
#include "hash/md5.hpp"
#include "hash/md5_multi.hpp"
#include "hash/murmur3.hpp"
#include "server_spec.hpp"
#include "ring.hpp"
