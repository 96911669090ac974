#!/usr/bin/env python3
"""Train small tokenizers shaped like real model families and record what transformers does with them.

Writes, under Tests/Fixtures/tokenizers/:
  <family>/tokenizer.json, tokenizer_config.json   a tokenizer trained here, saved by transformers
  <family>/goldens.json                            encode/decode results from AutoTokenizer
  components.json                                  single pipeline stages (pre-tokenizers, normalizers,
                                                   decoders, post-processors, BPE options) run by `tokenizers`
                                                   alone, plus the Unicode classes Oniguruma uses for \\s \\p{L}
                                                   \\p{N}

Families: gpt2, llama3, qwen2, falcon, bloom, llama2 (legacy Prepend/Replace normalizer), llama2-hf (the same
files named LlamaTokenizer, which transformers 5 rebuilds), mistral (Metaspace "first"), misc (stages the real
families do not use). Each copies the pipeline structure of the real model's tokenizer.json (regexes,
normalizers, decoders, post-processors, special tokens) and only shrinks the vocabulary. Training is seeded
and single-threaded, so reruns write identical files. Versions: Scripts/requirements.txt. CI never runs this;
it reads the committed outputs.

    python3 Scripts/make_tokenizer_goldens.py
"""

import json
import os
import random
import shutil
import sys
import tempfile

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("RAYON_NUM_THREADS", "1")

import tokenizers  # noqa: E402
import transformers  # noqa: E402
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers  # noqa: E402
from tokenizers import processors, trainers  # noqa: E402
from transformers import AutoTokenizer, PreTrainedTokenizerFast  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "tokenizers")

GPT2_REGEX = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
LLAMA3_REGEX = (
    r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"""
    r"""|\s*[\r\n]+|\s+(?!\S)|\s+"""
)
QWEN2_REGEX = (
    r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"""
    r"""|\s*[\r\n]+|\s+(?!\S)|\s+"""
)
BLOOM_REGEX = " ?[^(\\s|[.,!?…。，、।۔،])]+"
FALCON_DIGITS_REGEX = "[0-9][0-9][0-9]"


# ---------------------------------------------------------------------------------------------------------------
# Corpus: mixed English, code, numbers, CJK, emoji and accented text, generated from a fixed seed.

