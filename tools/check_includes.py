#!/usr/bin/env python3
"""Fail if the generated single header includes anything but the C++
standard library, POSIX/libc headers and compiler intrinsic headers;
OpenSSL's headers (<openssl/...>) only inside #ifdef CACHEKIT_OPENSSL; a
standard library's own header (<bits/std_function.h>) only inside a
conditional."""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEADER = os.path.join(ROOT, "single_include", "cachekit", "cachekit.hpp")

CXX_STD = set("""
algorithm any array atomic bitset cassert cctype cerrno cfloat charconv chrono cinttypes climits
cmath condition_variable cstddef cstdint cstdio cstdlib cstring ctime deque exception functional
initializer_list iomanip ios iosfwd iostream istream iterator limits list map memory mutex new
numeric optional ostream queue random ratio set shared_mutex sstream stdexcept string string_view
system_error thread tuple type_traits typeinfo unordered_map unordered_set utility variant vector
""".split())
POSIX = set("""
arpa/inet.h errno.h fcntl.h netdb.h netinet/in.h netinet/tcp.h poll.h pthread.h signal.h
sys/mman.h sys/socket.h sys/time.h sys/types.h sys/uio.h sys/un.h time.h unistd.h
""".split())
INTRINSICS = set("cpuid.h".split())
ALLOWED = CXX_STD | POSIX | INTRINSICS
# Headers of one standard library's implementation, included only inside a
# conditional that checks for them (detail/function.hpp: libstdc++'s
# std::function alone, <functional> otherwise).
IMPLEMENTATION = set("bits/std_function.h".split())

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
OPENS = re.compile(r'^\s*#\s*(if|ifdef|ifndef)\b(.*)')
ENDIF = re.compile(r'^\s*#\s*endif\b')
ELSE = re.compile(r'^\s*#\s*(else|elif)\b')


def main():
    bad = []
    # One entry per open conditional: whether it is `#ifdef CACHEKIT_OPENSSL`
    # (its #else branch is not).
    stack = []
    with open(HEADER, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            o = OPENS.match(line)
            if o:
                stack.append(o.group(1) == "ifdef" and o.group(2).strip() == "CACHEKIT_OPENSSL")
                continue
            if ENDIF.match(line):
                if stack:
                    stack.pop()
                continue
            if ELSE.match(line):
                if stack:
                    stack[-1] = False
                continue
            m = INCLUDE.match(line)
            if not m:
                continue
            kind, name = m.groups()
            tls_ok = kind == "<" and name.startswith("openssl/") and any(stack)
            impl_ok = kind == "<" and name in IMPLEMENTATION and len(stack) > 0
            if kind == '"' or (name not in ALLOWED and not tls_ok and not impl_ok):
                bad.append(f"{os.path.relpath(HEADER, ROOT)}:{n}: #include {kind}{name}")
    if bad:
        print("check_includes: includes outside the C++ standard library and POSIX "
              "(and <openssl/...> outside #ifdef CACHEKIT_OPENSSL):", file=sys.stderr)
        for b in bad:
            print("  " + b, file=sys.stderr)
        return 1
    print("check_includes: only standard and POSIX headers (OpenSSL's under CACHEKIT_OPENSSL)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
