#pragma once
// cachekit: a single-header C++17 memcached client and typed cache.

#include "version.hpp"
#include "config.hpp"
#include "error.hpp"
#include "backend.hpp"
<<<<<<< HEAD
#include "hash/blake2b.hpp"
#include "msgpack.hpp"
#include "interop.hpp"
=======
>>>>>>> facade
#include "hash/md5.hpp"
#include "hash/md5_multi.hpp"
#include "hash/murmur3.hpp"
#include "server_spec.hpp"
#include "ring.hpp"
<<<<<<< HEAD
=======
#include "protocol/binary.hpp"
#include "net/socket.hpp"
#include "detail/json.hpp"
#include "memcached_config.hpp"
#include "memcached_backend.hpp"
#include "memory_backend.hpp"
#include "hash/blake2b.hpp"
#include "msgpack.hpp"
#include "interop.hpp"
#include "cache_options.hpp"
#include "default_backend.hpp"
#include "cache.hpp"
#include "typed_cache.hpp"
>>>>>>> facade