WORDS = (
    "the of and to in is was for that it with as his on be at by had this not are but from or have an they which "
    "one you were her all she there would their we him been has when who will more no if out so said what up its "
    "about into than them can only other new some could time these two may then do first any my now such like our "
    "over man me even most made after also did many before must through back years where much your way well down "
    "should because each just those people how too little state good very make world still own see men work long "
    "get here between both life being under never day same another know while last might us great old year off "
    "come since against go came right used take three tokenizer model language engine memory machine layer weight "
    "quantize server stream decode encode byte merge vocabulary Hello World Swift Python Rust running planning "
    "don't can't won't it's I'm you're we've they'll she'd John's OK USA NASA iPhone JavaScript"
).split()
ACCENTED = "café naïve résumé façade Ångström über straße déjà vu crème brûlée São Paulo Zürich Ærøskøbing piñata".split()
CYRILLIC = "Привет мир это тест русский язык модель".split()
GREEK = "Καλημέρα κόσμε γλώσσα".split()
CJK = ["中文", "测试", "你好", "世界", "模型", "语言", "日本語", "テキスト", "カタカナ", "ひらがな", "한국어", "문장", "東京", "。", "，", "、"]
EMOJI = ["😀", "👍", "👍🏽", "🎉", "❤️", "🔥", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🚀", "✨"]
CODE = [
    "def add(a, b):\n    return a + b\n",
    "for (int i = 0; i < n; ++i) {\n\tsum += values[i];\n}\n",
    "let x = [1, 2, 3].map { $0 * 2 }\n",
    'print(f"{name!r}: {value:.2f}")\n',
    "if (x != null && y >= 10) { return x->next; }\n",
    "SELECT id, name FROM users WHERE age > 21 ORDER BY name;\n",
    '{"key": "value", "list": [true, false, null], "n": 3.5e-3}\n',
    "#include <stdio.h>\nint main(void) { printf(\"hi\\n\"); return 0; }\n",
    "    # indented comment\n        deeper = {'a': 1}\n",
]


def make_corpus(seed: int = 1234, lines: int = 2500) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(lines):
        kind = rng.random()
        if kind < 0.45:
            n = rng.randint(4, 18)
            words = [rng.choice(WORDS) for _ in range(n)]
            if rng.random() < 0.3:
                words.insert(rng.randrange(len(words)), str(rng.randint(0, 10 ** rng.randint(1, 7))))
            if rng.random() < 0.2:
                words.insert(rng.randrange(len(words)), rng.choice(ACCENTED))
            sentence = " ".join(words)
            out.append(sentence[0].upper() + sentence[1:] + rng.choice([".", "!", "?", ",", ":", "..."]))
        elif kind < 0.6:
            out.append(rng.choice(CODE))
        elif kind < 0.7:
            out.append("".join(rng.choice(CJK) for _ in range(rng.randint(3, 10))))
        elif kind < 0.78:
            out.append(" ".join(rng.choice(ACCENTED + CYRILLIC + GREEK) for _ in range(rng.randint(3, 8))))
        elif kind < 0.85:
            out.append(" ".join(rng.choice(WORDS + EMOJI) for _ in range(rng.randint(3, 8))))
        elif kind < 0.93:
            numbers = [str(rng.randint(0, 10 ** rng.randint(1, 12))) for _ in range(rng.randint(2, 6))]
            out.append(rng.choice([", ", " ", "-", "/", " + "]).join(numbers))
        else:
            out.append(rng.choice(["  ", "\t", "\n", "   ", "\n\n"]).join(rng.choice(WORDS) for _ in range(5)))
    return out


CORPUS = make_corpus()


# ---------------------------------------------------------------------------------------------------------------
# Texts every family is checked on. Family-specific texts (their special tokens) are appended per family.

COMMON_TEXTS = [
    "Hello, world!",
    "",
    " leading space",
    "trailing space ",
    "  two leading spaces and   three inside",
    "tabs\tand\nnewlines\n\n\nend",
    "\r\nwindows line\r\nendings ",
    "Numbers: 1234567890 3.14159 -42 1,000,000 007",
    "A long number 12345678901234567890123456789 and 2024-01-31",
    "It's John's book; we'll see, they've gone, I'm here, you'd know, don't. IT'S LOUD, WE'LL",
    "café naïve résumé Ångström façade coöperate Zürich",
    "decomposed: cafe\u0301 and e\u0308 and A\u030a",
    "Emoji: 😀 👍🏽 👨‍👩‍👧‍👦 🏳️‍🌈 ❤️ 🚀✨",
    "中文测试：你好，世界！这是一个模型。",
    "日本語のテキストとカタカナ、ひらがな。",
    "한국어 문장입니다.",
    "Русский текст и ελληνικά γράμματα",
    "العربية والعبرية עברית",
    "हिन्दी पाठ और संख्या १२३",
    "def add(a, b):\n    return a + b  # sum\n",
    "for (int i = 0; i < n; ++i) { sum += a[i]; }",
    '{"key": [1, 2, 3], "nested": {"a": null}}',
    "https://example.com/path?q=1&r=2#frag",
    "control \u0000\u0001 chars \u007f, private use \ue000 and math 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ſ 'ſ",
    "spaces\u00a0nbsp\u2003em\u3000ideographic\u2028line",
    "    ",
    "\n",
    "supercalifragilisticexpialidocious antidisestablishmentarianism",
    "!!!??? ... --- *** ~~~ ((()))",
    "ALL CAPS SHOUTING AND MiXeD cAsE",
    "½ ² ٣٤٥ Ⅻ numerals",
]


def family_texts(extra: list[str]) -> list[str]:
    return COMMON_TEXTS + extra


# ---------------------------------------------------------------------------------------------------------------
# Training helpers


def frequent_alphabet(size: int) -> list[str]:
    """The most frequent corpus characters, ties broken by code point. Passing these as the initial alphabet with
    limit_alphabet equal to their number keeps training deterministic: the trainer's own cut breaks ties by
    hash order."""
    counts = {}
    for line in CORPUS:
        for c in line:
            counts[c] = counts.get(c, 0) + 1
    return sorted(counts, key=lambda c: (-counts[c], c))[:size]


def renumber(data: dict, specials: list[str]) -> None:
    """The trainer numbers suffixed characters ("a</w>") in hash order; renumber the vocabulary (specials, then
    other unmerged tokens sorted, then merge results in merge order) so reruns write the same file."""
    merged = []
    for a, b in data["model"]["merges"]:
        token = a + b
        if token not in merged:
            merged.append(token)
    base = sorted(t for t in data["model"]["vocab"] if t not in specials and t not in set(merged))
    data["model"]["vocab"] = {t: i for i, t in enumerate(specials + base + merged)}
    for token in data["added_tokens"]:
        token["id"] = data["model"]["vocab"][token["content"]]


def byte_level_trainer(vocab_size: int, special: list[str]) -> trainers.BpeTrainer:
    return trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=special,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )


def sentencepiece_like(tok: Tokenizer, vocab_size: int, specials: list[str], limit_alphabet: int) -> dict:
    """Train on ▁-words, then lay the vocabulary out like Llama's: specials, 256 byte tokens, learned pieces."""
    alphabet = frequent_alphabet(limit_alphabet)
    if "▁" not in alphabet:
        alphabet.append("▁")
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[],
        initial_alphabet=alphabet,
        limit_alphabet=len(alphabet),
        show_progress=False,
    )
    tok.train_from_iterator(CORPUS, trainer)
    data = json.loads(tok.to_str())
    learned = sorted(data["model"]["vocab"].items(), key=lambda kv: kv[1])
    vocab = {}
    for name in specials:
        vocab[name] = len(vocab)
    for b in range(256):
        vocab[f"<0x{b:02X}>"] = len(vocab)
    for piece, _ in learned:
        if piece not in vocab:
            vocab[piece] = len(vocab)
    data["model"]["vocab"] = vocab
    return data


def added(content, id, special=True, normalized=None, lstrip=False, rstrip=False, single_word=False):
    return {
        "id": id,
        "content": content,
        "single_word": single_word,
        "lstrip": lstrip,
        "rstrip": rstrip,
        "normalized": (not special) if normalized is None else normalized,
        "special": special,
    }


def append_added(data: dict, tokens: list[dict]) -> None:
    """Adds tokens after the model vocabulary (ids continue from the vocabulary size)."""
    next_id = max(data["model"]["vocab"].values()) + 1
    existing = {t["content"] for t in data["added_tokens"]}
    for token in tokens:
        if token["content"] in existing:
            continue
        if token["content"] in data["model"]["vocab"]:
            token["id"] = data["model"]["vocab"][token["content"]]
        else:
            token["id"] = next_id
            next_id += 1
        data["added_tokens"].append(token)


