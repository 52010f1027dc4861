#pragma once
// codec<T>: how a C++ type maps to MessagePack, for cache values (plain
// profile) and interop key arguments (canonical profile). Specialize codec
// for your own types, or describe a struct with CACHEKIT_FIELDS (fields.hpp).

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "reader.hpp"
#include "types.hpp"
#include "writer.hpp"

CACHEKIT_BEGIN_NAMESPACE

/// Maps T to MessagePack. Specializations provide
///   static void encode(detail::msgpack_writer&, const T&);
///   static Result<T> decode(detail::msgpack_reader&);
/// (encode-only types such as std::string_view omit decode).
template <class T, class Enable = void>
struct codec;

namespace detail {

template <class T>
inline constexpr bool is_char_like_v =
    std::is_same_v<T, char> || std::is_same_v<T, wchar_t> || std::is_same_v<T, char16_t> ||
    std::is_same_v<T, char32_t>
#if defined(__cpp_char8_t)
    || std::is_same_v<T, char8_t>
#endif
    ;

/// Sorts encoded set elements (std::string compares bytes as unsigned char,
/// the order the interop spec asks for) and drops duplicates.
template <class Items>
void sort_unique(Items& items);
/// Sorts the (key, encoded value) entries of a canonical map by key.
template <class Entries>
void sort_by_key(Entries& entries);

/// Encodes [first, last) as an array.
template <class It>
void write_array_range(msgpack_writer& w, It first, It last, std::size_t n) {
  using E = std::remove_cv_t<std::remove_reference_t<decltype(*first)>>;
  w.array_header(n);
  for (; first != last && w.ok(); ++first) codec<E>::encode(w, *first);
}

/// Encodes a set: an array. The canonical profile sorts the elements by
/// their encoded bytes and drops duplicates (after canonicalization, so
/// {2, 2.0} is [2]).
template <class It>
void write_set_range(msgpack_writer& w, It first, It last, std::size_t n) {
  using E = std::remove_cv_t<std::remove_reference_t<decltype(*first)>>;
  if (!w.canonical()) return write_array_range(w, first, last, n);
  std::vector<std::string> items;
  items.reserve(n);
  msgpack_writer sub(w.profile());
  for (; first != last; ++first) {
    sub.clear();
    codec<E>::encode(sub, *first);
    if (!sub.ok()) return w.fail(sub.error());
    items.push_back(sub.bytes());
  }
  sort_unique(items);
  w.array_header(items.size());
  for (const auto& item : items) w.raw(item);
}

/// Encodes [first, last) of key/value pairs as a map. The canonical profile
/// requires string keys and sorts them by Unicode code point (UTF-8 byte order).
template <class It>
void write_map_range(msgpack_writer& w, It first, It last, std::size_t n) {
  using K = std::remove_cv_t<std::remove_reference_t<decltype(first->first)>>;
  using V = std::remove_cv_t<std::remove_reference_t<decltype(first->second)>>;
  if (!w.canonical()) {
    w.map_header(n);
    for (; first != last && w.ok(); ++first) {
      codec<K>::encode(w, first->first);
      codec<V>::encode(w, first->second);
    }
    return;
  }
  std::vector<std::pair<std::string, std::string>> entries;  // key text, encoded value
  entries.reserve(n);
  msgpack_writer sub(w.profile());
  for (; first != last; ++first) {
    sub.clear();
    codec<K>::encode(sub, first->first);
    if (!sub.ok()) return w.fail(sub.error());
    msgpack_reader key_reader(sub.bytes());
    std::string_view key;
    if (!key_reader.read_str(key)) return w.fail("interop map keys must be strings");
    std::string key_text(key);
    sub.clear();
    codec<V>::encode(sub, first->second);
    if (!sub.ok()) return w.fail(sub.error());
    entries.emplace_back(std::move(key_text), sub.bytes());
  }
  sort_by_key(entries);
  for (std::size_t i = 1; i < entries.size(); ++i) {
    if (entries[i - 1].first == entries[i].first) return w.fail("duplicate map key after canonicalization");
  }
  w.map_header(entries.size());
  for (const auto& e : entries) {
    w.str(e.first);
    w.raw(e.second);
  }
}

/// How many elements to reserve for a container whose header announced n:
/// never more bytes than the input has left, so a forged header cannot turn
/// a small input into a large allocation (the container still grows if the
/// elements really are there).
inline std::size_t bounded_reserve(std::size_t n, std::size_t remaining, std::size_t element_size) noexcept {
  const std::size_t by_input = remaining / (element_size == 0 ? 1 : element_size);
  return n < by_input ? n : by_input;
}

/// Decodes an array of codec<E> values into a container via add(E&&).
template <class E, class Add>
Result<void> read_array_into(msgpack_reader& r, std::uint32_t& n, Add&& add, bool header_read = false) {
  if (!header_read && !r.read_array_header(n)) return r.error();
  if (!r.enter()) return r.error();
  for (std::uint32_t i = 0; i < n; ++i) {
    auto e = codec<E>::decode(r);
    if (!e) return std::move(e).error();
    add(std::move(*e));
  }
  r.leave();
  return {};
}

/// Decodes a map of codec<K> -> codec<V> entries via add(K&&, V&&).
template <class K, class V, class Add>
Result<void> read_map_into(msgpack_reader& r, std::uint32_t n, Add&& add) {
  if (!r.enter()) return r.error();
  for (std::uint32_t i = 0; i < n; ++i) {
    auto k = codec<K>::decode(r);
    if (!k) return std::move(k).error();
    auto v = codec<V>::decode(r);
    if (!v) return std::move(v).error();
    add(std::move(*k), std::move(*v));
  }
  r.leave();
  return {};
}

}  // namespace detail

