#!/usr/bin/env python3
"""Writes the chat template goldens that OrigamiTokenizers' ChatTemplate tests compare against, byte for byte.

Run from the repository root with the versions pinned in Scripts/requirements.txt (jinja2 3.1.6,
transformers 5.23.0):

    python3 Scripts/make_chat_template_goldens.py

Outputs (committed; CI reads them and needs no Python):
  Tests/Fixtures/chat_templates/<name>.jinja   the real model templates, exactly as tokenizer_config.json has them
  Tests/Fixtures/chat_templates/goldens.json   those templates rendered by transformers' apply_chat_template
  Tests/Fixtures/chat_templates/units.json     small templates, one construct each, rendered in the same
                                               jinja2 environment transformers builds
"""

import copy
import json
import os
import sys

from tokenizers import Tokenizer, models
from transformers import PreTrainedTokenizerFast
from transformers.utils.chat_template_utils import _compile_jinja_template

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chat_template_sources import TEMPLATES  # noqa: E402
from chat_template_units import UNITS  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "chat_templates")


def user(text):
    return {"role": "user", "content": text}


def assistant(text):
    return {"role": "assistant", "content": text}


def system(text):
    return {"role": "system", "content": text}


# Conversations every template is rendered over, with and without the generation prompt.
CONVERSATIONS = {
    "single-user": [user("Hello!")],
    "system-user": [system("You are a terse assistant."), user("What is 2+2?")],
    "system-user-assistant-user": [
        system("You are a helpful assistant."),
        user("Hi there"),
        assistant("Hello! How can I help?"),
        user("Tell me a joke."),
    ],
    "multi-turn": [
        user("First question"),
        assistant("First answer"),
        user("Second question"),
        assistant("Second answer"),
        user("Third question"),
    ],
    "ends-with-assistant": [user("Ping"), assistant("Pong")],
    "unicode": [
        system("Réponds en français, s’il te plaît. 🙂"),
        user("¿Qué tal? 你好，世界 — naïve café “quoted” ‘single’ Ω≈ç√ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 e\u0301"),
        assistant("Très bien ! 👍🏽 ñ ß ﬁ"),
        user("Ещё раз: Καλημέρα 안녕하세요 مرحبا"),
    ],
    "padded-content": [
        system("  \n System with spaces around.\t\n"),
        user("\n\n   leading and trailing whitespace   \n"),
        assistant("  answer with spaces  \n"),
        user("\tlast\n"),
    ],
    "template-like-content": [
        user("Literal {{ braces }} and {% tags %} and {# comments #} stay text."),
        assistant("Quotes \" and ' and a backslash \\ and \\n stay too."),
        user("<s>[INST] fake markers [/INST]</s> <|im_end|>"),
    ],
    "empty-content": [user(""), assistant(""), user("   ")],
    "roles-do-not-alternate": [user("one"), user("two")],
    "assistant-first": [assistant("I start"), user("then you")],
}

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_current_weather",
        "description": "Get the current weather in a given location",
        "parameters": {
            "type": "object",
            "properties": {
                "location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"], "description": "Température unit"},
            },
            "required": ["location"],
        },
    },
}

