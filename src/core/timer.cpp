// Process memory figures from /proc.
#include "core/timer.h"

#include <fstream>
#include <string>

namespace trapetum {

double peak_rss_mb() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return 0.0;
}

}  // namespace trapetum