// ---- scalars ---------------------------------------------------------------

/// bool <-> true/false.
template <>
struct codec<bool> {
  static void encode(detail::msgpack_writer& w, bool v) { w.boolean(v); }
  static Result<bool> decode(detail::msgpack_reader& r) {
    bool v = false;
    if (!r.read_bool(v)) return r.error();
    return v;
  }
};

/// Integers of every width <-> the shortest int form; decoding accepts any
/// width and rejects values that do not fit T.
template <class T>
struct codec<T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool> && !detail::is_char_like_v<T>>> {
  static void encode(detail::msgpack_writer& w, T v) {
    if constexpr (std::is_signed_v<T>) {
      w.sint(static_cast<std::int64_t>(v));
    } else {
      w.uint(static_cast<std::uint64_t>(v));
    }
  }
  static Result<T> decode(detail::msgpack_reader& r) {
    T v{};
    if (!r.read_int(v)) return r.error();
    return v;
  }
};

/// Enumerations <-> their underlying integer.
template <class T>
struct codec<T, std::enable_if_t<std::is_enum_v<T>>> {
  using U = std::underlying_type_t<T>;
  static void encode(detail::msgpack_writer& w, T v) { codec<U>::encode(w, static_cast<U>(v)); }
  static Result<T> decode(detail::msgpack_reader& r) {
    U v{};
    if (!r.read_int(v)) return r.error();
    return static_cast<T>(v);
  }
};

/// double <-> float64 (decoding also takes float32 and integers).
template <>
struct codec<double> {
  static void encode(detail::msgpack_writer& w, double v) { w.number(v); }
  static Result<double> decode(detail::msgpack_reader& r) {
    double v = 0;
    if (!r.read_double(v)) return r.error();
    return v;
  }
};

/// float <-> float32 in values (exact); a number in interop keys. Decoding
/// rejects finite values beyond float's range.
template <>
struct codec<float> {
  static void encode(detail::msgpack_writer& w, float v) {
    if (w.canonical()) return w.number(static_cast<double>(v));
    w.float32(v);
  }
  static Result<float> decode(detail::msgpack_reader& r) {
    double v = 0;
    if (!r.read_double(v)) return r.error();
    if (__builtin_isfinite(v) && (v > static_cast<double>(std::numeric_limits<float>::max()) ||
                             v < -static_cast<double>(std::numeric_limits<float>::max()))) {
      r.fail("number does not fit a float");
      return r.error();
    }
    return static_cast<float>(v);
  }
};

/// std::nullptr_t <-> nil.
template <>
struct codec<std::nullptr_t> {
  static void encode(detail::msgpack_writer& w, std::nullptr_t) { w.nil(); }
  static Result<std::nullptr_t> decode(detail::msgpack_reader& r) {
    if (!r.read_nil()) return r.error();
    return nullptr;
  }
};