def save_family(name: str, data: dict, config: dict, texts: list[str], patch_json=None) -> None:
    """Saves through transformers, rewrites what the real files spell differently, and records goldens."""
    directory = os.path.join(OUT, name)
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory)
    backend = Tokenizer.from_str(json.dumps(data))
    init = {k: v for k, v in config.items() if k not in ("chat_template", "tokenizer_config_extra")}
    fast = PreTrainedTokenizerFast(tokenizer_object=backend, **init)
    if "chat_template" in config:
        fast.chat_template = config["chat_template"]
    with tempfile.TemporaryDirectory() as tmp:
        fast.save_pretrained(tmp)
        for file in ("tokenizer.json", "tokenizer_config.json"):
            shutil.copy(os.path.join(tmp, file), os.path.join(directory, file))
        if os.path.exists(os.path.join(tmp, "chat_template.jinja")):
            shutil.copy(os.path.join(tmp, "chat_template.jinja"), os.path.join(directory, "chat_template.jinja"))
    tokenizer_path = os.path.join(directory, "tokenizer.json")
    saved = json.load(open(tokenizer_path, encoding="utf-8"))
    # Building PreTrainedTokenizerFast with add_bos_token/add_eos_token rewrites the post-processor; the file
    # keeps the one the real model ships, and the flags go to tokenizer_config.json as real models have them.
    saved["post_processor"] = data["post_processor"]
    if patch_json is not None:
        patch_json(saved)
    with open(tokenizer_path, "w", encoding="utf-8") as f:
        json.dump(saved, f, ensure_ascii=False, indent=None, separators=(",", ":"))
    config_path = os.path.join(directory, "tokenizer_config.json")
    saved_config = json.load(open(config_path, encoding="utf-8"))
    saved_config.update(config.get("tokenizer_config_extra", {}))
    for flag in ("add_bos_token", "add_eos_token"):
        if flag in config:
            saved_config[flag] = config[flag]
    with open(config_path, "w", encoding="utf-8") as f:
        json.dump(saved_config, f, ensure_ascii=False, indent=2)

    loaded = AutoTokenizer.from_pretrained(directory)
    goldens = []
    for text in texts:
        ids = loaded(text)["input_ids"]
        ids_no_special = loaded(text, add_special_tokens=False)["input_ids"]
        goldens.append(
            {
                "text": text,
                "ids": ids,
                "ids_no_special": ids_no_special,
                "tokens": loaded.convert_ids_to_tokens(ids),
                # Normalized added tokens print in normalized form but are looked up by their written form.
                "ids_of_tokens": [loaded._tokenizer.token_to_id(t) for t in loaded.convert_ids_to_tokens(ids)],
                "decoded": loaded.decode(ids),
                "decoded_skip_special": loaded.decode(ids, skip_special_tokens=True),
                "decoded_no_special": loaded.decode(ids_no_special),
            }
        )
    meta = {
        "family": name,
        "class": type(loaded).__name__,
        "vocab_size": len(loaded),
        "bos_token_id": loaded.bos_token_id,
        "eos_token_id": loaded.eos_token_id,
        # transformers' all_special_ids: the named special tokens (bos, eos, unk, pad...).
        "named_special_ids": sorted(set(loaded.all_special_ids)),
        # Every added token marked special: what decode(skip_special_tokens=True) drops.
        "special_added_ids": sorted(i for i, t in loaded.added_tokens_decoder.items() if t.special),
        "cases": goldens,
    }
    with open(os.path.join(directory, "goldens.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, ensure_ascii=False, indent=1)
    print(f"{name}: vocab {len(loaded)}, {len(goldens)} cases, class {type(loaded).__name__}")


def merges_as_strings(saved: dict) -> None:
    """GPT-2's and older files spell each merge as one string "a b"; newer ones as a pair."""
    saved["model"]["merges"] = [" ".join(pair) for pair in saved["model"]["merges"]]


# ---------------------------------------------------------------------------------------------------------------
# Families


def gpt2():
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True)
    tok.decoder = decoders.ByteLevel(add_prefix_space=True, trim_offsets=True, use_regex=True)
    tok.post_processor = processors.ByteLevel(add_prefix_space=True, trim_offsets=False, use_regex=True)
    tok.train_from_iterator(CORPUS, byte_level_trainer(900, []))
    data = json.loads(tok.to_str())
    # GPT-2 marks <|endoftext|> special but normalized; <mask> is RoBERTa-style (lstrip); [[code]] single-word.
    append_added(
        data,
        [
            added("<|endoftext|>", 0, special=True, normalized=True),
            added("<mask>", 0, special=False, normalized=False, lstrip=True),
            added("[[code]]", 0, special=False, normalized=False, single_word=True),
        ],
    )
    config = {
        "bos_token": "<|endoftext|>",
        "eos_token": "<|endoftext|>",
        "unk_token": "<|endoftext|>",
        "model_max_length": 1024,
    }
    texts = family_texts(
        [
            "<|endoftext|>",
            "Hello<|endoftext|>World",
            "Hello <|endoftext|> World <|endoftext|><|endoftext|>",
            "fill the <mask> here and   <mask>there",
            "word [[code]] word x[[code]]y [[code]]",
        ]
    )
    save_family("gpt2", data, config, texts, patch_json=merges_as_strings)


def llama3():
    specials = [
        "<|begin_of_text|>",
        "<|end_of_text|>",
        "<|reserved_special_token_0|>",
        "<|reserved_special_token_1|>",
        "<|start_header_id|>",
        "<|end_header_id|>",
        "<|reserved_special_token_2|>",
        "<|eot_id|>",
    ]
    tok = Tokenizer(models.BPE(ignore_merges=True))
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(LLAMA3_REGEX), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False),
        ]
    )
    tok.decoder = decoders.ByteLevel(add_prefix_space=True, trim_offsets=True, use_regex=True)
    tok.train_from_iterator(CORPUS, byte_level_trainer(1200, []))
    data = json.loads(tok.to_str())
    # Whole words that the merges cannot build: only ignore_merges finds them.
    for word in ["Ġsupercalifragilisticexpialidocious", "Ġantidisestablishmentarianism", "ĠSHOUTING"]:
        if word not in data["model"]["vocab"]:
            data["model"]["vocab"][word] = max(data["model"]["vocab"].values()) + 1
    append_added(data, [added(s, 0) for s in specials])
    bos_id = next(t["id"] for t in data["added_tokens"] if t["content"] == "<|begin_of_text|>")
    data["post_processor"] = {
        "type": "Sequence",
        "processors": [
            {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
            {
                "type": "TemplateProcessing",
                "single": [
                    {"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 0}},
                    {"Sequence": {"id": "A", "type_id": 0}},
                ],
                "pair": [
                    {"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 0}},
                    {"Sequence": {"id": "A", "type_id": 0}},
                    {"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 1}},
                    {"Sequence": {"id": "B", "type_id": 1}},
                ],
                "special_tokens": {
                    "<|begin_of_text|>": {"id": "<|begin_of_text|>", "ids": [bos_id], "tokens": ["<|begin_of_text|>"]}
                },
            },
        ],
    }
    config = {
        "bos_token": "<|begin_of_text|>",
        "eos_token": "<|eot_id|>",
        "model_max_length": 131072,
        "chat_template": (
            "{{ bos_token }}{% for message in messages %}<|start_header_id|>{{ message['role'] }}<|end_header_id|>"
            "\n\n{{ message['content'] | trim }}<|eot_id|>{% endfor %}"
            "{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}"
        ),
    }
    texts = family_texts(
        [
            "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi there!<|eot_id|>",
            "text <|eot_id|> more<|eot_id|>",
            " supercalifragilisticexpialidocious SHOUTING",
            "1234567 12 1 123456789",
            "you'RE we'Ve THEY'LL ſ'S",
        ]
    )
    save_family("llama3", data, config, texts)


def qwen2():
    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(QWEN2_REGEX), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False),
        ]
    )
    tok.decoder = decoders.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)
    tok.post_processor = processors.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)
    tok.train_from_iterator(CORPUS, byte_level_trainer(1000, []))
    data = json.loads(tok.to_str())
    append_added(
        data,
        [
            added("<|endoftext|>", 0),
            added("<|im_start|>", 0),
            added("<|im_end|>", 0),
            added("<tool_call>", 0, special=False, normalized=False),
            added("</tool_call>", 0, special=False, normalized=False),
            # Normalized added token: written decomposed, matched after NFC in composed or decomposed text.
            added("cafe\u0301-latte", 0, special=False, normalized=True),
        ],
    )
    config = {
        "bos_token": None,
        "eos_token": "<|im_end|>",
        "pad_token": "<|endoftext|>",
        "model_max_length": 32768,
        "chat_template": (
            "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + "
            "'<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}"
            "{% endif %}"
        ),
        "tokenizer_config_extra": {"errors": "replace", "split_special_tokens": False},
    }
    texts = family_texts(
        [
            "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n",
            "<|endoftext|><|endoftext|> end",
            "<tool_call>{\"name\": \"f\"}</tool_call>",
            "order a café-latte or a cafe\u0301-latte",
            "digits 1234567890 each",
        ]
    )
    save_family("qwen2", data, config, texts)


