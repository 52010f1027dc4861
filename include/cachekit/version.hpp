#pragma once
// Version of cachekit. CMake and meson read these three macros.

#define CACHEKIT_VERSION_MAJOR 0
#define CACHEKIT_VERSION_MINOR 1
#define CACHEKIT_VERSION_PATCH 0
#define CACHEKIT_VERSION_STRING "0.1.0"

// The inline ABI namespace carries the version so that two copies of
// different versions linked into one program never share symbols.
#define CACHEKIT_ABI_NAMESPACE v0_1_0
#define CACHEKIT_BEGIN_NAMESPACE \
  namespace cachekit {           \
  inline namespace CACHEKIT_ABI_NAMESPACE {
#define CACHEKIT_END_NAMESPACE \
  }                            \
  }
