// `trapetum tokenize` / `trapetum detokenize`: placeholder until the tokenizer CLI lands.
#include "commands.h"

namespace trapetum::cli {

void add_tokenize(CLI::App& app, int* exit_code) {
  CLI::App* cmd = app.add_subcommand("tokenize", "Print the token ids and pieces of a text");
  cmd->callback([exit_code] { *exit_code = report_error("tokenize is not implemented yet"); });
}

void add_detokenize(CLI::App& app, int* exit_code) {
  CLI::App* cmd = app.add_subcommand("detokenize", "Turn token ids back into text");
  cmd->callback([exit_code] { *exit_code = report_error("detokenize is not implemented yet"); });
}

}  // namespace trapetum::cli
