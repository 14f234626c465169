// Chat template bad input: syntax errors and unsupported constructs name the construct and
// the line; runtime errors carry the line; hostile templates hit a limit (output size, loop
// iterations, nesting, string work) and fail cleanly instead of crashing or hanging.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "tokenizer/chat_template.h"

namespace trapetum {
namespace {

std::string parse_error(const std::string& source) {
  auto t = ChatTemplate::parse(source);
  EXPECT_FALSE(t.ok()) << "parsed: " << source;
  return t.ok() ? std::string() : t.error();
}

Result<std::string> render(const std::string& source, const ChatRenderOptions& o = {}) {
  auto t = ChatTemplate::parse(source);
  if (!t.ok()) return make_error("PARSE: ", t.error());
  return (*t)->render({{"user", "Hi"}, {"assistant", "Yo"}}, o);
}

std::string render_error(const std::string& source, const ChatRenderOptions& o = {}) {
  auto r = render(source, o);
  EXPECT_FALSE(r.ok()) << "rendered: " << source;
  return r.ok() ? std::string() : r.error();
}

#define EXPECT_HAS(haystack, needle) \
  EXPECT_NE(std::string(haystack).find(needle), std::string::npos) << (haystack)

TEST(ChatTemplateErrors, SyntaxErrorsNameTheLine) {
  EXPECT_HAS(parse_error("a\nb\n{{ 1 + }}"), "chat template line 3: unexpected end of print statement");
  EXPECT_HAS(parse_error("{{ 'abc }}"), "line 1: unterminated string literal");
  EXPECT_HAS(parse_error("x\n{{ a ! b }}"), "line 2: unexpected char '!'");
  EXPECT_HAS(parse_error("{{ (1 }}"), "unexpected '}', expected ')'");
  EXPECT_HAS(parse_error("{{ [1) }}"), "unexpected ')', expected ']'");
  EXPECT_HAS(parse_error("{{ }}"), "line 1: expected an expression");
  EXPECT_HAS(parse_error("{%%}"), "tag name expected");
  EXPECT_HAS(parse_error("{% set 1 = 2 %}"), "can't assign to '1'");
  EXPECT_HAS(parse_error("{% set true = 2 %}"), "can't assign to constant 'true'");
  EXPECT_HAS(parse_error("{% macro m(a=1, b) %}{% endmacro %}"), "non-default argument follows default");
  EXPECT_HAS(parse_error("{{ 99999999999999999999 }}"), "integer literal is too large");
  EXPECT_HAS(parse_error("\n\n{# never closed"), "line 3: missing end of comment tag");
  EXPECT_HAS(parse_error("{% raw %} never closed"), "missing end of raw directive");
  EXPECT_HAS(parse_error("{{ x is divisibleby is odd }}"), "cannot chain multiple tests");
  EXPECT_HAS(parse_error("{{ '\\xZZ' }}"), "truncated \\x escape");
  EXPECT_HAS(parse_error("{{ f(a=1, 2) }}"), "invalid syntax for function call");
}

TEST(ChatTemplateErrors, UnknownAndUnsupportedConstructs) {
  EXPECT_EQ(parse_error("x\n\n{% call m() %}{% endcall %}"), "chat template line 3: unsupported tag 'call'");
  EXPECT_HAS(parse_error("{% include 'other.jinja' %}"), "line 1: unsupported tag 'include'");
  EXPECT_HAS(parse_error("{% extends 'base' %}"), "unsupported tag 'extends'");
  EXPECT_HAS(parse_error("{% with x = 1 %}{% endwith %}"), "unsupported tag 'with'");
  EXPECT_HAS(parse_error("{% do x %}"), "unsupported tag 'do'");
  EXPECT_EQ(parse_error("a\n{% frobnicate %}"), "chat template line 2: unknown tag 'frobnicate'");
  EXPECT_EQ(parse_error("\n{{ x | frobnicate }}"), "chat template line 2: unknown filter 'frobnicate'");
  EXPECT_HAS(parse_error("{{ x | wordwrap(10) }}"), "line 1: unsupported filter 'wordwrap'");
  EXPECT_HAS(parse_error("{{ x | truncate }}"), "unsupported filter 'truncate'");
  EXPECT_EQ(parse_error("{{ x is frobnicated }}"), "chat template line 1: unknown test 'frobnicated'");
  EXPECT_HAS(parse_error("{% for x in y recursive %}{% endfor %}"), "unsupported recursive for loop");
  // As in jinja2, an unknown name inside an if statement or an inline if only fails if that
  // code runs; elsewhere (loop bodies included) it fails at parse time.
  EXPECT_HAS(parse_error("{% for x in [] %}{{ x | nope }}{% endfor %}"), "unknown filter 'nope'");
  EXPECT_EQ(render("{% if false %}{{ x | nope }}{% endif %}ok").value(), "ok");
  EXPECT_EQ(render("{{ x | nope if false }}").value(), "");
  EXPECT_EQ(render_error("\n{% if true %}{{ x | nope }}{% endif %}"),
            "chat template line 2: unknown filter 'nope'");
  EXPECT_EQ(render_error("{% if x is frobnicated %}{% endif %}"),
            "chat template line 1: unknown test 'frobnicated'");
  EXPECT_HAS(render_error("{% if true %}{{ x | wordwrap }}{% endif %}"), "unsupported filter 'wordwrap'");
  // Unsupported methods fail when called, naming the method.
  EXPECT_HAS(render_error("{{ '{}'.format(1) }}"), "unsupported str method 'format'");
  EXPECT_HAS(render_error("{{ 'a' % 1 }}"), "printf-style string formatting");
}

TEST(ChatTemplateErrors, UnbalancedBlocks) {
  EXPECT_EQ(parse_error("{% if x %}\nyes"),
            "chat template line 2: unexpected end of template, expected 'elif', 'else' or "
            "'endif' to close the 'if' opened on line 1");
  EXPECT_HAS(parse_error("{% for m in messages %}\n{% if x %}{% endfor %}"),
             "line 2: unexpected tag 'endfor', expected 'elif', 'else' or 'endif' to close the "
             "'if' opened on line 2");
  EXPECT_HAS(parse_error("{% endif %}"), "line 1: unexpected tag 'endif'");
  EXPECT_HAS(parse_error("a\n{% else %}"), "line 2: unexpected tag 'else'");
  EXPECT_HAS(parse_error("{% for x in y %}"), "expected 'endfor' or 'else' to close the 'for'");
  EXPECT_HAS(parse_error("{% macro m() %}x"), "expected 'endmacro'");
  EXPECT_HAS(parse_error("{% set x %}x"), "expected 'endset'");
  EXPECT_HAS(parse_error("{% if x %}{% endif %}{% endif %}"), "unexpected tag 'endif'");
  EXPECT_HAS(parse_error("{% break %}"), "'break' outside of a for loop");
  EXPECT_HAS(parse_error("{% for x in y %}{% macro m() %}{% continue %}{% endmacro %}{% endfor %}"),
             "'continue' outside of a for loop");
  EXPECT_HAS(parse_error("{{ x }"), "unexpected '}'");
  EXPECT_HAS(parse_error("{{ x"), "unexpected end of template, expected '}}'");
  EXPECT_HAS(parse_error("{% if x"), "unexpected end of template, expected '%}'");
}

TEST(ChatTemplateErrors, RuntimeErrorsNameTheLine) {
  EXPECT_EQ(render_error("line1\nline2\n{{ raise_exception('bad thing') }}"),
            "chat template line 3: bad thing");
  EXPECT_EQ(render_error("{% for m in messages %}\n{{ m.content + 1 }}\n{% endfor %}"),
            "chat template line 2: can only concatenate str (not \"int\") to str");
  EXPECT_EQ(render_error("\n{{ foo.bar }}"), "chat template line 2: 'foo' is undefined");
  EXPECT_EQ(render_error("{{ 'a' + missing }}"), "chat template line 1: 'missing' is undefined");
  EXPECT_HAS(render_error("{{ d.x.y }}", [] {
               ChatRenderOptions o;
               o.extra_context_json = R"({"d": {}})";
               return o;
             }()),
             "'dict object' has no attribute 'x'");
  EXPECT_HAS(render_error("{{ 1 // 0 }}"), "integer division or modulo by zero");
  EXPECT_HAS(render_error("{{ 1 / 0 }}"), "division by zero");
  EXPECT_HAS(render_error("{{ messages.append(1) }}"), "unsafe");
  EXPECT_HAS(render_error("{% set d = {} %}{% set d.x = 1 %}"), "non-namespace");
  EXPECT_HAS(render_error("{% set ns = namespace() %}{% set ns._x = 1 %}"), "underscore");
  EXPECT_HAS(render_error("{% set a, b = [1, 2, 3] %}"), "too many values to unpack");
  EXPECT_HAS(render_error("{% macro m(a) %}{% endmacro %}{{ m(1, 2) }}"), "takes not more than 1 argument");
  EXPECT_HAS(render_error("{% macro m(a) %}{% endmacro %}{{ m(b=1) }}"), "no keyword argument 'b'");
  EXPECT_HAS(render_error("{{ missing | tojson }}"), "not JSON serializable");
  EXPECT_HAS(render_error("{{ 1 < 'a' }}"), "'<' not supported between instances of 'int' and 'str'");
  EXPECT_HAS(render_error("{{ 'x' | trim(1, 2) }}"), "takes at most 1 argument");
  EXPECT_HAS(render_error("{{ 'a'.split('') }}"), "empty separator");
  EXPECT_HAS(render_error("{{ [1][::0] }}"), "slice step cannot be zero");
  EXPECT_HAS(render_error("{{ 2 ** 100 }}"), "integer overflow");
  EXPECT_HAS(render_error("{{ none() }}"), "'NoneType' object is not callable");
  EXPECT_HAS(render_error("{% for x in 5 %}{% endfor %}"), "'int' object is not iterable");
}

TEST(ChatTemplateErrors, BadRenderInput) {
  auto t = ChatTemplate::parse("{{ messages | length }}");
  ASSERT_TRUE(t.ok());
  ChatRenderOptions o;
  EXPECT_HAS((*t)->render_json("[{", o).error(), "not valid JSON");
  EXPECT_HAS((*t)->render_json("{}", o).error(), "must be a JSON array");
  EXPECT_HAS((*t)->render_json("[1]", o).error(), "must be a JSON object");
  o.extra_context_json = "[1]";
  EXPECT_HAS((*t)->render({}, o).error(), "extra_context_json must be a JSON object");
  o.extra_context_json = "{";
  EXPECT_HAS((*t)->render({}, o).error(), "extra_context_json is not valid JSON");
  std::string deep = std::string(1000, '[') + std::string(1000, ']');
  o.extra_context_json = "{\"x\": " + deep + "}";
  EXPECT_HAS((*t)->render({}, o).error(), "nested too deeply");
}

TEST(ChatTemplateLimits, OutputSize) {
  EXPECT_HAS(render_error("{% for i in range(100000) %}{{ 'abcdefghij' * 100 }}{% endfor %}"),
             "output exceeds the limit of 16777216 bytes");
  EXPECT_HAS(render_error("{{ 'x' * 100000000 }}"), "exceeds the limit");
  EXPECT_HAS(render_error("{% set ns = namespace(s='xx') %}{% for i in range(40) %}"
                          "{% set ns.s = ns.s + ns.s %}{% endfor %}"),
             "exceeds the limit");
  ChatRenderOptions small;
  small.limits.max_output_bytes = 10;
  EXPECT_HAS(render_error("{{ 'x' * 11 }}", small), "output exceeds the limit of 10 bytes");
  EXPECT_TRUE(render("{{ 'x' * 10 }}", small).ok());
}

TEST(ChatTemplateLimits, LoopIterations) {
  auto start = std::chrono::steady_clock::now();
  EXPECT_HAS(render_error("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"),
             "loop iterations");
  EXPECT_HAS(render_error("{{ range(1000000) | length }}"), "Range too big");
  EXPECT_HAS(render_error("{{ [1] * 100000000 }}"), "limit");
  EXPECT_HAS(render_error("{% set s = 'x' * 8000000 %}{{ s | list | length }}"), "loop iterations");
  // Exponential macro recursion that stays shallow: the call count is bounded too.
  EXPECT_HAS(render_error("{% macro f(n) %}{% if n < 40 %}{{ f(n + 1) }}{{ f(n + 1) }}{% endif %}"
                          "{% endmacro %}{{ f(0) }}"),
             "loop iterations and macro calls");
  ChatRenderOptions small;
  small.limits.max_iterations = 5;
  EXPECT_HAS(render_error("{% for i in range(3) %}{% for j in range(3) %}{% endfor %}{% endfor %}", small),
             "limit of 5 loop iterations");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
}

TEST(ChatTemplateLimits, RecursionDepth) {
  EXPECT_HAS(render_error("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}"),
             "nesting exceeds the limit of 400");
  std::string parens = "{{ " + std::string(300, '(') + "1" + std::string(300, ')') + " }}";
  EXPECT_HAS(parse_error(parens), "nested too deeply");
  std::string filters = "{{ 1";
  for (int i = 0; i < 1000; ++i) filters += "|abs";
  EXPECT_HAS(parse_error(filters + " }}"), "nested too deeply");
  std::string sums = "{{ 1";
  for (int i = 0; i < 1000; ++i) sums += " + 1";
  EXPECT_HAS(parse_error(sums + " }}"), "nested too deeply");
  std::string ifs;
  for (int i = 0; i < 500; ++i) ifs += "{% if true %}";
  EXPECT_HAS(parse_error(ifs), "nested too deeply");
  EXPECT_HAS(parse_error("{{ " + std::string(500, '-') + "1 }}"), "nested too deeply");
  EXPECT_HAS(parse_error("{{ " + std::string(500, '[') + std::string(500, ']') + " }}"), "nested too deeply");
  // Values can't be nested without bound either (repr, ==, tojson recurse).
  EXPECT_HAS(render_error("{% set ns = namespace(x=[]) %}{% for i in range(1000) %}"
                          "{% set ns.x = [ns.x] %}{% endfor %}"),
             "nested deeper than");
  // A namespace that holds itself prints like Python's recursive repr.
  auto r = render("{% set ns = namespace() %}{% set ns.self = ns %}{{ ns }}");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(*r, "<Namespace {'self': <Namespace {...}>}>");
}

TEST(ChatTemplateLimits, StringWork) {
  auto start = std::chrono::steady_clock::now();
  EXPECT_HAS(render_error("{% set s = 'x' * 16000000 %}{% for i in range(100000) %}"
                          "{{ s | length }}{% endfor %}"),
             "work limit");
  EXPECT_HAS(render_error("{% set s = 'x' * 16000000 %}{% for i in range(100000) %}"
                          "{% set y = s == s ~ '' %}{% endfor %}"),
             "work limit");
  EXPECT_HAS(render_error("{% set l = ['x' * 16000000] * 1000 %}{% for i in range(100) %}"
                          "{{ l == l }}{% endfor %}"),
             "work limit");
  EXPECT_HAS(render_error("{% set s = 'x' * 16000000 %}{% for i in range(100000) %}"
                          "{% set y = s[5] %}{% endfor %}"),
             "work limit");
  // Substring search stays linear on adversarial input.
  auto r = render("{% set s = 'a' * 8000000 %}{% set t = 'a' * 4000000 ~ 'b' %}{{ t in s }}{{ s.count(t) }}");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(*r, "False0");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
}

}  // namespace
}  // namespace trapetum
