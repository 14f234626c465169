// `trapetum tokenize` / `trapetum detokenize`: text <-> token ids with the vocabulary of a model or
// of a tokenizer file (weights are never read), as a table, JSON, a JSON-lines batch or a benchmark.
// Input text that is not valid UTF-8 has each maximal invalid subpart replaced by U+FFFD first.
#include <algorithm>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>

#include "commands.h"
#include "core/timer.h"
#include "io/gguf.h"
#include "tokenizer/unicode.h"

namespace trapetum::cli {
namespace {

using nlohmann::json;

struct TokenizeOptions {
  std::string model, tokenizer, prompt, file;
  bool has_prompt = false;  // -p given (its text may be empty)
  bool json = false;
  bool no_special = false;
  bool lines = false;
  bool bench = false;
  bool per_line = false;
  int reps = 5;
};

struct DetokenizeOptions {
  std::string model, tokenizer, file;
  std::vector<std::string> ids;
  bool skip_special = false;
  bool json = false;
  bool lines = false;
};

bool is_gguf_file(const std::string& path) {
  char magic[4] = {};
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  const size_t n = std::fread(magic, 1, 4, f);
  std::fclose(f);
  return n == 4 && std::string_view(magic, 4) == "GGUF";
}

// Only the vocabulary: a GGUF's metadata, or tokenizer.json (+ tokenizer_config.json beside it).
Result<std::unique_ptr<Tokenizer>> load_tokenizer(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(path, ec)) return make_error(path, ": no such file or directory");
  TokenizerSpec spec;
  if (is_gguf_file(path)) {
    TRY(std::unique_ptr<GgufFile> gguf, GgufFile::open(path));
    TRY(spec, tokenizer_spec_from_gguf(*gguf));
  } else {
    fs::path json_path = path, dir = fs::path(path).parent_path();
    if (fs::is_directory(path, ec)) {
      dir = path;
      json_path = dir / "tokenizer.json";
      if (!fs::exists(json_path, ec)) return make_error(path, ": no tokenizer.json in this directory");
    }
    const fs::path config = dir / "tokenizer_config.json";
    TRY(spec, tokenizer_spec_from_hf(json_path.string(), fs::exists(config, ec) ? config.string() : ""));
  }
  auto tok = Tokenizer::create(std::move(spec));
  if (!tok.ok()) return make_error(path, ": ", tok.error());
  return std::move(tok).value();
}

Result<std::unique_ptr<Tokenizer>> load_tokenizer(const std::string& model, const std::string& tokenizer) {
  if (model.empty() == tokenizer.empty()) return make_error("give a model (-m) or a tokenizer file (--tokenizer)");
  return load_tokenizer(model.empty() ? tokenizer : model);
}

// A file's bytes ("-": stdin).
Result<std::string> read_input(const std::string& path) {
  std::string text;
  if (path == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    return text;
  }
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return make_error(path, ": no such file");
  if (!read_text_file(path, &text)) return make_error(path, ": cannot read the file");
  return text;
}

std::string input_name(const std::string& path) { return path == "-" ? "stdin" : path; }

// Parses one JSON value; the error names where it came from and what nlohmann saw.
Result<json> parse_json(std::string_view text, const std::string& where) {
  try {  // nlohmann reports the position of a syntax error only through its exception
    return json::parse(text);
  } catch (const json::exception& e) {
    std::string what = e.what();
    if (size_t p = what.find("] "); p != std::string::npos) what.erase(0, p + 2);
    return make_error(where, ": malformed JSON: ", what);
  }
}

// Splits on '\n' (a trailing '\r' stays with its line; JSON ignores it).
std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  for (size_t p = 0; p < text.size();) {
    size_t q = text.find('\n', p);
    if (q == std::string_view::npos) q = text.size();
    lines.push_back(text.substr(p, q - p));
    p = q + 1;
  }
  return lines;
}