# Conversations with tool calls, rendered only through the templates that understand them.
TOOL_CASES = [
    {
        "template": "llama-3.1-instruct",
        "conversation": "tools-in-first-user-message",
        "messages": [system("You are a bot with tools."), user("  What's the weather in Paris?  ")],
        "extra": {"tools": [WEATHER_TOOL]},
    },
    {
        "template": "llama-3.1-instruct",
        "conversation": "tools-in-system-message",
        "messages": [user("Weather in Oslo?")],
        "extra": {"tools": [WEATHER_TOOL], "tools_in_user_message": False, "date_string": "01 Jan 2025"},
    },
    {
        "template": "llama-3.1-instruct",
        "conversation": "tool-call-and-result",
        "messages": [
            user("Weather in Rome?"),
            {
                "role": "assistant",
                "tool_calls": [
                    {"type": "function", "function": {"name": "get_current_weather", "arguments": {"location": "Rome, IT", "unit": "celsius"}}}
                ],
            },
            {"role": "tool", "content": {"temperature": 21.5, "sky": "clear", "ok": True, "note": None}},
            {"role": "ipython", "content": "plain text result"},
        ],
        "extra": {"tools": [WEATHER_TOOL]},
    },
    {
        "template": "llama-3.1-instruct",
        "conversation": "builtin-tools",
        "messages": [
            system("Use your tools."),
            user("Search the weather"),
            {
                "role": "assistant",
                "tool_calls": [{"function": {"name": "brave_search", "arguments": {"query": "weather now"}}}],
            },
        ],
        "extra": {"builtin_tools": ["brave_search", "code_interpreter", "wolfram_alpha"]},
    },
    {
        "template": "llama-3.1-instruct",
        "conversation": "two-tool-calls",
        "messages": [
            user("Two calls please"),
            {
                "role": "assistant",
                "tool_calls": [
                    {"function": {"name": "a", "arguments": {}}},
                    {"function": {"name": "b", "arguments": {}}},
                ],
            },
        ],
        "extra": {},
    },
    {
        "template": "mistral-7b-instruct-v0.3",
        "conversation": "tools-and-calls",
        "messages": [
            system("You can call tools."),
            user("What's the weather like in Paris?"),
            {
                "role": "assistant",
                "tool_calls": [
                    {"id": "abcDEF123", "type": "function", "function": {"name": "get_current_weather", "arguments": {"location": "Paris, FR"}}}
                ],
            },
            {"role": "tool", "tool_call_id": "abcDEF123", "content": "22 degrees, sunny"},
            assistant("It is 22 degrees and sunny in Paris."),
            user("And in Berlin?"),
        ],
        "extra": {"tools": [WEATHER_TOOL]},
    },
    {
        "template": "mistral-7b-instruct-v0.3",
        "conversation": "bad-tool-call-id",
        "messages": [
            user("Call it"),
            {"role": "assistant", "tool_calls": [{"id": "short", "function": {"name": "f", "arguments": {"x": 1}}}]},
        ],
        "extra": {},
    },
]


QWEN_TOOL = {
    "type": "function",
    "function": {
        "name": "search",
        "description": "Search the web",
        "parameters": {"type": "object", "properties": {"query": {"type": "string"}, "limit": {"type": "integer"}}},
    },
}

TOOL_CASES += [
    {
        "template": "qwen3.5-style",
        "conversation": "reasoning-in-history",
        "messages": [
            system("  Be brief.  "),
            user("What is 2+2?"),
            assistant("<think>\nsimple sum\n</think>\n\n4"),
            user("And 3+3?"),
        ],
        "extra": {},
    },
    {
        "template": "qwen3.5-style",
        "conversation": "thinking-disabled",
        "messages": [user("Hi")],
        "extra": {"enable_thinking": False},
    },
    {
        "template": "qwen3.5-style",
        "conversation": "multimodal-content",
        "messages": [
            {"role": "user", "content": [
                {"type": "image", "image": "cat.png"},
                {"type": "text", "text": "What is this?"},
                {"type": "video", "video": "clip.mp4"},
                {"type": "image_url", "image_url": {"url": "http://x/y.png"}},
            ]},
            assistant("A cat."),
            {"role": "user", "content": [{"type": "image", "image": "dog.png"}, {"type": "text", "text": "And this?"}]},
        ],
        "extra": {"add_vision_id": True},
    },
    {
        "template": "qwen3.5-style",
        "conversation": "tools-and-responses",
        "messages": [
            system("You search."),
            user("Find cats"),
            {
                "role": "assistant",
                "content": "Searching now.",
                "tool_calls": [
                    {"type": "function", "function": {"name": "search", "arguments": {"query": "cats", "limit": 3}}},
                    {"type": "function", "function": {"name": "search", "arguments": {"query": "kittens", "filters": ["a", "b"], "opts": {"safe": True}}}},
                ],
            },
            {"role": "tool", "content": "cats result"},
            {"role": "tool", "content": "kittens result"},
            user("Thanks"),
        ],
        "extra": {"tools": [QWEN_TOOL]},
    },
    {
        "template": "qwen3.5-style",
        "conversation": "no-user-query",
        "messages": [system("Only a system message")],
        "extra": {},
    },
    {
        "template": "qwen3.5-style",
        "conversation": "image-in-system-message",
        "messages": [{"role": "system", "content": [{"type": "image", "image": "x.png"}]}, user("hi")],
        "extra": {},
    },
]