def falcon():
    specials = [
        ">>TITLE<<",
        ">>ABSTRACT<<",
        ">>INTRODUCTION<<",
        ">>SUMMARY<<",
        ">>COMMENT<<",
        ">>ANSWER<<",
        ">>QUESTION<<",
        ">>DOMAIN<<",
        ">>PREFIX<<",
        ">>SUFFIX<<",
        ">>MIDDLE<<",
        "<|endoftext|>",
    ]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Punctuation(behavior="contiguous"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True),
            pre_tokenizers.Digits(individual_digits=False),
            pre_tokenizers.Split(Regex(FALCON_DIGITS_REGEX), behavior="isolated", invert=False),
        ]
    )
    tok.decoder = decoders.ByteLevel(add_prefix_space=True, trim_offsets=True, use_regex=True)
    tok.post_processor = processors.ByteLevel(add_prefix_space=True, trim_offsets=True, use_regex=True)
    tok.train_from_iterator(CORPUS, byte_level_trainer(1000, specials))
    data = json.loads(tok.to_str())
    append_added(data, [added("<sep>", 0, special=False, normalized=False, lstrip=True, rstrip=True)])
    config = {"eos_token": "<|endoftext|>", "model_max_length": 2048}
    texts = family_texts(
        [
            ">>QUESTION<<What is 2+2?>>ANSWER<< 4<|endoftext|>",
            ">>PREFIX<<def f(>>SUFFIX<<)>>MIDDLE<<",
            "left   <sep>   right<sep>x",
            "price: 12,345.67 and 1234567 and x²y м",
        ]
    )
    save_family("falcon", data, config, texts)


