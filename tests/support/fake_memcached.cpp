#include "support/fake_memcached.hpp"
#include "support/memcached_process.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace cktest {
namespace {

void put16(std::string& s, std::uint16_t v) {
  s.push_back(static_cast<char>(v >> 8));
  s.push_back(static_cast<char>(v & 0xff));
}
void put32(std::string& s, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) s.push_back(static_cast<char>((v >> shift) & 0xff));
}
void put64(std::string& s, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) s.push_back(static_cast<char>((v >> shift) & 0xff));
}
std::uint32_t get32(const unsigned char* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

}  // namespace

std::string make_header(std::uint8_t magic, std::uint8_t opcode, std::uint16_t key_len,
                        std::uint8_t extras_len, std::uint16_t status, std::uint32_t body_len,
                        std::uint32_t opaque, std::uint64_t cas) {
  std::string s;
  s.push_back(static_cast<char>(magic));
  s.push_back(static_cast<char>(opcode));
  put16(s, key_len);
  s.push_back(static_cast<char>(extras_len));
  s.push_back('\0');  // data type
  put16(s, status);
  put32(s, body_len);
  put32(s, opaque);
  put64(s, cas);
  return s;
}

std::string make_response(std::uint8_t opcode, std::uint16_t status, std::uint32_t opaque,
                          std::string_view extras, std::string_view key, std::string_view value,
                          std::uint64_t cas, std::uint8_t magic) {
  const auto body = static_cast<std::uint32_t>(extras.size() + key.size() + value.size());
  std::string s = make_header(magic, opcode, static_cast<std::uint16_t>(key.size()),
                              static_cast<std::uint8_t>(extras.size()), status, body, opaque, cas);
  s.append(extras);
  s.append(key);
  s.append(value);
  return s;
}

std::string make_get_hit(const FakeRequest& req, std::string_view value, std::uint32_t flags) {
  std::string extras;
  put32(extras, flags);
  // GETK/GETKQ replies carry the key; GET/GETQ do not.
  const bool with_key = req.opcode == 0x0c || req.opcode == 0x0d;
  return make_response(req.opcode, 0, req.opaque, extras, with_key ? std::string_view(req.key) : "",
                       value, 1);
}

bool FakeConnection::read_exact(char* buf, std::size_t n) {
  std::size_t got = 0;
  while (got < n) {
    if (stopping_.load()) return false;
    pollfd p{fd_, POLLIN, 0};
    const int r = ::poll(&p, 1, 20);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) continue;
    const ssize_t k = ::recv(fd_, buf + got, n - got, 0);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return false;
    got += static_cast<std::size_t>(k);
  }
  return true;
}

bool FakeConnection::read_request(FakeRequest& out) {
  unsigned char h[24];
  if (!read_exact(reinterpret_cast<char*>(h), sizeof h)) return false;
  out.magic = h[0];
  out.opcode = h[1];
  const std::size_t key_len = (std::size_t{h[2]} << 8) | h[3];
  const std::size_t extras_len = h[4];
  const std::size_t body_len = get32(h + 8);
  out.opaque = get32(h + 12);
  out.cas = (std::uint64_t{get32(h + 16)} << 32) | get32(h + 20);
  if (extras_len + key_len > body_len || body_len > (64u << 20)) return false;
  std::string body(body_len, '\0');
  if (body_len > 0 && !read_exact(body.data(), body_len)) return false;
  out.extras = body.substr(0, extras_len);
  out.key = body.substr(extras_len, key_len);
  out.value = body.substr(extras_len + key_len);
  return true;
}

bool FakeConnection::send(std::string_view bytes) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t k = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return false;
    sent += static_cast<std::size_t>(k);
  }
  return true;
}

bool FakeConnection::send_slowly(std::string_view bytes, std::chrono::milliseconds pause) {
  for (char c : bytes) {
    if (stopping_.load() || !send(std::string_view(&c, 1))) return false;
    std::this_thread::sleep_for(pause);
  }
  return true;
}

bool FakeConnection::read_line(std::string& line) {
  // One byte at a time: nothing is read past the line, so line and binary
  // reads may follow each other on one connection.
  line.clear();
  char c = 0;
  while (read_exact(&c, 1)) {
    if (c == '\n' && !line.empty() && line.back() == '\r') {
      line.pop_back();
      return true;
    }
    if (line.size() >= (64u << 10)) return false;
    line.push_back(c);
  }
  return false;
}

