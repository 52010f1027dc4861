#pragma once
// POSIX sockets with deadlines. The only file in cachekit that makes
// system calls: name resolution, non-blocking connect finished with poll +
// SO_ERROR, and poll-bounded send/recv (MSG_NOSIGNAL, EINTR retried).

#include "../config.hpp"  // CACHEKIT_DETAIL_VIEW

#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../error.hpp"

CACHEKIT_BEGIN_NAMESPACE
namespace detail {
namespace net {

using Clock = std::chrono::steady_clock;

/// Clock::now() for the hot path. On Linux with libstdc++ or libc++,
/// steady_clock is CLOCK_MONOTONIC: reading it directly skips a library
/// call. Elsewhere it is Clock::now().
CACHEKIT_HOT_INLINE Clock::time_point now() noexcept {
#if defined(__linux__) && (defined(__GLIBCXX__) || defined(_LIBCPP_VERSION))
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return Clock::time_point(std::chrono::duration_cast<Clock::duration>(std::chrono::seconds(ts.tv_sec) +
                                                                       std::chrono::nanoseconds(ts.tv_nsec)));
#else
  return Clock::now();
#endif
}
using Deadline = Clock::time_point;

/// Milliseconds left until deadline for poll(): rounded up, never negative.
inline int remaining_ms(Deadline deadline) noexcept {
  const auto now = Clock::now();
  if (now >= deadline) return 0;
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(deadline - now).count();
  const auto ms = (us + 999) / 1000;
  return ms > 0x7fffffff ? 0x7fffffff : static_cast<int>(ms);
}

/// strerror text without the thread-safety trap of strerror().
inline std::string errno_text(int err) {
  char buf[128];
  buf[0] = '\0';
#if defined(__GLIBC__) && defined(_GNU_SOURCE)
  return std::string(::strerror_r(err, buf, sizeof buf));
#else
  if (::strerror_r(err, buf, sizeof buf) != 0) return "errno " + std::to_string(err);
  return std::string(buf);
#endif
}

inline Error sys_error(ErrorKind kind, const char* what, int err) {
  std::string m = what;
  m += ": ";
  m += errno_text(err);
  return Error(kind, std::move(m));
}

/// Owns one file descriptor; closes it when destroyed.
class Socket {
 public:
  Socket() = default;
  explicit Socket(int fd) noexcept : fd_(fd) {}
  ~Socket() { close(); }
  Socket(Socket&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Socket& operator=(Socket&& o) noexcept {
    if (this != &o) {
      close();
      fd_ = o.fd_;
      o.fd_ = -1;
    }
    return *this;
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  int fd() const noexcept { return fd_; }
  bool valid() const noexcept { return fd_ >= 0; }
  void close() noexcept {
    if (fd_ >= 0) {
      ::close(fd_);  // not retried on EINTR: the descriptor is gone either way on Linux
      fd_ = -1;
    }
  }

 private:
  int fd_ = -1;
};

/// Waits until fd is ready for events or the deadline passes. Returns the
/// revents (0 on timeout) or an error.
inline Result<short> wait_fd(int fd, short events, Deadline deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    const int rc = ::poll(&p, 1, remaining_ms(deadline));
    if (rc > 0) return p.revents;
    if (rc == 0) return static_cast<short>(0);
    if (errno != EINTR) return sys_error(ErrorKind::transient, "poll", errno);
  }
}

/// poll() over several descriptors until one is ready or the deadline; the
/// number ready (0 on timeout) or an error.
inline Result<int> wait_many(pollfd* fds, std::size_t n, Deadline deadline) {
  for (;;) {
    const int rc = ::poll(fds, static_cast<nfds_t>(n), remaining_ms(deadline));
    if (rc >= 0) return rc;
    if (errno != EINTR) return sys_error(ErrorKind::transient, "poll", errno);
  }
}

/// Makes a connected socket blocking: plain send/recv then wait in the
/// kernel, bounded by SO_SNDTIMEO/SO_RCVTIMEO (one system call per read or
/// write instead of poll + read). MSG_DONTWAIT still gives non-blocking calls.
inline Result<void> set_blocking(int fd) {
  const int flags = ::fcntl(fd, F_GETFL, 0);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) return sys_error(ErrorKind::transient, "fcntl", errno);
  return {};
}

inline Result<void> finish_connect(int fd, Deadline deadline) {
  auto ready = wait_fd(fd, POLLOUT, deadline);
  if (!ready) return std::move(ready).error();
  if (*ready == 0) return Error(ErrorKind::timeout, "connect timed out");
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  if (err != 0) return sys_error(ErrorKind::transient, "connect", err);
  return {};
}

inline Result<Socket> connect_addr(int family, const sockaddr* addr, socklen_t len, Deadline deadline) {
  Socket s(::socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!s.valid()) return sys_error(ErrorKind::transient, "socket", errno);
  if (family != AF_UNIX) {
    int one = 1;
    ::setsockopt(s.fd(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  int rc;
  do {
    rc = ::connect(s.fd(), addr, len);
  } while (rc != 0 && errno == EINTR && family == AF_UNIX);
  if (rc != 0) {
    if (errno != EINPROGRESS && errno != EINTR && errno != EAGAIN) {
      return sys_error(ErrorKind::transient, "connect", errno);
    }
    auto done = finish_connect(s.fd(), deadline);
    if (!done) return std::move(done).error();
  }
  auto blocking = set_blocking(s.fd());
  if (!blocking) return std::move(blocking).error();
  return s;
}

/// Connects to host:port (a name, an IPv4 or IPv6 address) or to the unix
/// socket at host when it starts with '/'. Bounded by deadline, except name
/// resolution, which the system resolver bounds.
inline Result<Socket> connect_to(std::string_view host, std::uint16_t port, Deadline deadline) {
  if (!host.empty() && host[0] == '/') {
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    if (host.size() >= sizeof sun.sun_path) return Error(ErrorKind::permanent, "unix socket path too long");
    std::memcpy(sun.sun_path, host.data(), host.size());
    return connect_addr(AF_UNIX, reinterpret_cast<const sockaddr*>(&sun), sizeof sun, deadline);
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
  const std::string host_z(host);
  const std::string port_z = std::to_string(port);
  addrinfo* list = nullptr;
  const int gai = ::getaddrinfo(host_z.c_str(), port_z.c_str(), &hints, &list);
  if (gai != 0) {
    if (gai == EAI_SYSTEM) return sys_error(ErrorKind::transient, "getaddrinfo", errno);
    return Error(ErrorKind::transient, std::string("cannot resolve host: ") + ::gai_strerror(gai));
  }
  Error last(ErrorKind::transient, "no address to connect to");
  for (addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    auto s = connect_addr(ai->ai_family, ai->ai_addr, ai->ai_addrlen, deadline);
    if (s) {
      ::freeaddrinfo(list);
      return s;
    }
    last = std::move(s).error();
    if (Clock::now() >= deadline) break;
  }
  ::freeaddrinfo(list);
  return last;
}

/// Sets SO_RCVTIMEO or SO_SNDTIMEO (microseconds, > 0).
inline bool set_io_timeout(int fd, int option, long long us) noexcept {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(us / 1000000);
  tv.tv_usec = static_cast<suseconds_t>(us % 1000000);
  return ::setsockopt(fd, SOL_SOCKET, option, &tv, sizeof tv) == 0;
}

/// Blocking send bounded by SO_SNDTIMEO: bytes written, 0 when the timeout
/// ran out first.
inline Result<std::size_t> send_wait(int fd, const char* data, std::size_t n) {
  for (;;) {
    const ssize_t rc = ::send(fd, data, n, MSG_NOSIGNAL);
    if (rc >= 0) return static_cast<std::size_t>(rc);
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return std::size_t{0};
    return sys_error(ErrorKind::transient, "send", errno);
  }
}

/// Blocking receive bounded by SO_RCVTIMEO: bytes read, 0 when the timeout
/// ran out first; an orderly close by the peer is an error.
CACHEKIT_HOT_INLINE Result<std::size_t> recv_wait(int fd, char* buf, std::size_t cap) {
  for (;;) {
    const ssize_t rc = ::recv(fd, buf, cap, 0);
    if (rc > 0) return static_cast<std::size_t>(rc);
    if (rc == 0) return Error(ErrorKind::transient, "connection closed by server");
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return std::size_t{0};
    return sys_error(ErrorKind::transient, "recv", errno);
  }
}

/// sendmsg of n buffers with extra flags (MSG_NOSIGNAL always): bytes
/// written, 0 when the socket would block or its timeout ran out.
inline Result<std::size_t> send_iov(int fd, iovec* iov, std::size_t n, int flags) {
  msghdr m{};
  m.msg_iov = iov;
  m.msg_iovlen = n;
  for (;;) {
    const ssize_t rc = ::sendmsg(fd, &m, MSG_NOSIGNAL | flags);
    if (rc >= 0) return static_cast<std::size_t>(rc);
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return std::size_t{0};
    return sys_error(ErrorKind::transient, "send", errno);
  }
}

/// Sends without blocking: bytes written (0 when the socket buffer is full).
CACHEKIT_HOT_INLINE Result<std::size_t> try_send(int fd, const char* data, std::size_t n) {
  for (;;) {
    const ssize_t rc = ::send(fd, data, n, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (rc >= 0) return static_cast<std::size_t>(rc);
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return std::size_t{0};
    return sys_error(ErrorKind::transient, "send", errno);
  }
}

/// Sends all n bytes before the deadline.
inline Result<void> send_all(int fd, const char* data, std::size_t n, Deadline deadline) {
  while (n > 0) {
    auto sent = try_send(fd, data, n);
    if (!sent) return std::move(sent).error();
    if (*sent == 0) {
      auto ready = wait_fd(fd, POLLOUT, deadline);
      if (!ready) return std::move(ready).error();
      if (*ready == 0) return Error(ErrorKind::timeout, "send timed out");
      continue;
    }
    data += *sent;
    n -= *sent;
  }
  return {};
}

/// Receives without blocking: bytes read, 0 when nothing is available; an
/// orderly close by the peer is an error.
inline Result<std::size_t> try_recv(int fd, char* buf, std::size_t cap) {
  for (;;) {
    const ssize_t rc = ::recv(fd, buf, cap, MSG_DONTWAIT);
    if (rc > 0) return static_cast<std::size_t>(rc);
    if (rc == 0) return Error(ErrorKind::transient, "connection closed by server");
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return std::size_t{0};
    return sys_error(ErrorKind::transient, "recv", errno);
  }
}

/// Lets at most half the cores (at least one) busy-poll at once, process
/// wide, so spinning threads never starve the rest of the process or a
/// server on the same host.
class SpinGate {
 public:
  static SpinGate& process() {
    static SpinGate gate;
    return gate;
  }
  bool enter() noexcept {
    if (active_.fetch_add(1, std::memory_order_relaxed) < limit_) return true;
    active_.fetch_sub(1, std::memory_order_relaxed);
    return false;
  }
  void leave() noexcept { active_.fetch_sub(1, std::memory_order_relaxed); }

 private:
  SpinGate() noexcept {
    const long cores = ::sysconf(_SC_NPROCESSORS_ONLN);
    limit_ = cores >= 4 ? static_cast<int>(cores / 2) : 1;
  }
  std::atomic<int> active_{0};
  int limit_ = 1;
};

/// Holds a place at the SpinGate for one busy-poll.
class SpinTicket {
 public:
  SpinTicket() noexcept : held_(SpinGate::process().enter()) {}
  ~SpinTicket() {
    if (held_) SpinGate::process().leave();
  }
  SpinTicket(const SpinTicket&) = delete;
  SpinTicket& operator=(const SpinTicket&) = delete;
  bool held() const noexcept { return held_; }

 private:
  bool held_;
};

/// Busy-polls for bytes until `until`: bytes read, 0 when none arrived in
/// time; an orderly close by the peer is an error. Reads the clock only
/// every few tries (a try is one system call, well under a microsecond).
/// Returns 0 at once, with spun false, when other threads already spin on
/// every core allowed.
inline Result<std::size_t> recv_spin(int fd, char* buf, std::size_t cap, Clock::time_point until, bool& spun) {
  const SpinTicket ticket;
  spun = ticket.held();
  if (!spun) return std::size_t{0};
  for (unsigned tries = 1;; ++tries) {
    const ssize_t rc = ::recv(fd, buf, cap, MSG_DONTWAIT);
    if (rc > 0) return static_cast<std::size_t>(rc);
    if (rc == 0) return Error(ErrorKind::transient, "connection closed by server");
    if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) return sys_error(ErrorKind::transient, "recv", errno);
    if ((tries & 7) == 0 && Clock::now() >= until) return std::size_t{0};
  }
}

/// poll() with no wait, repeated until a descriptor is ready or `until`:
/// the number ready (0 when none became ready in time) or an error. Like
/// recv_spin, it does not spin when the SpinGate is full.
inline Result<int> poll_spin(pollfd* fds, std::size_t n, Clock::time_point until, bool& spun) {
  const SpinTicket ticket;
  spun = ticket.held();
  if (!spun) return 0;
  for (unsigned tries = 1;; ++tries) {
    const int rc = ::poll(fds, static_cast<nfds_t>(n), 0);
    if (rc > 0) return rc;
    if (rc < 0 && errno != EINTR) return sys_error(ErrorKind::transient, "poll", errno);
    if ((tries & 7) == 0 && Clock::now() >= until) return 0;
  }
}

/// Whether the peer has closed or sent unsolicited bytes on an idle
/// connection (either makes it unusable). Never blocks.
inline bool idle_connection_broken(int fd) noexcept {
  pollfd p{fd, POLLIN, 0};
  int rc;
  do {
    rc = ::poll(&p, 1, 0);
  } while (rc < 0 && errno == EINTR);
  return rc != 0;
}

}  // namespace net
}  // namespace detail
CACHEKIT_END_NAMESPACE

#endif  // CACHEKIT_DETAIL_VIEW
