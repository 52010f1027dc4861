// MessagePack encode/decode of a small struct, and interop key derivation.
#include <benchmark/benchmark.h>

#include <cachekit/cachekit.hpp>

namespace bench_msgpack {
struct User {
  std::int64_t id;
  std::string name;
  std::vector<std::string> roles;
};
CACHEKIT_FIELDS(User, id, name, roles)

const User& sample() {
  static const User u{42, "alice", {"admin", "dev"}};
  return u;
}

void BM_MsgpackEncodeStruct(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(cachekit::to_msgpack(sample()));
}
BENCHMARK(BM_MsgpackEncodeStruct);

void BM_MsgpackDecodeStruct(benchmark::State& state) {
  const std::string bytes = cachekit::to_msgpack(sample());
  for (auto _ : state) benchmark::DoNotOptimize(cachekit::from_msgpack<User>(bytes));
}
BENCHMARK(BM_MsgpackDecodeStruct);

void BM_MsgpackDecodeInt(benchmark::State& state) {
  const std::string bytes = cachekit::to_msgpack(std::int64_t{123456789});
  for (auto _ : state) benchmark::DoNotOptimize(cachekit::from_msgpack<std::int64_t>(bytes));
}
BENCHMARK(BM_MsgpackDecodeInt);

void BM_InteropKeyOneInt(benchmark::State& state) {
  std::int64_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(cachekit::interop_key("users", "get_user", ++i));
}
BENCHMARK(BM_InteropKeyOneInt);

void BM_Blake2b256(benchmark::State& state) {
  const std::string data(static_cast<std::size_t>(state.range(0)), 'x');
  std::uint8_t out[32];
  for (auto _ : state) {
    cachekit::blake2b(data.data(), data.size(), out, 32);
    benchmark::DoNotOptimize(out);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Blake2b256)->Arg(16)->Arg(128)->Arg(4096);
}  // namespace bench_msgpack
