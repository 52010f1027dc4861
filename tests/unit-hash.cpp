// MD5 and murmur3_32 against published vectors and committed reference
// vectors (tests/data/hash-vectors.txt, made by tools/gen-routing-vectors.py).
#include <doctest/doctest.h>

#include <cachekit/cachekit.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

std::string unhex(const std::string& h) {
  std::string out;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2) out += static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16));
  return out;
}

std::string hex32(std::uint32_t v) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", v);
  return buf;
}

}  // namespace

TEST_CASE("hash: MD5 RFC 1321 test suite") {
  // RFC 1321, appendix A.5.
  CHECK(cachekit::hash::md5_hex("") == "d41d8cd98f00b204e9800998ecf8427e");
  CHECK(cachekit::hash::md5_hex("a") == "0cc175b9c0f1b6a831c399e269772661");
  CHECK(cachekit::hash::md5_hex("abc") == "900150983cd24fb0d6963f7d28e17f72");
  CHECK(cachekit::hash::md5_hex("message digest") == "f96b697d7cb7938d525a2f31aaf161d0");
  CHECK(cachekit::hash::md5_hex("abcdefghijklmnopqrstuvwxyz") == "c3fcd3d76192e4007dfb496cca67e13b");
  CHECK(cachekit::hash::md5_hex("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") ==
        "d174ab98d277d9f5a5611c2c9f419d9f");
  CHECK(cachekit::hash::md5_hex(
            "12345678901234567890123456789012345678901234567890123456789012345678901234567890") ==
        "57edf4a22be3c955ac49da2e2107b67a");
  CHECK(cachekit::hash::md5_le32("abc") == 0x98500190u);
}

TEST_CASE("hash: murmur3_32 known vectors") {
  using cachekit::hash::murmur3_32;
  // Widely published MurmurHash3_x86_32 vectors.
  CHECK(murmur3_32("", 0) == 0u);
  CHECK(murmur3_32("", 1) == 0x514e28b7u);
  CHECK(murmur3_32("", 0xffffffffu) == 0x81f16f39u);
  CHECK(murmur3_32(std::string_view("\0\0\0\0", 4), 0) == 0x2362f9deu);
  CHECK(murmur3_32("aaaa", 0x9747b28cu) == 0x5a97808au);
  CHECK(murmur3_32("aaa", 0x9747b28cu) == 0x283e0130u);
  CHECK(murmur3_32("aa", 0x9747b28cu) == 0x5d211726u);
  CHECK(murmur3_32("a", 0x9747b28cu) == 0x7fa09ea6u);
  CHECK(murmur3_32("abcd", 0x9747b28cu) == 0xf0478627u);
  CHECK(murmur3_32("Hello, world!", 0x9747b28cu) == 0x24884cbau);
  CHECK(murmur3_32("The quick brown fox jumps over the lazy dog", 0x9747b28cu) == 0x2fa826cdu);
}

TEST_CASE("hash: incremental murmur3 equals one-shot for every split") {
  const std::string data = "host-1.example.com:11211-some/key:with\xc3\xa9";
  for (std::size_t a = 0; a <= data.size(); ++a) {
    for (std::size_t b = a; b <= data.size(); b += 3) {
      cachekit::detail::Murmur3 m(42);
      const auto* p = reinterpret_cast<const unsigned char*>(data.data());
      m.update(p, a);
      m.update(p + a, b - a);
      m.update(p + b, data.size() - b);
      CHECK(m.finish() == cachekit::hash::murmur3_32(data, 42));
    }
  }
}

