#pragma once
// Compile-time tunables. Define any of these before including cachekit to
// override the default; each is documented in README.md.

#include "version.hpp"

// Marks a small function on the get path that must be inlined whatever the
// compiler's size heuristics say (GCC and Clang; a plain inline elsewhere).
#if defined(__GNUC__) || defined(__clang__)
#define CACHEKIT_HOT_INLINE inline __attribute__((always_inline))
#else
#define CACHEKIT_HOT_INLINE inline
#endif

// The same for a lambda (placed after its parameter list).
#if defined(__GNUC__) || defined(__clang__)
#define CACHEKIT_LAMBDA_INLINE __attribute__((always_inline))
#else
#define CACHEKIT_LAMBDA_INLINE
#endif

// Keeps a hot loop (a batch's decoding of the hits in a read buffer) a
// function of its own, so that the compiler inlines what the loop calls
// (the value's construction) instead of giving up on an ever larger caller.
#if defined(__GNUC__) || defined(__clang__)
#define CACHEKIT_LOOP_NOINLINE __attribute__((noinline))
#else
#define CACHEKIT_LOOP_NOINLINE
#endif

// A condition that is almost never true (the end of a run of hits): lets
// the compiler lay out and inline for the other branch.
#if defined(__GNUC__) || defined(__clang__)
#define CACHEKIT_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define CACHEKIT_UNLIKELY(x) (x)
#endif

// Marks the rare branch of a hot function (a full decoder behind a fast
// path) that must stay a call, so the hot function stays small.
#if defined(__GNUC__) || defined(__clang__)
#define CACHEKIT_COLD_NOINLINE inline __attribute__((noinline))
#else
#define CACHEKIT_COLD_NOINLINE inline
#endif

// Compiling the library once in a project with many translation units:
// define CACHEKIT_DECLARATIONS_ONLY in every translation unit that includes
// cachekit (e.g. on the compiler's command line) and, in exactly one of them,
// CACHEKIT_IMPLEMENTATION too (alone it means the same). The others then see
// the declarations view (below): the public API of the backends and the
// facade, without the code behind it, which the one with
// CACHEKIT_IMPLEMENTATION compiles once. Every translation unit of a program
// that uses the backends or the facade must agree: either all header-only,
// or all split. Without either macro every translation unit compiles what
// it uses (header-only); nothing in the library is compiled where it is not
// used.
//
// CACHEKIT_COMPILE_ONCE(declaration) marks one such part: an explicit
// instantiation where CACHEKIT_IMPLEMENTATION is defined, an explicit
// instantiation declaration (extern template) where only
// CACHEKIT_DECLARATIONS_ONLY is, nothing in header-only use.
#if defined(CACHEKIT_IMPLEMENTATION)
#define CACHEKIT_COMPILE_ONCE(...) template __VA_ARGS__;
#elif defined(CACHEKIT_DECLARATIONS_ONLY)
#define CACHEKIT_COMPILE_ONCE(...) extern template __VA_ARGS__;
#else
#define CACHEKIT_COMPILE_ONCE(...)
#endif

// The declarations view. In split use (either macro) MemcachedBackend and
// MemoryBackend are small classes that hold their implementation
// (BasicMemcachedBackend, BasicMemoryBackend) behind a pointer, and the
// read-through of cache() and Cache<T> reaches each function's typed code
// (decode, compute, encode) through function pointers, so that a file with
// CACHEKIT_DECLARATIONS_ONLY alone needs only declarations. The view holds
// Result/Error, the log, the Backend interface, MemcachedBackendConfig,
// both backends, MessagePack's codec (the typed values and keys of the
// file's own types), interop keys, cache() and Cache<T>. The rest of the
// header (rings, hash functions, protocol codecs, sockets, the cluster) is
// skipped in it (CACHEKIT_DETAIL_VIEW); a file that needs those includes
// the header without CACHEKIT_DECLARATIONS_ONLY and compiles them itself
// (tests/split/use_ring.cpp). One call through a pointer is what split use
// adds at run time; header-only use is unchanged.
#if defined(CACHEKIT_IMPLEMENTATION) || defined(CACHEKIT_DECLARATIONS_ONLY)
#define CACHEKIT_DETAIL_SPLIT 1
#endif
#if defined(CACHEKIT_DECLARATIONS_ONLY) && !defined(CACHEKIT_IMPLEMENTATION)
#define CACHEKIT_DETAIL_VIEW 1
#endif

// A non-template function of the library: inline in header-only use; in
// split use declared everywhere and defined (not inline) in the file with
// CACHEKIT_IMPLEMENTATION.
#if defined(CACHEKIT_DETAIL_SPLIT)
#define CACHEKIT_DETAIL_LINKAGE
#else
#define CACHEKIT_DETAIL_LINKAGE inline
#endif

// A public entry point of such a part whose body is a few lines around the
// part's own code (MemcachedBackend::get): forced inline into the caller
// in header-only use; a plain inline member in split use, so that a using
// file calls the one compiled copy instead of compiling the path behind it.
#if defined(CACHEKIT_IMPLEMENTATION) || defined(CACHEKIT_DECLARATIONS_ONLY)
#define CACHEKIT_HOT_INLINE_ENTRY inline
#else
#define CACHEKIT_HOT_INLINE_ENTRY CACHEKIT_HOT_INLINE
#endif

// Longest key memcached accepts (after key_prefix), in bytes.
#ifndef CACHEKIT_MAX_KEY_LENGTH
#define CACHEKIT_MAX_KEY_LENGTH 250
#endif

// Longest TTL in seconds; longer TTLs are clamped (memcached treats larger
// values as absolute Unix times).
#ifndef CACHEKIT_MAX_TTL_SECONDS
#define CACHEKIT_MAX_TTL_SECONDS 2592000
#endif

// Deepest nesting the MessagePack decoder accepts.
#ifndef CACHEKIT_MSGPACK_MAX_DEPTH
#define CACHEKIT_MSGPACK_MAX_DEPTH 64
#endif

// Largest reply body the binary protocol parser accepts, in bytes, and the
// default largest value of the text and meta decoders (protocol::Limits). A
// reply that announces more is a protocol error, never an allocation.
#ifndef CACHEKIT_MAX_RESPONSE_BODY
#define CACHEKIT_MAX_RESPONSE_BODY (128u * 1024u * 1024u)
#endif

// Set to 0 to compile out the run-time selected AVX2/AVX-512 MD5 lanes.
#ifndef CACHEKIT_ENABLE_SIMD
#define CACHEKIT_ENABLE_SIMD 1
#endif

// Default byte budget of a MemoryBackend (keys + values), 64 MiB.
#ifndef CACHEKIT_MEMORY_BACKEND_MAX_BYTES
#define CACHEKIT_MEMORY_BACKEND_MAX_BYTES (64u * 1024u * 1024u)
#endif