def bloom():
    specials = ["<unk>", "<s>", "</s>", "<pad>"]
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(BLOOM_REGEX), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False),
        ]
    )
    tok.decoder = decoders.ByteLevel(add_prefix_space=True, trim_offsets=True, use_regex=True)
    tok.post_processor = processors.ByteLevel(add_prefix_space=True, trim_offsets=False, use_regex=False)
    tok.train_from_iterator(CORPUS, byte_level_trainer(1000, specials))
    data = json.loads(tok.to_str())
    append_added(data, [added("<extra>", 0, special=False, normalized=False, single_word=True, lstrip=True)])
    config = {
        "bos_token": "<s>",
        "eos_token": "</s>",
        "unk_token": "<unk>",
        "pad_token": "<pad>",
        # Exercises transformers' clean-up pass, which it otherwise skips for BPE models.
        "tokenizer_config_extra": {
            "clean_up_tokenization_spaces": True,
            "clean_up_tokenization_spaces_for_bpe_even_though_it_will_corrupt_output": True,
            "padding_side": "left",
        },
    }
    texts = family_texts(
        [
            "<s>Hello</s> <pad><unk>",
            "Is it ok ? Yes , it is . I 'm sure ' it ' s fine . Do n't , we 've and they 're !",
            "x <extra> y<extra> <extra>z <extra>",
            "( parenthesised | piped ) 。，、।۔،…",
        ]
    )
    save_family("bloom", data, config, texts)


LLAMA2_DECODER = decoders.Sequence(
    [decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(), decoders.Strip(" ", 1, 0)]
)


def llama2():
    specials = ["<unk>", "<s>", "</s>"]
    tok = Tokenizer(models.BPE(unk_token="<unk>", fuse_unk=True, byte_fallback=True))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    data = sentencepiece_like(tok, 1100, specials, limit_alphabet=120)
    # The legacy Llama-2 pipeline: no pre-tokenizer, the normalizer turns spaces into ▁ and prepends one.
    data["normalizer"] = {
        "type": "Sequence",
        "normalizers": [
            {"type": "Prepend", "prepend": "▁"},
            {"type": "Replace", "pattern": {"String": " "}, "content": "▁"},
        ],
    }
    data["pre_tokenizer"] = None
    data["decoder"] = json.loads(LLAMA2_DECODER.__getstate__())
    data["added_tokens"] = [added(s, i) for i, s in enumerate(specials)]
    data["post_processor"] = {
        "type": "TemplateProcessing",
        "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
        "pair": [
            {"SpecialToken": {"id": "<s>", "type_id": 0}},
            {"Sequence": {"id": "A", "type_id": 0}},
            {"SpecialToken": {"id": "<s>", "type_id": 1}},
            {"Sequence": {"id": "B", "type_id": 1}},
        ],
        "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}},
    }
    append_added(
        data,
        [
            added("[INST]", 0, special=True),
            added("[/INST]", 0, special=True),
            # normalized=True: matched against the normalized text, so it is looked for as "▁<<SYS>>".
            added("<<SYS>>", 0, special=False, normalized=True),
            added("<</SYS>>", 0, special=False, normalized=False, rstrip=True),
        ],
    )
    config = {
        "bos_token": "<s>",
        "eos_token": "</s>",
        "unk_token": "<unk>",
        "add_bos_token": True,
        # Real Llama-2 configs say False. transformers 5 drops both flags when tokenizer.json exists, so True
        # here pins that the template in tokenizer.json wins: no </s> in the goldens.
        "add_eos_token": True,
        "tokenizer_config_extra": {"legacy": False, "padding_side": "left"},
    }
    texts = family_texts(
        [
            "<s>[INST] Hello [/INST] Hi!</s>",
            "[INST]<<SYS>>\nBe brief.\n<</SYS>>\n\nWhat?[/INST]",
            "a <<SYS>> b<<SYS>>c",
            "</s></s> <s> <unk>",
        ]
    )
    save_family("llama2", data, config, texts)
    # The same files as a real Llama-2 checkpoint names them: transformers 5 then builds LlamaTokenizer, which
    # keeps vocab, merges, added tokens and post-processor from tokenizer.json but replaces the rest of the
    # pipeline (Metaspace with prepend_scheme "first" instead of the Prepend/Replace normalizer, no unk_token).
    hf_config = dict(config)
    hf_config["tokenizer_config_extra"] = dict(config["tokenizer_config_extra"], tokenizer_class="LlamaTokenizer")
    save_family("llama2-hf", data, hf_config, texts)