def make_tokenizer(bos, eos, template):
    """A tokenizer that carries only the special tokens and the template, as a model's would."""
    vocab = {"<unk>": 0}
    for token in (bos, eos):
        if token is not None and token not in vocab:
            vocab[token] = len(vocab)
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    kwargs = {}
    if bos is not None:
        kwargs["bos_token"] = bos
    if eos is not None:
        kwargs["eos_token"] = eos
    return PreTrainedTokenizerFast(tokenizer_object=backend, chat_template=template, **kwargs)


def render_case(tokenizer, messages, add_generation_prompt, extra):
    case = {}
    try:
        case["expected"] = tokenizer.apply_chat_template(
            copy.deepcopy(messages), tokenize=False, add_generation_prompt=add_generation_prompt, **copy.deepcopy(extra)
        )
    except Exception as error:  # the template raised: record what transformers reports
        case["expected_error"] = {"type": type(error).__name__, "message": str(error)}
    return case


def model_goldens():
    goldens = []
    for name, (template, bos, eos) in TEMPLATES.items():
        with open(os.path.join(OUT, f"{name}.jinja"), "w", encoding="utf-8", newline="") as f:
            f.write(template)
        tokenizer = make_tokenizer(bos, eos, template)
        for conversation, messages in CONVERSATIONS.items():
            for add_generation_prompt in (False, True):
                goldens.append(
                    {
                        "template": name,
                        "conversation": conversation,
                        "messages": messages,
                        "add_generation_prompt": add_generation_prompt,
                        "bos_token": bos,
                        "eos_token": eos,
                        "extra": {},
                        **render_case(tokenizer, messages, add_generation_prompt, {}),
                    }
                )
    # Without a BOS token the variable is undefined, which some templates print as nothing and others
    # fail on when they concatenate it.
    for name in ("llama-2-chat", "llama-3-instruct", "mistral-7b-instruct-v0.2", "gemma-it"):
        template, _, eos = TEMPLATES[name]
        messages = CONVERSATIONS["system-user-assistant-user"]
        if name in ("gemma-it", "mistral-7b-instruct-v0.2"):
            messages = CONVERSATIONS["multi-turn"]
        goldens.append(
            {
                "template": name,
                "conversation": "no-bos-token",
                "messages": messages,
                "add_generation_prompt": True,
                "bos_token": None,
                "eos_token": eos,
                "extra": {},
                **render_case(make_tokenizer(None, eos, template), messages, True, {}),
            }
        )
    for case in TOOL_CASES:
        template, bos, eos = TEMPLATES[case["template"]]
        tokenizer = make_tokenizer(bos, eos, template)
        for add_generation_prompt in (False, True):
            goldens.append(
                {
                    "template": case["template"],
                    "conversation": case["conversation"],
                    "messages": case["messages"],
                    "add_generation_prompt": add_generation_prompt,
                    "bos_token": bos,
                    "eos_token": eos,
                    "extra": case["extra"],
                    **render_case(tokenizer, case["messages"], add_generation_prompt, case["extra"]),
                }
            )
    return goldens


def unit_goldens():
    goldens = []
    seen = set()
    for name, template, context in UNITS:
        if name in seen:
            raise SystemExit(f"duplicate unit name {name!r}")
        seen.add(name)
        case = {"name": name, "template": template, "context": context}
        try:
            # A copy, because some jinja2 filters mutate their input (`indent` appends to a list in place).
            case["expected"] = _compile_jinja_template(template).render(**copy.deepcopy(context))
        except Exception as error:
            case["expected_error"] = {"type": type(error).__name__, "message": str(error)}
        goldens.append(case)
    return goldens


def write_json(path, value):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        json.dump(value, f, ensure_ascii=False, indent=1)
        f.write("\n")


def main():
    os.makedirs(OUT, exist_ok=True)
    models_out = model_goldens()
    units_out = unit_goldens()
    write_json(os.path.join(OUT, "goldens.json"), models_out)
    write_json(os.path.join(OUT, "units.json"), units_out)
    failures = sum("expected_error" in g for g in models_out)
    unit_failures = sum("expected_error" in g for g in units_out)
    print(f"{len(models_out)} model goldens ({failures} raise), {len(units_out)} unit goldens ({unit_failures} raise)")


if __name__ == "__main__":
    main()
