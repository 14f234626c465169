// TokenizerSpec <-> JSON, so a .cbk carries its complete tokenizer and runs on its own.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "core/result.h"
#include "tokenizer/tokenizer.h"

namespace trapetum {

nlohmann::json tokenizer_spec_to_json(const TokenizerSpec& spec);
// where names the source in errors (e.g. "model.cbk: metadata.tokenizer").
Result<TokenizerSpec> tokenizer_spec_from_json(const nlohmann::json& j, const std::string& where);

}  // namespace trapetum
