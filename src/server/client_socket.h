// The accepted socket behind a cpp-httplib request (0.11 does not hand it to handlers), found
// by its two ports, so a handler can notice that its client has hung up while it waits.
#pragma once

#include <chrono>
#include <string>

namespace trapetum::server {

class ClientSocket {
 public:
  // Looks the socket up through /proc (its ports and the peer's address, then the descriptor
  // whose link names that socket's inode); none found means never gone.
  ClientSocket(const std::string& remote_addr, int remote_port, int local_port);
  // True once the peer has closed or reset the connection. Probes at most every 100 ms
  // (a zero-timeout poll and a peeked read), so it is cheap to call in a loop.
  bool gone();

 private:
  int fd_ = -1;
  bool gone_ = false;
  std::chrono::steady_clock::time_point next_probe_{};
};

}  // namespace trapetum::server