void append_ids(std::string* out, const std::vector<int32_t>& ids) {
  out->push_back('[');
  char buf[16];
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) out->push_back(',');
    auto r = std::to_chars(buf, buf + sizeof(buf), ids[i]);
    out->append(buf, r.ptr);
  }
  out->push_back(']');
}

void write_all(const std::string& s) { std::fwrite(s.data(), 1, s.size(), stdout); }

// Bytes shown in a table cell: printable UTF-8 as is, the rest escaped.
std::string escape_for_display(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const size_t n = utf8_valid_len(s, i);
    if (n > 1) {
      out.append(s.substr(i, n));
      i += n;
      continue;
    }
    if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c == '\r') out += "\\r";
    else if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c >= 0x20 && c < 0x7f) out.push_back(char(c));
    else out += str_cat("\\x", "0123456789abcdef"[c >> 4], "0123456789abcdef"[c & 15]);
    ++i;
  }
  return out;
}

// Pads s with spaces to `width` code points.
std::string pad(const std::string& s, size_t width) {
  size_t cps = 0;
  for (char c : s) cps += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return cps >= width ? s : s + std::string(width - cps, ' ');
}

int tokenize_lines(const Tokenizer& tok, const std::string& text, const std::string& name, bool add_special) {
  std::string out;
  const std::vector<std::string_view> lines = split_lines(text);
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string where = str_cat(name, ":", i + 1);
    auto j = parse_json(utf8_lossy(lines[i]), where);
    if (!j.ok()) return report_error(j.error());
    if (!j->is_string()) return report_error(where + ": expected a JSON string");
    append_ids(&out, tok.encode(j->get_ref<const std::string&>(), add_special));
    out.push_back('\n');
  }
  write_all(out);
  return 0;
}

// Median time of `reps` encodes of the whole text, or of its lines one by one.
int tokenize_bench(const Tokenizer& tok, const std::string& text, const TokenizeOptions& o, double load_s) {
  std::vector<std::string_view> pieces;
  if (o.per_line) {
    for (size_t p = 0; p < text.size();) {
      size_t q = text.find('\n', p);
      q = q == std::string::npos ? text.size() : q + 1;  // each line keeps its '\n'
      pieces.push_back(std::string_view(text).substr(p, q - p));
      p = q;
    }
  } else {
    pieces.push_back(text);
  }
  std::vector<double> times;
  size_t tokens = 0;
  for (int r = 0; r < o.reps; ++r) {
    tokens = 0;
    Timer t;
    for (std::string_view s : pieces) tokens += tok.encode(s, !o.no_special).size();
    times.push_back(t.seconds());
  }
  std::sort(times.begin(), times.end());
  const double median = times[times.size() / 2];
  json j{{"mb_s", double(text.size()) / 1e6 / median},
         {"tokens", tokens},
         {"seconds", median},
         {"bytes", text.size()},
         {"reps", o.reps},
         {"mode", o.per_line ? "lines" : "whole"},
         {"pieces", pieces.size()},
         {"min_seconds", times.front()},
         {"load_seconds", load_s}};
  std::puts(j.dump().c_str());
  return 0;
}