bool FakeConnection::read_bytes(std::size_t n, std::string& out) {
  out.assign(n, '\0');
  return n == 0 || read_exact(out.data(), n);
}

void FakeConnection::hold() {
  char buf[4096];
  while (!stopping_.load()) {
    pollfd p{fd_, POLLIN, 0};
    const int r = ::poll(&p, 1, 20);
    if (r > 0) {
      const ssize_t k = ::recv(fd_, buf, sizeof buf, 0);
      if (k == 0 || (k < 0 && errno != EINTR)) return;  // peer closed
    }
  }
}

void FakeConnection::close() {
  if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
}

FakeMemcached::FakeMemcached(Handler handler) : handler_(std::move(handler)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  // A port reserved like the real servers' (free_port): no other test
  // process binds it while this one may still use it.
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool bound = false;
  for (int attempt = 0; attempt < 20 && !bound; ++attempt) {
    addr.sin_port = htons(free_port());
    bound = ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  if (!bound || ::listen(listen_fd_, 64) != 0) {
    ::close(listen_fd_);
    listen_fd_ = -1;
    return;
  }
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

FakeMemcached::~FakeMemcached() {
  stopping_.store(true);
  if (acceptor_.joinable()) acceptor_.join();
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
  }
  for (auto& t : workers_) t.join();
  for (int fd : fds_) ::close(fd);
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

std::string FakeMemcached::spec() const { return "127.0.0.1:" + std::to_string(port_); }

void FakeMemcached::accept_loop() {
  while (!stopping_.load()) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 20) <= 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    accepted_.fetch_add(1);
    std::lock_guard<std::mutex> lock(mu_);
    fds_.push_back(fd);
    workers_.emplace_back([this, fd] {
      FakeConnection conn(fd, stopping_);
      handler_(conn);
    });
  }
}

}  // namespace cktest

namespace cktest {
void serve_healthy(FakeConnection& conn, std::string_view value,
                   const std::function<void(const FakeRequest&)>& on_request) {
  FakeRequest req;
  while (conn.read_request(req)) {
    if (on_request) on_request(req);
    switch (req.opcode) {
      case 0x00: case 0x09: case 0x0c: case 0x0d:  // GET, GETQ, GETK, GETKQ
        if (!conn.send(make_get_hit(req, value))) return;
        break;
      case 0x0b:  // VERSION
        if (!conn.send(make_response(req.opcode, 0, req.opaque, {}, {}, "1.6.0-fake"))) return;
        break;
      case 0x11: case 0x01: case 0x02: case 0x03: case 0x04: case 0x0a: case 0x1c:
        // SETQ, SET, ADD, REPLACE, DELETE, NOOP, TOUCH: success; quiet SET says nothing.
        if (req.opcode == 0x11) break;
        if (!conn.send(make_response(req.opcode, 0, req.opaque, {}, {}, {}, 1))) return;
        break;
      default:
        if (!conn.send(make_response(req.opcode, 0x81, req.opaque, {}, {}, "Unknown command"))) return;
    }
  }
}
}  // namespace cktest