/// std::string <-> str.
template <>
struct codec<std::string> {
  static void encode(detail::msgpack_writer& w, const std::string& v) { w.str(v); }
  static Result<std::string> decode(detail::msgpack_reader& r) {
    std::string_view v;
    if (!r.read_str(v)) return r.error();
    return std::string(v);
  }
};

/// std::string_view -> str (encode only: a view cannot own decoded bytes).
template <>
struct codec<std::string_view> {
  static void encode(detail::msgpack_writer& w, std::string_view v) { w.str(v); }
};

/// const char* -> str (encode only); nullptr encodes as nil.
template <>
struct codec<const char*> {
  static void encode(detail::msgpack_writer& w, const char* v) {
    if (v == nullptr) return w.nil();
    w.str(std::string_view(v));
  }
};
template <>
struct codec<char*> : codec<const char*> {};

/// char arrays (string literals) -> str, up to the first NUL (encode only).
template <std::size_t N>
struct codec<char[N]> {
  static void encode(detail::msgpack_writer& w, const char (&v)[N]) {
    std::size_t n = 0;
    while (n < N && v[n] != '\0') ++n;
    w.str(std::string_view(v, n));
  }
};

/// cachekit::bytes <-> bin (decoding also takes str).
template <>
struct codec<bytes> {
  static void encode(detail::msgpack_writer& w, const bytes& v) { w.bin(v.data.data(), v.data.size()); }
  static Result<bytes> decode(detail::msgpack_reader& r) {
    std::uint8_t b;
    if (!r.peek(b)) return r.error();
    std::string_view v;
    const bool ok = (b >= 0xc4 && b <= 0xc6) ? r.read_bin(v) : r.read_str(v);
    if (!ok) return r.error();
    return bytes(v);
  }
};

/// cachekit::uuid <-> lowercase hyphenated str (decoding also takes any case
/// and a 16-byte bin).
template <>
struct codec<uuid> {
  static void encode(detail::msgpack_writer& w, const uuid& v) { w.str(v.to_string()); }
  static Result<uuid> decode(detail::msgpack_reader& r) {
    std::uint8_t b;
    if (!r.peek(b)) return r.error();
    std::string_view v;
    if (b >= 0xc4 && b <= 0xc6) {
      if (!r.read_bin(v)) return r.error();
      if (v.size() != 16) {
        r.fail("uuid bin is not 16 bytes");
        return r.error();
      }
      uuid u;
      std::memcpy(u.octets.data(), v.data(), 16);
      return u;
    }
    if (!r.read_str(v)) return r.error();
    auto u = uuid::parse(v);
    if (!u) {
      r.fail("malformed uuid string");
      return r.error();
    }
    return u;
  }
};

/// system_clock time points. Values: the cachekit sentinel map
/// {"__datetime__": true, "value": "<ISO-8601 UTC>"} (microsecond precision),
/// which cachekit-py revives as an aware datetime; decoding also accepts the
/// MessagePack timestamp extension (-1) and plain epoch seconds. Interop keys:
/// float64 epoch seconds (floored to microseconds, then / 10^6), collapsed to
/// an integer when whole.
template <class D>
struct codec<std::chrono::time_point<std::chrono::system_clock, D>> {
  using time_point = std::chrono::time_point<std::chrono::system_clock, D>;

  static void encode(detail::msgpack_writer& w, const time_point& v) {
    const auto tp = std::chrono::time_point_cast<std::chrono::system_clock::duration>(v);
    if (w.canonical()) return w.number(static_cast<double>(detail::epoch_micros(tp)) / 1e6);
    w.map_header(2);
    w.str("__datetime__");
    w.boolean(true);
    w.str("value");
    w.str(detail::format_iso8601_utc(tp));
  }