int tokenize_main(const TokenizeOptions& o) {
  if (!o.has_prompt && o.file.empty()) return report_error("give the text with -p TEXT or -f FILE");
  if ((o.lines || o.bench) && o.file.empty()) {
    return report_error(o.lines ? "--lines needs -f FILE" : "--bench needs -f FILE");
  }
  Timer load_timer;
  auto loaded = load_tokenizer(o.model, o.tokenizer);
  if (!loaded.ok()) return report_error(loaded.error());
  const double load_s = load_timer.seconds();
  const Tokenizer& tok = *loaded.value();
  std::string text = o.prompt;
  if (!o.file.empty()) {
    auto r = read_input(o.file);
    if (!r.ok()) return report_error(r.error());
    text = std::move(r).value();
  }
  if (o.lines) return tokenize_lines(tok, text, input_name(o.file), !o.no_special);
  text = utf8_lossy(text);
  if (o.bench) return tokenize_bench(tok, text, o, load_s);

  const std::vector<int32_t> ids = tok.encode(text, !o.no_special);
  const std::vector<std::string>& pieces = tok.spec().tokens;
  if (o.json) {
    std::string out = "{\"ids\":";
    append_ids(&out, ids);
    out += ",\"pieces\":[";
    for (size_t i = 0; i < ids.size(); ++i) out += (i ? "," : "") + json_string(pieces[size_t(ids[i])]);
    out += "]}\n";
    write_all(out);
    return 0;
  }
  std::string out = str_cat(pad("#", 6), " ", pad("id", 8), " ", pad("piece", 24), " text\n");
  for (size_t i = 0; i < ids.size(); ++i) {
    const int32_t id = ids[i];
    out += str_cat(pad(std::to_string(i), 6), " ", pad(std::to_string(id), 8), " ",
                   pad(escape_for_display(pieces[size_t(id)]), 24), " \"",
                   escape_for_display(tok.token_bytes(id, false)), "\"\n");
  }
  out += str_cat(ids.size(), " tokens, ", text.size(), " bytes\n");
  write_all(out);
  return 0;
}

// Checks one id against the vocabulary.
Result<int32_t> checked_id(int64_t v, const Tokenizer& tok) {
  if (v < 0 || v >= tok.vocab_size()) {
    return make_error("token id ", v, " is outside the vocabulary (", tok.vocab_size(), ")");
  }
  return int32_t(v);
}

Result<int32_t> parse_id(std::string_view s, const Tokenizer& tok) {
  int64_t v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec == std::errc::result_out_of_range) {
    return make_error("token id ", s, " is outside the vocabulary (", tok.vocab_size(), ")");
  }
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return make_error("'", s, "' is not a token id");
  return checked_id(v, tok);
}

Result<std::vector<int32_t>> ids_from_json(const json& j, const Tokenizer& tok, const std::string& where) {
  if (!j.is_array()) return make_error(where, ": expected a JSON array of token ids");
  std::vector<int32_t> ids;
  ids.reserve(j.size());
  for (size_t i = 0; i < j.size(); ++i) {
    const json& e = j[i];
    if (!e.is_number_integer()) return make_error(where, ": element ", i, " is not an integer token id: ", e.dump());
    if (e.is_number_unsigned() && e.get<uint64_t>() > uint64_t(INT64_MAX)) {
      return make_error(where, ": token id ", e.dump(), " is outside the vocabulary (", tok.vocab_size(), ")");
    }
    auto id = checked_id(e.get<int64_t>(), tok);
    if (!id.ok()) return make_error(where, ": ", id.error());
    ids.push_back(id.value());
  }
  return ids;
}

// "-" input: a JSON array or a whitespace-separated list.
Result<std::vector<int32_t>> ids_from_text(const std::string& text, const Tokenizer& tok, const std::string& where) {
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && text[first] == '[') {
    TRY(json j, parse_json(text, where));
    return ids_from_json(j, tok, where);
  }
  std::vector<int32_t> ids;
  std::istringstream in(text);
  for (std::string word; in >> word;) {
    auto id = parse_id(word, tok);
    if (!id.ok()) return make_error(where, ": ", id.error());
    ids.push_back(id.value());
  }
  return ids;
}

