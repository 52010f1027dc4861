#pragma once
// CACHEKIT_FIELDS(Type, field...): encodes a struct as a MessagePack map of
// field name -> value, so a Python reader gets a dict and other SDKs can
// read it by name.
//
//   struct User { std::int64_t id; std::string name; std::vector<std::string> roles; };
//   CACHEKIT_FIELDS(User, id, name, roles)
//
// Write it at namespace scope (the namespace of Type or any enclosing one
// found by argument-dependent lookup), after the struct, before the first
// encode or decode. Up to 64 public data members.
//
// Encoding writes the fields in the order listed (values) or sorted by name
// (interop keys, canonical profile). Decoding is by name: fields may come in
// any order; unknown fields are skipped (a newer writer may have added some);
// a missing field is an error unless its type is std::optional (then it is
// nullopt), so an entry written by an older schema reads as a miss rather
// than as silently defaulted data; a field that appears twice is an error.

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "codec.hpp"

CACHEKIT_BEGIN_NAMESPACE

namespace detail {

/// Tag whose associated namespaces include T's, so the CACHEKIT_FIELDS
/// function is found by argument-dependent lookup.
template <class T>
struct fields_tag {};

/// One described data member: its name and pointer.
template <class C, class M>
struct field_ref {
  using member_type = M;
  std::string_view name;
  M C::*member;
};

template <class C, class M>
constexpr field_ref<C, M> make_field(std::string_view name, M C::*member) noexcept {
  return field_ref<C, M>{name, member};
}

// Found by ordinary lookup so the unqualified call below is well-formed;
// deleted, so only a CACHEKIT_FIELDS overload can satisfy has_fields.
void cachekit_fields_of(...) = delete;

template <class T, class = void>
struct has_fields : std::false_type {};
template <class T>
struct has_fields<T, std::void_t<decltype(cachekit_fields_of(fields_tag<T>{}))>> : std::true_type {};

template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};

}  // namespace detail

/// Structs described with CACHEKIT_FIELDS <-> map of field name -> value.
template <class T>
struct codec<T, std::enable_if_t<detail::has_fields<T>::value>> {
  static auto fields() { return cachekit_fields_of(detail::fields_tag<T>{}); }
  using fields_t = decltype(cachekit_fields_of(detail::fields_tag<T>{}));
  static constexpr std::size_t field_count = std::tuple_size_v<fields_t>;

  static void encode(detail::msgpack_writer& w, const T& v) {
    const auto fs = fields();
    if (!w.canonical()) {
      w.map_header(field_count);
      std::apply([&](const auto&... f) { (encode_field(w, v, f), ...); }, fs);
      return;
    }
    // Interop keys: fields sorted by name (code point order), like any map.
    std::vector<std::pair<std::string_view, std::string>> entries;
    entries.reserve(field_count);
    detail::msgpack_writer sub(w.profile());
    bool ok = true;
    auto collect = [&](const auto& f) {
      if (!ok) return;
      sub.clear();
      using M = typename std::decay_t<decltype(f)>::member_type;
      codec<M>::encode(sub, v.*(f.member));
      if (!sub.ok()) {
        ok = false;
        return w.fail(sub.error());
      }
      entries.emplace_back(f.name, sub.bytes());
    };
    std::apply([&](const auto&... f) { (collect(f), ...); }, fs);
    if (!ok) return;
    detail::sort_by_key(entries);
    w.map_header(entries.size());
    for (const auto& e : entries) {
      w.str(e.first);
      w.raw(e.second);
    }
  }

  static Result<T> decode(detail::msgpack_reader& r) {
    std::uint32_t n = 0;
    if (!r.read_map_header(n)) return r.error();
    if (!r.enter()) return r.error();
    T out{};
    std::array<bool, field_count> seen{};
    const auto fs = fields();
    std::optional<Error> err;
    for (std::uint32_t i = 0; i < n; ++i) {
      std::uint8_t b;
      if (!r.peek(b)) return r.error();
      const bool str_key = (b >= 0xa0 && b <= 0xbf) || (b >= 0xd9 && b <= 0xdb);
      if (!str_key) {  // not a field name: skip the entry
        if (!r.skip() || !r.skip()) return r.error();
        continue;
      }
      std::string_view key;
      if (!r.read_str(key)) return r.error();
      bool matched = false;
      match(fs, key, out, seen, r, matched, err, std::make_index_sequence<field_count>{});
      if (err) return std::move(*err);
      if (!matched && !r.skip()) return r.error();
    }
    std::string_view missing;
    find_missing(fs, seen, missing, std::make_index_sequence<field_count>{});
    if (!missing.empty()) {
      return Error(ErrorKind::permanent, "msgpack: missing field '" + std::string(missing) + "'");
    }
    r.leave();
    return out;
  }

 private:
  template <class F>
  static void encode_field(detail::msgpack_writer& w, const T& v, const F& f) {
    w.str(f.name);
    codec<typename F::member_type>::encode(w, v.*(f.member));
  }