  static Result<time_point> decode(detail::msgpack_reader& r) {
    std::uint8_t b;
    if (!r.peek(b)) return r.error();
    if ((b >= 0x80 && b <= 0x8f) || b == 0xde || b == 0xdf) return decode_sentinel(r);
    if ((b >= 0xd4 && b <= 0xd8) || (b >= 0xc7 && b <= 0xc9)) return decode_timestamp_ext(r);
    double secs = 0;
    if (!r.read_double(secs)) return r.error();
    std::chrono::system_clock::time_point tp;
    if (!__builtin_isfinite(secs) || secs > 9.2e12 || secs < -9.2e12) return out_of_range(r);
    const auto us = static_cast<std::int64_t>(__builtin_llround(secs * 1e6));
    std::int64_t whole = us / 1000000;
    std::int64_t frac = us % 1000000;
    if (frac < 0) {
      frac += 1000000;
      --whole;
    }
    if (!detail::time_from_epoch(whole, frac * 1000, tp)) return out_of_range(r);
    return std::chrono::time_point_cast<D>(tp);
  }

 private:
  static Error out_of_range(detail::msgpack_reader& r) {
    r.fail("time outside the range of std::chrono::system_clock");
    return r.error();
  }

  static Result<time_point> decode_sentinel(detail::msgpack_reader& r) {
    std::uint32_t n = 0;
    if (!r.read_map_header(n)) return r.error();
    bool marked = false;
    std::string_view text;
    bool have_text = false;
    for (std::uint32_t i = 0; i < n; ++i) {
      std::string_view key;
      if (!r.read_str(key)) return r.error();
      if (key == "__datetime__") {
        if (!r.read_bool(marked)) return r.error();
      } else if (key == "value") {
        if (!r.read_str(text)) return r.error();
        have_text = true;
      } else if (!r.skip()) {
        return r.error();
      }
    }
    if (!marked || !have_text) {
      r.fail("not a {\"__datetime__\": true, \"value\": ...} map");
      return r.error();
    }
    auto tp = detail::parse_iso8601(text);
    if (!tp) {
      r.fail("malformed ISO-8601 datetime");
      return r.error();
    }
    return std::chrono::time_point_cast<D>(*tp);
  }

