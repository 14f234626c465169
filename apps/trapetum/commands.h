// Subcommand registration and the helpers they share (model loading, errors, options).
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "backend/cpu_backend.h"
#include "core/result.h"
#include "model/model.h"
#include "model/transformer.h"

namespace trapetum::cli {

// Each adds a subcommand whose callback stores its exit code in *exit_code.
void add_run(CLI::App& app, int* exit_code);
void add_inspect(CLI::App& app, int* exit_code);
void add_perplexity(CLI::App& app, int* exit_code);
void add_tokenize(CLI::App& app, int* exit_code);
void add_detokenize(CLI::App& app, int* exit_code);
void add_chat(CLI::App& app, int* exit_code);

// Prints "trapetum: error: <message>" to stderr; returns the exit code for errors (1).
int report_error(const std::string& message);

// A model loaded and ready to run on a backend.
struct LoadedModel {
  std::unique_ptr<Model> model;
  std::unique_ptr<CpuBackend> backend;
  std::unique_ptr<Transformer> transformer;
  double load_seconds = 0;
};

Result<LoadedModel> load_for_inference(const std::string& path, int threads);

// Adds --threads to a subcommand (default: physical cores).
void add_threads_option(CLI::App* cmd, int* threads);

// Escapes s for a JSON string (UTF-8 kept, invalid bytes replaced).
std::string json_string(const std::string& s);

}  // namespace trapetum::cli
