// SHA-256 of source files, recorded in .cbk metadata so a pressed model names its origin.
#pragma once

#include <string>

#include "core/result.h"

namespace trapetum {

// Lowercase hex SHA-256 of a file's bytes.
Result<std::string> sha256_file(const std::string& path);

}  // namespace trapetum