  // MessagePack timestamp extension: 32-bit seconds, 30+34-bit nanos+seconds, or 32-bit nanos + 64-bit seconds.
  static Result<time_point> decode_timestamp_ext(detail::msgpack_reader& r) {
    std::int8_t type = 0;
    std::string_view data;
    if (!r.read_ext(type, data)) return r.error();
    if (type != -1) {
      r.fail("unexpected extension type for a time point");
      return r.error();
    }
    auto be = [&](std::size_t from, std::size_t n) {
      std::uint64_t v = 0;
      for (std::size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<std::uint8_t>(data[from + i]);
      return v;
    };
    std::int64_t secs = 0;
    std::uint32_t nanos = 0;
    if (data.size() == 4) {
      secs = static_cast<std::int64_t>(be(0, 4));
    } else if (data.size() == 8) {
      const std::uint64_t v = be(0, 8);
      nanos = static_cast<std::uint32_t>(v >> 34);
      secs = static_cast<std::int64_t>(v & 0x3ffffffffULL);
    } else if (data.size() == 12) {
      nanos = static_cast<std::uint32_t>(be(0, 4));
      secs = static_cast<std::int64_t>(be(4, 8));
    } else {
      r.fail("bad timestamp extension length");
      return r.error();
    }
    std::chrono::system_clock::time_point tp;
    if (nanos >= 1000000000u || !detail::time_from_epoch(secs, nanos, tp)) return out_of_range(r);
    return std::chrono::time_point_cast<D>(tp);
  }
};

// ---- containers ------------------------------------------------------------

/// std::optional<T> <-> nil or T.
template <class T>
struct codec<std::optional<T>> {
  static void encode(detail::msgpack_writer& w, const std::optional<T>& v) {
    if (!v) return w.nil();
    codec<T>::encode(w, *v);
  }
  static Result<std::optional<T>> decode(detail::msgpack_reader& r) {
    if (r.try_nil()) return std::optional<T>();
    auto v = codec<T>::decode(r);
    if (!v) return std::move(v).error();
    return std::optional<T>(std::move(*v));
  }
};

/// std::vector<T> <-> array.
template <class T, class A>
struct codec<std::vector<T, A>> {
  static void encode(detail::msgpack_writer& w, const std::vector<T, A>& v) {
    detail::write_array_range(w, v.begin(), v.end(), v.size());
  }
  static Result<std::vector<T, A>> decode(detail::msgpack_reader& r) {
    std::uint32_t n = 0;
    if (!r.read_array_header(n)) return r.error();
    std::vector<T, A> out;
    out.reserve(detail::bounded_reserve(n, r.remaining(), sizeof(T)));
    auto res = detail::read_array_into<T>(r, n, [&](T&& e) { out.push_back(std::move(e)); }, true);
    if (!res) return std::move(res).error();
    return out;
  }
};

/// std::array<T, N> <-> array of exactly N elements.
template <class T, std::size_t N>
struct codec<std::array<T, N>> {
  static void encode(detail::msgpack_writer& w, const std::array<T, N>& v) {
    detail::write_array_range(w, v.begin(), v.end(), N);
  }
  static Result<std::array<T, N>> decode(detail::msgpack_reader& r) {
    std::uint32_t n = 0;
    if (!r.read_array_header(n)) return r.error();
    if (n != N) {
      r.fail("array length does not match std::array");
      return r.error();
    }
    std::array<T, N> out{};
    std::size_t i = 0;
    auto res = detail::read_array_into<T>(r, n, [&](T&& e) { out[i++] = std::move(e); }, true);
    if (!res) return std::move(res).error();
    return out;
  }
};

namespace detail {
// Containers are recognised by what they offer, not by name, so that this
// header needs none of <map>, <set>, <unordered_map> and <unordered_set>.
template <class T, class = void>
struct is_map_like : std::false_type {};
/// std::map, std::unordered_map and alike: key_type, mapped_type, insert_or_assign.
template <class T>
struct is_map_like<T, std::void_t<typename T::key_type, typename T::mapped_type,
                                  decltype(std::declval<T&>().insert_or_assign(
                                      std::declval<typename T::key_type>(), std::declval<typename T::mapped_type>()))>>
    : std::true_type {};
template <class T, class = void>
struct is_set_like : std::false_type {};
/// std::set, std::unordered_set and alike: key_type that is the value_type, insert.
template <class T>
struct is_set_like<T, std::void_t<typename T::key_type, decltype(std::declval<T&>().insert(
                                                            std::declval<typename T::value_type>()))>>
    : std::is_same<typename T::key_type, typename T::value_type> {};
template <class T, class = void>
struct has_reserve : std::false_type {};
template <class T>
struct has_reserve<T, std::void_t<decltype(std::declval<T&>().reserve(std::size_t{}))>> : std::true_type {};
}  // namespace detail

/// Sets (std::set, std::unordered_set) <-> array (sorted by encoded bytes in
/// interop keys).
template <class S>
struct codec<S, std::enable_if_t<detail::is_set_like<S>::value && !detail::is_map_like<S>::value>> {
  using T = typename S::value_type;
  static void encode(detail::msgpack_writer& w, const S& v) { detail::write_set_range(w, v.begin(), v.end(), v.size()); }
  static Result<S> decode(detail::msgpack_reader& r) {
    std::uint32_t n = 0;
    S out;
    auto res = detail::read_array_into<T>(r, n, [&](T&& e) { out.insert(std::move(e)); });
    if (!res) return std::move(res).error();
    return out;
  }
};

/// Maps (std::map, std::unordered_map) <-> map (a repeated key keeps the
/// last value).
template <class M>
struct codec<M, std::enable_if_t<detail::is_map_like<M>::value>> {
  using K = typename M::key_type;
  using V = typename M::mapped_type;
  static void encode(detail::msgpack_writer& w, const M& v) { detail::write_map_range(w, v.begin(), v.end(), v.size()); }
  static Result<M> decode(detail::msgpack_reader& r) {
    std::uint32_t n = 0;
    if (!r.read_map_header(n)) return r.error();
    M out;
    if constexpr (detail::has_reserve<M>::value) {
      out.reserve(detail::bounded_reserve(n, r.remaining(), 2 * sizeof(void*) + sizeof(K) + sizeof(V)));
    }
    auto res = detail::read_map_into<K, V>(r, n, [&](K&& k, V&& v) { out.insert_or_assign(std::move(k), std::move(v)); });
    if (!res) return std::move(res).error();
    return out;
  }
};

/// std::tuple <-> array of exactly its size.
template <class... Ts>
struct codec<std::tuple<Ts...>> {
  static void encode(detail::msgpack_writer& w, const std::tuple<Ts...>& v) {
    w.array_header(sizeof...(Ts));
    std::apply([&w](const auto&... e) { (codec<std::decay_t<decltype(e)>>::encode(w, e), ...); }, v);
  }
  static Result<std::tuple<Ts...>> decode(detail::msgpack_reader& r) {
    std::uint32_t n = 0;
    if (!r.read_array_header(n)) return r.error();
    if (n != sizeof...(Ts)) {
      r.fail("array length does not match the tuple");
      return r.error();
    }
    if (!r.enter()) return r.error();
    std::tuple<Ts...> out;
    std::optional<Error> err;
    std::apply([&](auto&... e) { (decode_one(r, e, err), ...); }, out);
    if (err) return std::move(*err);
    r.leave();
    return out;
  }