TEST_CASE("hash: MD5 and murmur3 against reference vectors for every length 0..300") {
  std::ifstream in(CACHEKIT_SOURCE_DIR "/tests/data/hash-vectors.txt");
  REQUIRE_MESSAGE(in.good(), "missing tests/data/hash-vectors.txt (tools/gen-routing-vectors.py)");
  std::string line;
  int md5_count = 0, murmur_count = 0;
  std::vector<std::string> md5_inputs;
  std::vector<std::uint32_t> md5_words;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ls(line);
    std::string kind;
    ls >> kind;
    if (kind == "md5") {
      std::string input_hex, digest;
      ls >> input_hex >> digest;
      if (input_hex == "-") input_hex.clear();
      const std::string input = unhex(input_hex);
      CHECK_MESSAGE(cachekit::hash::md5_hex(input) == digest, "length ", input.size());
      md5_inputs.push_back(input);
      md5_words.push_back(static_cast<std::uint32_t>(std::stoul(digest.substr(0, 2), nullptr, 16)) |
                          static_cast<std::uint32_t>(std::stoul(digest.substr(2, 2), nullptr, 16)) << 8 |
                          static_cast<std::uint32_t>(std::stoul(digest.substr(4, 2), nullptr, 16)) << 16 |
                          static_cast<std::uint32_t>(std::stoul(digest.substr(6, 2), nullptr, 16)) << 24);
      ++md5_count;
    } else if (kind == "murmur3") {
      std::string seed, input_hex, expect;
      ls >> seed >> input_hex >> expect;
      if (input_hex == "-") input_hex.clear();
      CHECK(hex32(cachekit::hash::murmur3_32(unhex(input_hex), static_cast<std::uint32_t>(std::stoul(seed)))) ==
            expect);
      ++murmur_count;
    }
  }
  CHECK(md5_count >= 301);
  CHECK(murmur_count >= 301);

  // Every multi-lane path gives the same key hashes.
  using cachekit::detail::Md5Path;
  std::vector<std::string_view> views(md5_inputs.begin(), md5_inputs.end());
  for (auto path : {Md5Path::scalar, Md5Path::avx2, Md5Path::avx512}) {
    if (!cachekit::detail::md5_path_supported(path)) continue;
    std::vector<std::uint32_t> out(views.size());
    cachekit::detail::md5_le32_batch(views.data(), views.size(), out.data(), path);
    CHECK(out == md5_words);
  }
}

TEST_CASE("hash: md5_digest_batch equals md5 on every path") {
  using cachekit::detail::Md5Path;
  std::vector<std::string> msgs;
  for (std::size_t n = 0; n <= 400; ++n) {
    std::string m(n, '\0');
    for (std::size_t i = 0; i < n; ++i) m[i] = static_cast<char>((i * 131 + n * 7) & 0xff);
    msgs.push_back(m);
  }
  for (int i = 0; i < 100; ++i) msgs.push_back("10.0.0." + std::to_string(i) + ":11212-" + std::to_string(i * 3));
  std::vector<std::string_view> views(msgs.begin(), msgs.end());
  std::vector<std::uint32_t> expect;
  for (const auto& m : msgs) {
    const auto d = cachekit::hash::md5(m);
    for (std::size_t j = 0; j < 4; ++j) {
      expect.push_back(static_cast<std::uint32_t>(d[4 * j]) | static_cast<std::uint32_t>(d[4 * j + 1]) << 8 |
                       static_cast<std::uint32_t>(d[4 * j + 2]) << 16 | static_cast<std::uint32_t>(d[4 * j + 3]) << 24);
    }
  }
  for (auto path : {Md5Path::automatic, Md5Path::scalar, Md5Path::avx2, Md5Path::avx512}) {
    if (!cachekit::detail::md5_path_supported(path)) continue;
    std::vector<std::uint32_t> out(4 * views.size());
    cachekit::detail::md5_digest_batch(views.data(), views.size(), out.data(), path);
    CHECK(out == expect);
    std::vector<std::uint32_t> first(views.size());
    cachekit::detail::md5_le32_batch(views.data(), views.size(), first.data(), path);
    for (std::size_t i = 0; i < views.size(); ++i) CHECK(first[i] == expect[4 * i]);
  }
}
