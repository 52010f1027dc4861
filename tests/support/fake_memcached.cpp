#include "support/fake_memcached.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

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
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 64) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
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
