#pragma once
// MessagePack values: codec<T>, to_msgpack / from_msgpack, CACHEKIT_FIELDS.

#include "msgpack/writer.hpp"
#include "msgpack/reader.hpp"
#include "msgpack/types.hpp"
#include "msgpack/codec.hpp"
#include "msgpack/fields.hpp"