  template <class F>
  static void decode_field(const F& f, T& out, bool& seen, detail::msgpack_reader& r, std::optional<Error>& err) {
    if (seen) {
      err = Error(ErrorKind::permanent, "msgpack: field '" + std::string(f.name) + "' appears twice");
      return;
    }
    seen = true;
    auto v = codec<typename F::member_type>::decode(r);
    if (!v) {
      err = std::move(v).error();
      return;
    }
    out.*(f.member) = std::move(*v);
  }

  template <std::size_t... Is>
  static void match(const fields_t& fs, std::string_view key, T& out, std::array<bool, field_count>& seen,
                    detail::msgpack_reader& r, bool& matched, std::optional<Error>& err, std::index_sequence<Is...>) {
    ((!matched && std::get<Is>(fs).name == key
          ? (void)(matched = true, decode_field(std::get<Is>(fs), out, seen[Is], r, err))
          : (void)0),
     ...);
  }

  template <std::size_t... Is>
  static void find_missing(const fields_t& fs, const std::array<bool, field_count>& seen, std::string_view& missing,
                           std::index_sequence<Is...>) {
    ((missing.empty() && !seen[Is] &&
              !detail::is_optional<typename std::tuple_element_t<Is, fields_t>::member_type>::value
          ? (void)(missing = std::get<Is>(fs).name)
          : (void)0),
     ...);
  }
};

CACHEKIT_END_NAMESPACE

// ---- the macro ---------------------------------------------------------------

#define CACHEKIT_DETAIL_EXPAND(x) x
#define CACHEKIT_DETAIL_CAT(a, b) CACHEKIT_DETAIL_CAT_(a, b)
#define CACHEKIT_DETAIL_CAT_(a, b) a##b
#define CACHEKIT_DETAIL_FIELD(T, x) ::cachekit::detail::make_field(#x, &T::x)
#define CACHEKIT_DETAIL_NARG(...) CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_NARG_(__VA_ARGS__, 64, 63, 62, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45, 44, 43, 42, 41, 40, 39, 38, 37, 36, 35, 34, 33, 32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, _))
#define CACHEKIT_DETAIL_NARG_(_1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _13, _14, _15, _16, _17, _18, _19, _20, _21, _22, _23, _24, _25, _26, _27, _28, _29, _30, _31, _32, _33, _34, _35, _36, _37, _38, _39, _40, _41, _42, _43, _44, _45, _46, _47, _48, _49, _50, _51, _52, _53, _54, _55, _56, _57, _58, _59, _60, _61, _62, _63, _64, N, ...) N
#define CACHEKIT_DETAIL_FE_1(M, T, x) M(T, x)
#define CACHEKIT_DETAIL_FE_2(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_1(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_3(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_2(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_4(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_3(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_5(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_4(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_6(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_5(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_7(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_6(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_8(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_7(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_9(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_8(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_10(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_9(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_11(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_10(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_12(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_11(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_13(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_12(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_14(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_13(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_15(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_14(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_16(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_15(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_17(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_16(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_18(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_17(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_19(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_18(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_20(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_19(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_21(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_20(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_22(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_21(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_23(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_22(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_24(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_23(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_25(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_24(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_26(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_25(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_27(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_26(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_28(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_27(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_29(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_28(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_30(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_29(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_31(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_30(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_32(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_31(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_33(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_32(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_34(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_33(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_35(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_34(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_36(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_35(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_37(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_36(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_38(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_37(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_39(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_38(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_40(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_39(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_41(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_40(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_42(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_41(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_43(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_42(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_44(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_43(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_45(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_44(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_46(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_45(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_47(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_46(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_48(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_47(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_49(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_48(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_50(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_49(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_51(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_50(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_52(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_51(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_53(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_52(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_54(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_53(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_55(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_54(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_56(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_55(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_57(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_56(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_58(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_57(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_59(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_58(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_60(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_59(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_61(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_60(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_62(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_61(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_63(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_62(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_64(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_63(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FOREACH(M, T, ...) \
  CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_CAT(CACHEKIT_DETAIL_FE_, CACHEKIT_DETAIL_NARG(__VA_ARGS__))(M, T, __VA_ARGS__))

/// Describes the data members of Type (1 to 64 of them) so that codec<Type>
/// encodes it as a map of field name -> value. Use at namespace scope.
#define CACHEKIT_FIELDS(Type, ...)                                                                   \
  [[maybe_unused]] inline auto cachekit_fields_of(::cachekit::detail::fields_tag<Type>) noexcept {  \
    return ::std::make_tuple(CACHEKIT_DETAIL_FOREACH(CACHEKIT_DETAIL_FIELD, Type, __VA_ARGS__));     \
  }

/// Like CACHEKIT_FIELDS, but written inside the class body (as a hidden
/// friend), so private members can be listed.
#define CACHEKIT_FIELDS_FRIEND(Type, ...)                                                        \
  friend auto cachekit_fields_of(::cachekit::detail::fields_tag<Type>) noexcept {                \
    return ::std::make_tuple(CACHEKIT_DETAIL_FOREACH(CACHEKIT_DETAIL_FIELD, Type, __VA_ARGS__)); \
  }