def mistral():
    specials = ["<unk>", "<s>", "</s>"]
    tok = Tokenizer(models.BPE(unk_token="<unk>", fuse_unk=True, byte_fallback=True))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=True)
    data = sentencepiece_like(tok, 1000, specials, limit_alphabet=110)
    data["normalizer"] = None
    data["pre_tokenizer"] = {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": False}
    data["decoder"] = json.loads(LLAMA2_DECODER.__getstate__())
    data["post_processor"] = None
    data["added_tokens"] = [added(s, i) for i, s in enumerate(specials)]
    append_added(
        data,
        [
            added("[INST]", 0),
            added("[/INST]", 0),
            added("[TOOL_CALLS]", 0, special=True, rstrip=True),
        ],
    )
    # No post-processor in tokenizer.json. transformers 5 ignores add_bos_token when tokenizer.json exists, so
    # these goldens carry no <s>: callers that want one must add it themselves. The class name makes
    # transformers build LlamaTokenizer's own pipeline, as for real Mistral checkpoints.
    config = {
        "bos_token": "<s>",
        "eos_token": "</s>",
        "unk_token": "<unk>",
        "add_bos_token": True,
        "add_eos_token": False,
        "chat_template": [
            {"name": "default", "template": "{{ bos_token }}{% for m in messages %}[INST] {{ m['content'] }} [/INST]{% endfor %}"},
            {"name": "tool_use", "template": "{{ bos_token }}[TOOL_CALLS]"},
        ],
        "tokenizer_config_extra": {"tokenizer_class": "LlamaTokenizerFast", "legacy": False},
    }
    texts = family_texts(
        [
            "<s>[INST] What is up? [/INST] Nothing.</s>",
            "[INST]no space[/INST]",
            "[TOOL_CALLS]   [{\"name\": \"f\"}]",
            "   spaces first",
        ]
    )
    save_family("mistral", data, config, texts)


def misc():
    """Stages the real families do not use: NFKC, Lowercase, Strip, a Replace regex, Whitespace, Punctuation,
    individual Digits, an unknown token with fuse_unk, end_of_word_suffix, BPEDecoder and BertProcessing."""
    specials = ["[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]"]
    tok = Tokenizer(models.BPE(unk_token="[UNK]", fuse_unk=True, end_of_word_suffix="</w>"))
    tok.normalizer = normalizers.Sequence(
        [normalizers.NFKC(), normalizers.Lowercase(), normalizers.Strip(), normalizers.Replace(Regex(r"\s+"), " ")]
    )
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Whitespace(),
            pre_tokenizers.Punctuation(behavior="isolated"),
            pre_tokenizers.Digits(individual_digits=True),
        ]
    )
    tok.decoder = decoders.BPEDecoder(suffix="</w>")
    trainer = trainers.BpeTrainer(
        vocab_size=700,
        special_tokens=specials,
        end_of_word_suffix="</w>",
        initial_alphabet=frequent_alphabet(70),
        limit_alphabet=70,
        show_progress=False,
    )
    tok.train_from_iterator(CORPUS, trainer)
    data = json.loads(tok.to_str())
    renumber(data, specials)
    ids = data["model"]["vocab"]
    data["post_processor"] = json.loads(
        processors.BertProcessing(("[SEP]", ids["[SEP]"]), ("[CLS]", ids["[CLS]"])).__getstate__()
    )
    config = {
        "unk_token": "[UNK]",
        "cls_token": "[CLS]",
        "sep_token": "[SEP]",
        "pad_token": "[PAD]",
        "mask_token": "[MASK]",
        "tokenizer_config_extra": {"do_lower_case": True},
    }
    texts = family_texts(["[CLS] Hello [MASK] world [SEP]", "ＦＵＬＬＷＩＤＴＨ ﬁ ① Ⅻ", "the 2024 model's run"])
    save_family("misc", data, config, texts)


# ---------------------------------------------------------------------------------------------------------------
# Single stages run by `tokenizers` alone.

REGEX_ALPHABET = [
    "a", "Z", "é", "ß", "ſ", "K", "中", "ー", "1", "٣", "½", "²", " ", "  ", "\t", "\n", "\r", "\r\n",
    "\u00a0", "\u2028", "\u3000", "\u0085", "\x1c", "\x00", "'", "'s", "'S", "'ll", "'LL", "'t", "'re", "'Ve",
    "'m", "'d", "'D", "'x", "'ſ", ".", ",", "!", "?", "…", "。", "，", "(", ")", "|", "[", "]", "-", "_", "$",
    "😀", "👍🏽", "\u0301", "\u200d", "\ufe0f", "word", "Word", "123", "4567", "  x", " 12", " !", "’",
]


def random_strings(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    out = ["", " ", "  ", "a", "\n", " \n ", "'s", "hello world", "a  b   c ", "x\r\n\r\n  y"]
    while len(out) < count:
        out.append("".join(rng.choice(REGEX_ALPHABET) for _ in range(rng.randint(1, 12))))
    return out


def pre_tokenizer_cases():
    configs = {
        "gpt2-bytelevel": pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
        "bytelevel-prefix": pre_tokenizers.ByteLevel(add_prefix_space=True, use_regex=True),
        "bytelevel-noregex": pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        "gpt2-split": pre_tokenizers.Split(Regex(GPT2_REGEX), behavior="isolated"),
        "llama3-split": pre_tokenizers.Split(Regex(LLAMA3_REGEX), behavior="isolated"),
        "qwen2-split": pre_tokenizers.Split(Regex(QWEN2_REGEX), behavior="isolated"),
        "bloom-split": pre_tokenizers.Split(Regex(BLOOM_REGEX), behavior="isolated"),
        "falcon-sequence": pre_tokenizers.Sequence(
            [
                pre_tokenizers.Punctuation(behavior="contiguous"),
                pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
                pre_tokenizers.Digits(individual_digits=False),
                pre_tokenizers.Split(Regex(FALCON_DIGITS_REGEX), behavior="isolated"),
            ]
        ),
        "digits-individual": pre_tokenizers.Digits(individual_digits=True),
        "digits-contiguous": pre_tokenizers.Digits(individual_digits=False),
        "punctuation-isolated": pre_tokenizers.Punctuation(behavior="isolated"),
        "punctuation-merged-previous": pre_tokenizers.Punctuation(behavior="merged_with_previous"),
        "whitespace": pre_tokenizers.Whitespace(),
        "whitespace-split": pre_tokenizers.WhitespaceSplit(),
        "metaspace-always-split": pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True),
        "metaspace-first-nosplit": pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=False),
        "metaspace-never-split": pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="never", split=True),
        "split-string-removed": pre_tokenizers.Split(" ", behavior="removed"),
        "split-regex-merged-next": pre_tokenizers.Split(Regex(r"\s+"), behavior="merged_with_next"),
        "split-regex-merged-previous": pre_tokenizers.Split(Regex(r"\s+"), behavior="merged_with_previous"),
        "split-regex-contiguous-inverted": pre_tokenizers.Split(Regex(r"\p{L}+"), behavior="contiguous", invert=True),
        "split-generic-regex": pre_tokenizers.Split(Regex(r"[A-Za-z]+|\d+|(?i:x)"), behavior="isolated"),
    }
    heavy = {"gpt2-split", "llama3-split", "qwen2-split", "bloom-split", "gpt2-bytelevel", "falcon-sequence"}
    out = []
    for index, (name, pre) in enumerate(configs.items()):
        texts = random_strings(100 + index, 300 if name in heavy else 60)
        cases = [{"text": t, "pieces": [p for p, _ in pre.pre_tokenize_str(t)]} for t in texts]
        out.append({"name": name, "config": json.loads(pre.__getstate__()), "cases": cases})
    return out