namespace cktest {
std::vector<std::string> line_words(std::string_view line) {
  std::vector<std::string> words;
  std::size_t at = 0;
  while (at < line.size()) {
    const std::size_t end = std::min(line.find(' ', at), line.size());
    if (end > at) words.emplace_back(line.substr(at, end - at));
    at = end + 1;
  }
  return words;
}

long long storage_data_length(const std::vector<std::string>& words) {
  if (words.empty()) return -1;
  const std::string& cmd = words[0];
  std::size_t at = 0;
  if (cmd == "ms") {
    at = 2;
  } else if (cmd == "set" || cmd == "add" || cmd == "replace" || cmd == "append" || cmd == "prepend" ||
             cmd == "cas") {
    at = 4;
  } else {
    return -1;
  }
  if (words.size() <= at || words[at].empty() || words[at].size() > 12) return -1;
  long long n = 0;
  for (char c : words[at]) {
    if (c < '0' || c > '9') return -1;
    n = n * 10 + (c - '0');
  }
  return n;
}

std::string meta_hit(std::string_view request_line, std::string_view value, std::uint32_t flags) {
  const std::vector<std::string> words = line_words(request_line);
  bool with_value = false;
  std::string ret;
  for (std::size_t i = 2; i < words.size(); ++i) {
    const std::string& w = words[i];
    switch (w[0]) {
      case 'v': with_value = true; break;
      case 'f': ret += " f" + std::to_string(flags); break;
      case 'k': ret += " k" + words[1]; break;
      case 'O': ret += " " + w; break;
      case 'c': ret += " c1"; break;
      case 's': ret += " s" + std::to_string(value.size()); break;
      case 't': ret += " t-1"; break;
      default: break;  // q, T<ttl>, N<ttl> and the rest return nothing
    }
  }
  if (!with_value) return "HD" + ret + "\r\n";
  std::string out = "VA " + std::to_string(value.size()) + ret + "\r\n";
  out.append(value);
  out += "\r\n";
  return out;
}

std::string text_hit(std::string_view key, std::string_view value, std::uint32_t flags) {
  std::string out = "VALUE ";
  out.append(key);
  out += " " + std::to_string(flags) + " " + std::to_string(value.size()) + "\r\n";
  out.append(value);
  out += "\r\n";
  return out;
}

std::string exchange_bytes(std::uint16_t port, std::string_view request, std::size_t reply_size) {
  std::string reply;
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return reply;
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    std::size_t sent = 0;
    bool ok = true;
    while (ok && sent < request.size()) {
      const ssize_t k = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
      ok = k > 0;
      if (ok) sent += static_cast<std::size_t>(k);
    }
    char buf[4096];
    while (ok && reply.size() < reply_size) {
      const std::size_t want = std::min(sizeof buf, reply_size - reply.size());
      const ssize_t k = ::recv(fd, buf, want, 0);
      ok = k > 0;
      if (ok) reply.append(buf, static_cast<std::size_t>(k));
    }
  }
  ::close(fd);
  return reply;
}

bool next_command(FakeConnection& conn, std::string& line, std::string_view version) {
  while (conn.read_line(line)) {
    if (line != "version") return true;
    if (!conn.send("VERSION " + std::string(version) + "\r\n")) return false;
  }
  return false;
}

void serve_healthy_ascii(FakeConnection& conn, std::string_view value,
                         const std::function<void(const std::string&)>& on_line) {
  std::string line, data;
  while (conn.read_line(line)) {
    if (on_line) on_line(line);
    const std::vector<std::string> words = line_words(line);
    if (words.empty()) {
      if (!conn.send("ERROR\r\n")) return;
      continue;
    }
    const std::string& cmd = words[0];
    std::string reply;
    const long long n = storage_data_length(words);
    if (n >= 0) {
      if (!conn.read_bytes(static_cast<std::size_t>(n) + 2, data)) return;
      const bool quiet = cmd == "ms" && std::find(words.begin(), words.end(), "q") != words.end();
      if (cmd == "ms") {
        if (!quiet) reply = "HD\r\n";
      } else {
        reply = "STORED\r\n";
      }
    } else if (cmd == "get" || cmd == "gets") {
      for (std::size_t i = 1; i < words.size(); ++i) {
        std::string hit = text_hit(words[i], value);
        if (cmd == "gets") hit.insert(hit.find("\r\n"), " 1");
        reply += hit;
      }
      reply += "END\r\n";
    } else if (cmd == "mg" && words.size() >= 2) {
      reply = meta_hit(line, value);
    } else if (cmd == "mn") {
      reply = "MN\r\n";
    } else if (cmd == "md") {
      if (std::find(words.begin(), words.end(), "q") == words.end()) reply = "HD\r\n";
    } else if (cmd == "delete") {
      reply = "DELETED\r\n";
    } else if (cmd == "touch") {
      reply = "TOUCHED\r\n";
    } else if (cmd == "version") {
      reply = "VERSION 1.6.18\r\n";
    } else {
      reply = "ERROR\r\n";
    }
    if (!reply.empty() && !conn.send(reply)) return;
  }
}
}  // namespace cktest
