// MessagePack decoder: arbitrary bytes decoded as several types; whatever
// decodes must re-encode and decode to the same bytes (round trip), and
// skip() must walk any input without crashing.
#include <cachekit/cachekit.hpp>

#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace fuzz_msgpack {
struct Record {
  std::int64_t id = 0;
  std::string name;
  std::vector<std::string> roles;
  std::optional<double> score;
  cachekit::bytes blob;
};
CACHEKIT_FIELDS(Record, id, name, roles, score, blob)
}  // namespace fuzz_msgpack
using fuzz_msgpack::Record;

namespace {
template <class T>
void round_trip(std::string_view input) {
  auto first = cachekit::from_msgpack<T>(input);
  if (!first) return;
  const std::string encoded = cachekit::to_msgpack(first.value());
  auto second = cachekit::from_msgpack<T>(encoded);
  if (!second) std::abort();  // what we wrote we must read back
  if (cachekit::to_msgpack(second.value()) != encoded) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  cachekit::detail::msgpack_reader reader(input);
  while (!reader.at_end() && reader.skip()) {
  }
  round_trip<std::int64_t>(input);
  round_trip<std::uint64_t>(input);
  round_trip<double>(input);
  round_trip<std::string>(input);
  round_trip<cachekit::bytes>(input);
  round_trip<std::vector<std::int32_t>>(input);
  round_trip<std::map<std::string, std::vector<std::optional<std::int64_t>>>>(input);
  round_trip<std::set<std::string>>(input);
  round_trip<std::tuple<bool, double, std::string>>(input);
  round_trip<std::chrono::system_clock::time_point>(input);
  round_trip<Record>(input);
  round_trip<std::vector<Record>>(input);
  return 0;
}