int detokenize_main(const DetokenizeOptions& o) {
  auto loaded = load_tokenizer(o.model, o.tokenizer);
  if (!loaded.ok()) return report_error(loaded.error());
  const Tokenizer& tok = *loaded.value();
  if (o.lines) {
    if (!o.ids.empty()) return report_error("--lines reads the ids from stdin or -f FILE, not from arguments");
    auto r = read_input(o.file.empty() ? "-" : o.file);
    if (!r.ok()) return report_error(r.error());
    const std::string name = input_name(o.file.empty() ? "-" : o.file);
    std::string out;
    const std::vector<std::string_view> lines = split_lines(r.value());
    for (size_t i = 0; i < lines.size(); ++i) {
      const std::string where = str_cat(name, ":", i + 1);
      auto j = parse_json(lines[i], where);
      if (!j.ok()) return report_error(j.error());
      auto ids = ids_from_json(j.value(), tok, where);
      if (!ids.ok()) return report_error(ids.error());
      out += json_string(tok.decode(ids.value(), o.skip_special));
      out.push_back('\n');
    }
    write_all(out);
    return 0;
  }
  std::vector<int32_t> ids;
  if (!o.file.empty() || (o.ids.size() == 1 && o.ids[0] == "-")) {
    const std::string path = o.file.empty() ? "-" : o.file;
    auto r = read_input(path);
    if (!r.ok()) return report_error(r.error());
    auto parsed = ids_from_text(r.value(), tok, input_name(path));
    if (!parsed.ok()) return report_error(parsed.error());
    ids = std::move(parsed).value();
  } else {
    if (o.ids.empty()) return report_error("give token ids as arguments, or '-' to read them from stdin");
    for (const std::string& s : o.ids) {
      auto id = parse_id(s, tok);
      if (!id.ok()) return report_error(id.error());
      ids.push_back(id.value());
    }
  }
  const std::string text = tok.decode(ids, o.skip_special);
  write_all(o.json ? "{\"text\":" + json_string(text) + "}\n" : text + "\n");
  return 0;
}

void add_source_options(CLI::App* cmd, std::string* model, std::string* tokenizer) {
  auto* m = cmd->add_option("-m,--model", *model,
                            "Model whose tokenizer to use: a .gguf or .cbk file, or a HuggingFace directory");
  auto* t = cmd->add_option("--tokenizer", *tokenizer,
                            "Tokenizer file: tokenizer.json (tokenizer_config.json beside it is read too) or a .gguf");
  m->excludes(t);
}

}  // namespace

void add_tokenize(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<TokenizeOptions>();
  CLI::App* cmd = app.add_subcommand("tokenize", "Print the token ids and pieces of a text");
  cmd->footer("Invalid UTF-8 in the input is replaced by U+FFFD (one per maximal invalid subpart, as Python's\n"
              "bytes.decode('utf-8', 'replace') does) before encoding.\n");
  add_source_options(cmd, &o->model, &o->tokenizer);
  auto* p = cmd->add_option("-p,--prompt", o->prompt, "Text to tokenize");
  auto* f = cmd->add_option("-f,--file", o->file, "File to tokenize ('-': stdin)");
  p->excludes(f);
  cmd->add_flag("--json", o->json, "Print {\"ids\": [...], \"pieces\": [...]}");
  cmd->add_flag("--no-special", o->no_special, "Do not add BOS/EOS");
  cmd->add_flag("--lines", o->lines, "Batch: each line of FILE is a JSON string; print one JSON array of ids per line");
  cmd->add_flag("--bench", o->bench, "Time encoding FILE (single thread); print JSON {mb_s, tokens, seconds, ...}");
  cmd->add_flag("--per-line", o->per_line, "With --bench: encode each line (with its newline) separately");
  cmd->add_option("--reps", o->reps, "With --bench: repetitions; the median is reported")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  cmd->callback([o, p, exit_code] {
    o->has_prompt = p->count() > 0;
    *exit_code = tokenize_main(*o);
  });
}

void add_detokenize(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<DetokenizeOptions>();
  CLI::App* cmd = app.add_subcommand("detokenize", "Turn token ids back into text");
  add_source_options(cmd, &o->model, &o->tokenizer);
  cmd->add_option("ids", o->ids, "Token ids, or '-' to read a JSON array or whitespace-separated ids from stdin");
  cmd->add_option("-f,--file", o->file, "Read the ids from FILE instead (as for '-')");
  cmd->add_flag("--skip-special", o->skip_special, "Leave out BOS/EOS and other special tokens");
  cmd->add_flag("--json", o->json, "Print {\"text\": ...}");
  cmd->add_flag("--lines", o->lines, "Batch: each input line is a JSON array of ids; print one JSON string per line");
  cmd->callback([o, exit_code] { *exit_code = detokenize_main(*o); });
}

}  // namespace trapetum::cli