def normalizer_cases():
    configs = {
        "nfc": normalizers.NFC(),
        "nfd": normalizers.NFD(),
        "nfkc": normalizers.NFKC(),
        "nfkd": normalizers.NFKD(),
        "lowercase": normalizers.Lowercase(),
        "prepend": normalizers.Prepend("▁"),
        "replace-string": normalizers.Replace(" ", "▁"),
        "replace-regex": normalizers.Replace(Regex(r"\s+"), " "),
        "strip": normalizers.Strip(left=True, right=True),
        "llama2-sequence": normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")]),
    }
    texts = [
        "", " ", "Hello World", "  spaced  out  ", "café cafe\u0301 Å A\u030a", "ﬁ ① Ⅻ ＦＵＬＬ ㎏",
        "ÀΣİ ΌΣΟΣ straße", "tabs\tand\nnewlines\r\n", "中文 テスト", "😀 👍🏽", "\u00a0nbsp\u3000",
    ]
    return [
        {"name": name, "config": json.loads(n.__getstate__()), "cases": [{"text": t, "normalized": n.normalize_str(t)} for t in texts]}
        for name, n in configs.items()
    ]


def decoder_cases():
    configs = {
        "bytelevel": decoders.ByteLevel(),
        "metaspace-first": decoders.Metaspace(replacement="▁", prepend_scheme="first"),
        "metaspace-never": decoders.Metaspace(replacement="▁", prepend_scheme="never"),
        "llama2-sequence": LLAMA2_DECODER,
        "bytefallback": decoders.ByteFallback(),
        "strip": decoders.Strip(" ", 1, 1),
        "bpe-suffix": decoders.BPEDecoder(suffix="</w>"),
        "replace-fuse": decoders.Sequence([decoders.Replace("▁", " "), decoders.Fuse()]),
    }
    token_lists = [
        [],
        ["Ġhello", "Ġworld"],
        ["ä¸Ń", "æĸĩ"],
        ["ä¸", "Ń"],
        ["Ġ", "ðŁĺ", "Ģ", "!"],
        ["<|x|>", "Ġa Ġ"],
        ["▁Hello", "▁world", "!"],
        ["▁", "▁a▁b", "▁▁c"],
        ["x▁y", "▁"],
        ["<0xE4>", "<0xB8>", "<0xAD>", "▁ok"],
        ["<0x41>", "<0xFF>", "b"],
        ["<0xE4>", "<0xB8>"],
        ["<0x0A>", "<0xG1>", "<0x4>", "<0x41>"],
        ["  a  ", " b", "c "],
        ["hel", "lo</w>", "wor", "ld</w>"],
    ]
    return [
        {"name": name, "config": json.loads(d.__getstate__()), "cases": [{"tokens": t, "decoded": d.decode(t)} for t in token_lists]}
        for name, d in configs.items()
    ]


def unicode_classes():
    """Which code points Oniguruma (tokenizers' regex engine) puts in \\s, \\p{L}, \\p{N}, and what the Rust
    predicates used by Digits/Punctuation/WhitespaceSplit say, sampled across the code space."""
    points = [c for c in range(0, 0x32000, 7) if not 0xD800 <= c < 0xE000]
    points += [0x85, 0xA0, 0x1680, 0x180E, 0x2000, 0x200A, 0x200B, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000, 0x1C, 0x1F]
    points = sorted(set(points))
    text = "".join(chr(c) for c in points)

    result = {"points": points}
    for name, pattern in (("whitespace", r"\s"), ("letter", r"\p{L}"), ("number", r"\p{N}")):
        kept = pre_tokenizers.Split(Regex(pattern), behavior="removed").pre_tokenize_str(text)
        result[name] = bits_removed(kept, points)
    # Digits exposes no "removed" behaviour: a numeric character between two letters splits them apart.
    result["rust_numeric"] = "".join(
        "1" if len(pre_tokenizers.Digits(individual_digits=False).pre_tokenize_str(f"a{chr(c)}a")) == 3 else "0"
        for c in points
    )
    punct = pre_tokenizers.Punctuation(behavior="removed").pre_tokenize_str(text)
    result["rust_punctuation"] = bits_removed(punct, points)
    ws = pre_tokenizers.WhitespaceSplit().pre_tokenize_str(text)
    result["rust_whitespace"] = bits_removed(ws, points)
    return result


