// ModelConfig <-> JSON, the "config" object of .cbk metadata (docs/cbk-format.md).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "core/result.h"
#include "model/config.h"

namespace trapetum {

nlohmann::json config_to_json(const ModelConfig& c);
// Reads and validates; where names the source in errors.
Result<ModelConfig> config_from_json(const nlohmann::json& j, const std::string& where);

}  // namespace trapetum
