// `trapetum chat`: placeholder until the interactive chat lands.
#include "commands.h"

namespace trapetum::cli {

void add_chat(CLI::App& app, int* exit_code) {
  CLI::App* cmd = app.add_subcommand("chat", "Interactive multi-turn chat");
  cmd->callback([exit_code] { *exit_code = report_error("chat is not implemented yet"); });
}

}  // namespace trapetum::cli