 private:
  template <class E>
  static void decode_one(detail::msgpack_reader& r, E& slot, std::optional<Error>& err) {
    if (err) return;
    auto v = codec<E>::decode(r);
    if (!v) {
      err = std::move(v).error();
      return;
    }
    slot = std::move(*v);
  }
};

/// std::pair <-> two-element array.
template <class A, class B>
struct codec<std::pair<A, B>> {
  static void encode(detail::msgpack_writer& w, const std::pair<A, B>& v) {
    w.array_header(2);
    codec<A>::encode(w, v.first);
    codec<B>::encode(w, v.second);
  }
  static Result<std::pair<A, B>> decode(detail::msgpack_reader& r) {
    auto t = codec<std::tuple<A, B>>::decode(r);
    if (!t) return std::move(t).error();
    return std::pair<A, B>(std::move(std::get<0>(*t)), std::move(std::get<1>(*t)));
  }
};

// ---- entry points ----------------------------------------------------------

/// Encodes value as plain MessagePack, or an Error (a container over 2^32-1 items).
template <class T>
Result<std::string> try_to_msgpack(const T& value) {
  detail::msgpack_writer w;
  codec<T>::encode(w, value);
  if (!w.ok()) return w.error();
  return std::move(w).take();
}

/// Encodes value as plain MessagePack (no envelope; what interop values
/// store). Returns an empty string, never valid MessagePack, in the one case
/// that cannot be encoded (a container over 2^32-1 items).
template <class T>
std::string to_msgpack(const T& value) {
  detail::msgpack_writer w;
  codec<T>::encode(w, value);
  if (!w.ok()) return std::string();
  return std::move(w).take();
}

/// Decodes exactly one MessagePack document as T; malformed input, a type
/// mismatch or trailing bytes give a permanent Error.
template <class T>
Result<T> from_msgpack(std::string_view bytes) {
  detail::msgpack_reader r(bytes);
  auto v = codec<T>::decode(r);
  if (!v) return v;
  if (!r.at_end()) {
    // A cachekit-py auto-mode frame starts "CK": its first byte alone is the fixint 67.
    if (bytes.size() >= 2 && bytes[0] == 'C' && bytes[1] == 'K') {
      return Error(ErrorKind::permanent,
                   "msgpack: trailing bytes after the document (looks like a Python-SDK-internal "
                   "auto-mode entry, not an interop value)");
    }
    r.fail("trailing bytes after the document");
    return r.error();
  }
  return v;
}

CACHEKIT_END_NAMESPACE

#ifndef CACHEKIT_DETAIL_VIEW  // definitions: not in the declarations view (config.hpp)
#include <algorithm>

CACHEKIT_BEGIN_NAMESPACE
namespace detail {
template <class Items>
void sort_unique(Items& items) {
  std::sort(items.begin(), items.end());
  items.erase(std::unique(items.begin(), items.end()), items.end());
}
template <class Entries>
void sort_by_key(Entries& entries) {
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
}
}  // namespace detail
CACHEKIT_END_NAMESPACE
#endif  // CACHEKIT_DETAIL_VIEW

CACHEKIT_BEGIN_NAMESPACE
namespace detail {
CACHEKIT_COMPILE_ONCE(void sort_unique(std::vector<std::string>&))  // see config.hpp
CACHEKIT_COMPILE_ONCE(void sort_by_key(std::vector<std::pair<std::string, std::string>>&))
CACHEKIT_COMPILE_ONCE(void sort_by_key(std::vector<std::pair<std::string_view, std::string>>&))
}  // namespace detail
CACHEKIT_END_NAMESPACE
