// ClientSocket: finding the connection's descriptor through /proc, and the hang-up probe.
#include "server/client_socket.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace trapetum::server {
namespace {

// An address as /proc/net/tcp{,6} prints it: the raw 32-bit words of the address in hex.
std::string proc_hex(const std::string& addr, bool* v6) {
  char out[33] = {};
  in_addr a4{};
  in6_addr a6{};
  if (inet_pton(AF_INET, addr.c_str(), &a4) == 1) {
    *v6 = false;
    std::snprintf(out, sizeof out, "%08X", a4.s_addr);
    return out;
  }
  if (inet_pton(AF_INET6, addr.c_str(), &a6) == 1) {
    *v6 = true;
    uint32_t w[4];
    std::memcpy(w, &a6, 16);
    std::snprintf(out, sizeof out, "%08X%08X%08X%08X", w[0], w[1], w[2], w[3]);
    return out;
  }
  return "";
}

// The inode of the TCP socket from remote (hex address, port) to local port, or 0.
unsigned long socket_inode(const char* table, const std::string& remote_hex, int remote_port, int local_port) {
  std::FILE* f = std::fopen(table, "r");
  if (!f) return 0;
  char line[512];
  unsigned long found = 0;
  if (std::fgets(line, sizeof line, f)) {  // the header
    char local[64], remote[64];
    unsigned long inode = 0;
    while (!found && std::fgets(line, sizeof line, f)) {
      // sl local rem st tx:rx tr:when retrnsmt uid timeout inode
      if (std::sscanf(line, " %*s %63s %63s %*s %*s %*s %*s %*s %*s %lu", local, remote, &inode) != 3) continue;
      const char* lc = std::strchr(local, ':');
      const char* rc = std::strchr(remote, ':');
      if (!lc || !rc) continue;
      if (std::strtol(lc + 1, nullptr, 16) != local_port || std::strtol(rc + 1, nullptr, 16) != remote_port) continue;
      if (std::string(remote, size_t(rc - remote)) == remote_hex) found = inode;
    }
  }
  std::fclose(f);
  return found;
}

}  // namespace

// Paths only: /proc/net/tcp gives the connection's inode and readlink of /proc/self/fd/N finds
// the descriptor, so no other thread's descriptor is ever touched (one being closed, say).
ClientSocket::ClientSocket(const std::string& remote_addr, int remote_port, int local_port) {
  if (remote_port <= 0 || local_port <= 0) return;
  bool v6 = false;
  const std::string hex = proc_hex(remote_addr, &v6);
  if (hex.empty()) return;
  const unsigned long inode = socket_inode(v6 ? "/proc/self/net/tcp6" : "/proc/self/net/tcp", hex, remote_port, local_port);
  if (inode == 0) return;
  const std::string want = "socket:[" + std::to_string(inode) + "]";
  DIR* dir = opendir("/proc/self/fd");
  if (!dir) return;
  while (dirent* d = readdir(dir)) {
    char* end = nullptr;
    const long fd = std::strtol(d->d_name, &end, 10);
    if (end == d->d_name || *end != '\0') continue;
    char link[64];
    const std::string path = std::string("/proc/self/fd/") + d->d_name;
    const ssize_t n = readlink(path.c_str(), link, sizeof link - 1);
    if (n > 0 && std::string(link, size_t(n)) == want) {
      fd_ = int(fd);
      break;
    }
  }
  closedir(dir);
}

bool ClientSocket::gone() {
  if (fd_ < 0 || gone_) return gone_;
  const auto now = std::chrono::steady_clock::now();
  if (now < next_probe_) return false;
  next_probe_ = now + std::chrono::milliseconds(100);
  pollfd p{fd_, POLLIN, 0};
  if (poll(&p, 1, 0) <= 0) return false;
  if (p.revents & (POLLERR | POLLHUP | POLLNVAL)) return gone_ = true;
  // Readable: either more bytes (a pipelined request; the client is there) or end of stream.
  char c;
  const ssize_t n = recv(fd_, &c, 1, MSG_PEEK | MSG_DONTWAIT);
  gone_ = n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
  return gone_;
}

}  // namespace trapetum::server