def bits_removed(kept, points):
    """Offsets are in characters: every character not covered by a kept piece was matched and removed."""
    removed = set(range(len(points)))
    for _, (start, end) in kept:
        for i in range(start, end):
            removed.discard(i)
    return "".join("1" if i in removed else "0" for i in range(len(points)))


def post_processor_cases():
    vocab = {"<s>": 0, "</s>": 1, "[CLS]": 2, "[SEP]": 3, "a": 4, "b": 5, "ab": 6, "<unk>": 7}
    configs = {
        "roberta": processors.RobertaProcessing(("</s>", 1), ("<s>", 0)),
        "bert": processors.BertProcessing(("[SEP]", 3), ("[CLS]", 2)),
        "template-bos-eos": processors.TemplateProcessing(
            single="<s> $A </s>", special_tokens=[("<s>", 0), ("</s>", 1)]
        ),
        "template-zero": processors.TemplateProcessing(single="[CLS]:1 $0:0 [SEP]:1", special_tokens=[("[CLS]", 2), ("[SEP]", 3)]),
        "sequence": processors.Sequence(
            [processors.ByteLevel(trim_offsets=False), processors.BertProcessing(("[SEP]", 3), ("[CLS]", 2))]
        ),
    }
    out = []
    for name, processor in configs.items():
        tok = Tokenizer(models.BPE(vocab=vocab, merges=[("a", "b")], unk_token="<unk>"))
        tok.post_processor = processor
        data = json.loads(tok.to_str())
        cases = []
        for text in ["ab", "aab", "", "ba"]:
            cases.append(
                {
                    "text": text,
                    "ids": tok.encode(text).ids,
                    "ids_no_special": tok.encode(text, add_special_tokens=False).ids,
                }
            )
        out.append({"name": name, "tokenizer": data, "cases": cases})
    return out


def model_cases():
    """BPE options the families leave out: continuing_subword_prefix, unfused unknown tokens, byte fallback with
    byte tokens missing (falls back to the unknown token)."""
    texts = ["hello world", "unbelievable tokenization", "xyz qqq", "héllo wörld 中文 😀", "", "aaaa bbbb"]
    out = []

    # Written by hand: the trainer orders tied "##" merges by hash, so a trained model would change every run.
    letters = "abcdefghijklmnopqrstuvwxyz"
    pieces = ["[UNK]"] + list(letters) + ["##" + c for c in letters]
    prefixed_merges = [
        ("h", "##e"), ("##l", "##l"), ("##ll", "##o"), ("he", "##llo"), ("w", "##o"), ("##r", "##l"),
        ("##rl", "##d"), ("wo", "##rld"), ("t", "##o"), ("##k", "##e"), ("##ke", "##n"), ("u", "##n"),
    ]
    for a, b in prefixed_merges:
        pieces.append(a + b[2:])
    tok = Tokenizer(
        models.BPE(
            vocab={p: i for i, p in enumerate(pieces)}, merges=prefixed_merges, unk_token="[UNK]",
            continuing_subword_prefix="##",
        )
    )
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    out.append(("subword-prefix", json.loads(tok.to_str())))

    vocab = {"<unk>": 0, "a": 1, "b": 2, "ab": 3, "<0xC3>": 4, "<0xA9>": 5, "c": 6, " ": 7}
    merges = [("a", "b")]
    out.append(("unk-unfused", json.loads(Tokenizer(models.BPE(vocab=vocab, merges=merges, unk_token="<unk>", fuse_unk=False)).to_str())))
    out.append(("unk-fused", json.loads(Tokenizer(models.BPE(vocab=vocab, merges=merges, unk_token="<unk>", fuse_unk=True)).to_str())))
    # é is <0xC3><0xA9> (both present); 中 needs bytes that are missing, so it becomes <unk>.
    out.append((
        "byte-fallback-partial",
        json.loads(Tokenizer(models.BPE(vocab=vocab, merges=merges, unk_token="<unk>", byte_fallback=True)).to_str()),
    ))
    out.append(("no-unk", json.loads(Tokenizer(models.BPE(vocab=vocab, merges=merges)).to_str())))

    result = []
    for name, data in out:
        tok = Tokenizer.from_str(json.dumps(data))
        cases = [{"text": t, "ids": tok.encode(t).ids, "tokens": tok.encode(t).tokens} for t in texts + ["abcab éa", "zzab"]]
        result.append({"name": name, "tokenizer": data, "cases": cases})
    return result


def components():
    data = {
        "versions": {"tokenizers": tokenizers.__version__, "transformers": transformers.__version__},
        "pre_tokenizers": pre_tokenizer_cases(),
        "normalizers": normalizer_cases(),
        "decoders": decoder_cases(),
        "post_processors": post_processor_cases(),
        "models": model_cases(),
        "unicode_classes": unicode_classes(),
    }
    with open(os.path.join(OUT, "components.json"), "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False, separators=(",", ":"))
    print("components.json written")


def main():
    os.makedirs(OUT, exist_ok=True)
    for make in (gpt2, llama3, qwen2, falcon, bloom, llama2, mistral, misc):
        make()
    components()
    total = 0
    for dirpath, _, files in os.walk(OUT):
        total += sum(os.path.getsize(os.path.join(dirpath, f)) for f in files)
    print(f"fixtures: {total / 1024:.0f} KiB", file=sys.stderr)


if __name__ == "__main__":
    main()
