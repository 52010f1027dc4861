# Configures cachekit as a user would on a machine without doctest and
# Google Benchmark (both hidden from the find_* calls), and checks:
#  - as a subproject (add_subdirectory) it configures with no option;
#  - top-level with -DCACHEKIT_BUILD_TESTS=OFF it configures;
#  - top-level with tests on it stops with a message naming the option;
#  - with -DCACHEKIT_BUILD_BENCH=ON it stops with a message naming that one;
#  - with -DCACHEKIT_WITH_OPENSSL=ON and no OpenSSL, likewise.
# usage: cmake -DSRC=<cachekit> -DWORK=<scratch dir> -DCXX=<compiler> [-DGEN=<generator> -DMAKE=<its program>]
#              -P cmake_no_deps.cmake
# No package configs for the two, and no system directory searched by
# find_path (where a bare doctest.h would be found).
set(_hide -DCMAKE_DISABLE_FIND_PACKAGE_doctest=ON -DCMAKE_DISABLE_FIND_PACKAGE_benchmark=ON
          -DCMAKE_FIND_USE_CMAKE_SYSTEM_PATH=OFF -DCMAKE_FIND_USE_SYSTEM_ENVIRONMENT_PATH=OFF)
# The compiler and build program are named, since system paths are not searched.
set(_gen -DCMAKE_CXX_COMPILER=${CXX})
if(GEN)
  list(APPEND _gen -G "${GEN}")
endif()
if(MAKE)
  list(APPEND _gen -DCMAKE_MAKE_PROGRAM=${MAKE})
endif()
file(REMOVE_RECURSE "${WORK}")

function(configure name expect_ok)
  execute_process(COMMAND ${CMAKE_COMMAND} ${_gen} ${ARGN} ${_hide} -B "${WORK}/${name}"
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(expect_ok AND NOT rc EQUAL 0)
    message(FATAL_ERROR "${name}: configure failed:\n${out}\n${err}")
  endif()
  if(NOT expect_ok AND rc EQUAL 0)
    message(FATAL_ERROR "${name}: configure succeeded without the dependency")
  endif()
  set(last_output "${out}\n${err}" PARENT_SCOPE)
endfunction()

configure(subproject TRUE -S "${SRC}/tests/cmake_add_subdirectory" -DCACHEKIT_SOURCE=${SRC})
configure(tests_off TRUE -S "${SRC}" -DCACHEKIT_BUILD_TESTS=OFF)

configure(tests_on FALSE -S "${SRC}")
string(FIND "${last_output}" "doctest not found" _a)
string(FIND "${last_output}" "-DCACHEKIT_BUILD_TESTS=OFF" _b)
if(_a LESS 0 OR _b LESS 0)
  message(FATAL_ERROR "tests_on: the message does not name doctest and the option:\n${last_output}")
endif()

configure(bench_on FALSE -S "${SRC}" -DCACHEKIT_BUILD_TESTS=OFF -DCACHEKIT_BUILD_BENCH=ON)
string(FIND "${last_output}" "Google Benchmark not found" _a)
string(FIND "${last_output}" "-DCACHEKIT_BUILD_BENCH=OFF" _b)
if(_a LESS 0 OR _b LESS 0)
  message(FATAL_ERROR "bench_on: the message does not name Google Benchmark and the option:\n${last_output}")
endif()
# TLS asked for without OpenSSL: the message names the package and the option.
configure(openssl_on FALSE -S "${SRC}" -DCACHEKIT_BUILD_TESTS=OFF -DCACHEKIT_WITH_OPENSSL=ON
          -DCMAKE_DISABLE_FIND_PACKAGE_OpenSSL=ON)
string(FIND "${last_output}" "OpenSSL 3 not found" _a)
string(FIND "${last_output}" "-DCACHEKIT_WITH_OPENSSL=OFF" _b)
if(_a LESS 0 OR _b LESS 0)
  message(FATAL_ERROR "openssl_on: the message does not name OpenSSL and the option:\n${last_output}")
endif()
message(STATUS "cachekit configures without doctest, Google Benchmark and OpenSSL; the messages name the options")
