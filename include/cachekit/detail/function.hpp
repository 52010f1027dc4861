#pragma once
// std::function without the rest of <functional>. In C++17 <functional> also
// declares the searchers, and libstdc++ brings <unordered_map>, <array> and
// its algorithms with them: about 0.13 s of GCC's time in every translation
// unit, for one class template. libstdc++ declares std::function in
// <bits/std_function.h> (which its <future> includes alone as well); other
// standard libraries get <functional>.

#include <cstddef>  // defines __GLIBCXX__ when the library is libstdc++

#if defined(__GLIBCXX__) && defined(__has_include)
#if __has_include(<bits/std_function.h>)
#include <bits/std_function.h>
#define CACHEKIT_DETAIL_HAVE_STD_FUNCTION_H 1
#endif
#endif
#ifndef CACHEKIT_DETAIL_HAVE_STD_FUNCTION_H
#include <functional>
#endif
