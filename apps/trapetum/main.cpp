// trapetum: the command-line entry point; each subcommand lives in its own file.
#include <CLI/CLI.hpp>
#include <csignal>

#include "commands.h"

int main(int argc, char** argv) {
  // A file-size limit (ulimit -f) then fails a write with EFBIG, reported and cleaned up like
  // a full disk, instead of killing the process.
  std::signal(SIGXFSZ, SIG_IGN);
  CLI::App app{"trapetum: press large language models into low-bit weights and run them"};
  app.set_version_flag("--version", std::string("trapetum ") + TRAPETUM_VERSION);
  app.require_subcommand(1);
  int exit_code = 0;
  trapetum::cli::add_run(app, &exit_code);
  trapetum::cli::add_inspect(app, &exit_code);
  trapetum::cli::add_perplexity(app, &exit_code);
  trapetum::cli::add_chat(app, &exit_code);
  trapetum::cli::add_tokenize(app, &exit_code);
  trapetum::cli::add_detokenize(app, &exit_code);
  trapetum::cli::add_synth(app, &exit_code);
  trapetum::cli::add_compare(app, &exit_code);
  trapetum::cli::add_quantize(app, &exit_code);
  trapetum::cli::add_bench(app, &exit_code);
  trapetum::cli::add_report(app, &exit_code);
  trapetum::cli::add_dequantize(app, &exit_code);
  trapetum::cli::add_delta(app, &exit_code);
  trapetum::cli::add_materialize(app, &exit_code);
  trapetum::cli::add_serve(app, &exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return exit_code;
}
