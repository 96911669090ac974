#!/usr/bin/env python3
"""Train Origami's default model: a tiny Llama on procedurally generated children's stories.

Stages, each skipped when its output already exists in --work-dir (so a killed run picks up where it
stopped):
  1. corpus     make_corpus.py's train/valid splits (generated here if --corpus has none)
  2. tokenizer  a Llama-2-style byte-fallback BPE, trained with the `tokenizers` library
  3. tokens     the corpus encoded once, as <s> story </s> <s> story </s> ... in a uint16 file
  4. training   LlamaForCausalLM with AdamW and a cosine schedule; checkpoints every few minutes
  5. export     float16 weights, tokenizer and configs to Models/default, checked by reloading with
                transformers, and a model card with the losses and sample continuations

    python3 Scripts/default_model/make_corpus.py      # optional: train.py runs it when needed
    python3 Scripts/default_model/train.py            # resumable: run the same command again after a kill
"""

import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import make_corpus  # noqa: E402  (same folder; imported for its generator when the corpus is missing)

SPECIALS = ["<unk>", "<s>", "</s>"]
UNK, BOS, EOS = 0, 1, 2
BYTE_TOKENS = [f"<0x{i:02X}>" for i in range(256)]
PROMPTS = ["Once upon a time", "The little dog", "One day, Mia", "Tom and his mom", "The sun was"]


def log(msg):
    print(msg, flush=True)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", default="/tmp/origami-default-model/corpus",
                   help="folder with train.txt and valid.txt (created with make_corpus.py defaults if absent)")
    p.add_argument("--work-dir", default="/tmp/origami-default-model/work",
                   help="scratch folder for the tokenizer, token files and checkpoints (outside the repo)")
    p.add_argument("--out", default=os.path.join(REPO, "Models", "default"), help="where the model is saved")
    p.add_argument("--vocab-size", type=int, default=2048)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--heads", type=int, default=8)
    p.add_argument("--kv-heads", type=int, default=4)
    p.add_argument("--intermediate", type=int, default=688)
    p.add_argument("--max-pos", type=int, default=512)
    p.add_argument("--seq-len", type=int, default=256)
    p.add_argument("--batch", type=int, default=16, help="sequences per step")
    p.add_argument("--steps", type=int, default=1400)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--min-lr", type=float, default=1e-4)
    p.add_argument("--warmup", type=int, default=60)
    p.add_argument("--decay-frac", type=float, default=0.3,
                   help="fraction of the steps, at the end, over which the learning rate decays")
    p.add_argument("--weight-decay", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--no-bf16", action="store_true",
                   help="train in plain float32 (bfloat16 autocast is ~1.5x faster on CPUs with AMX/AVX512-BF16)")
    p.add_argument("--ckpt-minutes", type=float, default=3.0, help="checkpoint interval")
    p.add_argument("--eval-every", type=int, default=250)
    p.add_argument("--log-every", type=int, default=10)
    return p.parse_args()


# ---------------------------------------------------------------------------------------------------
# 1. corpus


def ensure_corpus(a):
    train, valid = os.path.join(a.corpus, "train.txt"), os.path.join(a.corpus, "valid.txt")
    if not (os.path.exists(train) and os.path.exists(valid)):
        log(f"corpus: generating into {a.corpus}")
        os.makedirs(a.corpus, exist_ok=True)
        for path, seed, mb in ((train, make_corpus.TRAIN_SEED, make_corpus.TRAIN_MB),
                               (valid, make_corpus.VALID_SEED, make_corpus.VALID_MB)):
            n, size = make_corpus.write_split(path, seed, int(mb * 1e6))
            log(f"  {os.path.basename(path)}: {n} stories, {size / 1e6:.2f} MB")
    return train, valid


def read_stories(path):
    with open(path, encoding="ascii") as f:
        return [line.rstrip("\n") for line in f if line.strip()]


# ---------------------------------------------------------------------------------------------------
# 2. tokenizer


def build_tokenizer(stories, vocab_size):
    """Llama-2 layout: <unk> <s> </s>, then the 256 byte tokens <0x00>..<0xFF>, then learned BPE pieces.

    The final tokenizer, like Llama-2's tokenizer.json, has no pre-tokenizer: the normalizer turns
    spaces into "▁" and BPE runs over the whole text. For *training* the merges we split the text
    before each "▁", as SentencePiece does, so that no merge crosses a word boundary; with such merges,
    BPE over the unsplit text yields the same pieces (checked below).
    """
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from tokenizers import trainers

    def llama_normalizer():
        return normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])

    learner = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True))
    learner.normalizer = llama_normalizer()
    learner.pre_tokenizer = pre_tokenizers.Split(Regex("▁"), behavior="merged_with_next")
    # The byte tokens are not learned; they are added below, so the trainer gets 256 fewer slots.
    trainer = trainers.BpeTrainer(vocab_size=vocab_size - len(BYTE_TOKENS), special_tokens=SPECIALS,
                                  show_progress=False)
    learner.train_from_iterator(stories, trainer)

    learned = json.loads(learner.to_str())["model"]
    pieces = sorted(learned["vocab"].items(), key=lambda kv: kv[1])
    vocab = {tok: i for i, tok in enumerate(SPECIALS + BYTE_TOKENS)}
    for piece, _ in pieces:
        if piece not in vocab:
            vocab[piece] = len(vocab)
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in learned["merges"]]

    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, unk_token="<unk>", fuse_unk=True, byte_fallback=True))
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in SPECIALS])
    tok.normalizer = llama_normalizer()
    tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
                                     decoders.Strip(" ", 1, 0)])
    tok.post_processor = processors.TemplateProcessing(single="<s>:0 $A:0", pair="<s>:0 $A:0 <s>:1 $B:1",
                                                       special_tokens=[("<s>", BOS)])

    # Checks: same pieces as the word-split learner, exact round trip, bytes for unseen characters.
    for s in stories[:200]:
        ids = tok.encode(s).ids
        assert ids[0] == BOS and tok.encode(s).tokens[1:] == learner.encode(s).tokens, s
        assert tok.decode(ids, skip_special_tokens=True) == s, s
    odd = "Zoë said 🙂\n"
    assert tok.decode(tok.encode(odd).ids, skip_special_tokens=True) == odd
    assert tok.get_vocab_size() == vocab_size, tok.get_vocab_size()
    return tok


def ensure_tokenizer(a, stories):
    from tokenizers import Tokenizer
    path = os.path.join(a.work_dir, "tokenizer.json")
    if os.path.exists(path):
        return Tokenizer.from_file(path)
    t0 = time.time()
    tok = build_tokenizer(stories, a.vocab_size)
    tok.save(path)
    log(f"tokenizer: {tok.get_vocab_size()} tokens, trained in {time.time() - t0:.1f}s -> {path}")
    return tok


# ---------------------------------------------------------------------------------------------------
# 3. tokens


def ensure_tokens(a, tok, name, stories):
    """Every story becomes <s> ... </s>: prompts at inference start with <s> (the post-processor adds it),
    and </s> teaches the model where a story ends."""
    path = os.path.join(a.work_dir, f"{name}.u16")
    if not os.path.exists(path):
        ids = []
        for enc in tok.encode_batch(stories):
            ids.extend(enc.ids)
            ids.append(EOS)
        arr = np.asarray(ids, dtype=np.uint16)
        arr.tofile(path + ".tmp")
        os.replace(path + ".tmp", path)
        log(f"tokens: {name} {len(arr):,} tokens ({sum(map(len, stories)) / len(arr):.2f} chars/token)")
    return np.fromfile(path, dtype=np.uint16)


# ---------------------------------------------------------------------------------------------------
# 4. training


def model_config(a):
    from transformers import LlamaConfig
    return LlamaConfig(
        vocab_size=a.vocab_size, hidden_size=a.hidden, intermediate_size=a.intermediate,
        num_hidden_layers=a.layers, num_attention_heads=a.heads, num_key_value_heads=a.kv_heads,
        max_position_embeddings=a.max_pos, rope_theta=10000.0, rms_norm_eps=1e-5, hidden_act="silu",
        tie_word_embeddings=False, bos_token_id=BOS, eos_token_id=EOS, pad_token_id=None,
        attention_bias=False, mlp_bias=False, initializer_range=0.02)


def decay_start(a):
    return a.steps - int(a.decay_frac * a.steps)


def lr_at(a, step):
    """Warmup, then constant, then a cosine decay to min_lr over the last decay_frac of the steps.

    Unlike a cosine over the whole run, the learning rate before the decay does not depend on the
    total number of steps, so --steps can be changed when resuming (while the decay has not begun)
    and the result is the same as if the run had been started with the new value. On a CPU shared
    with other jobs the throughput is hard to predict, and this lets the run be fitted to the time."""
    if step < a.warmup:
        return a.lr * (step + 1) / a.warmup
    d0 = decay_start(a)
    if step < d0:
        return a.lr
    t = (step - d0) / max(1, a.steps - d0)
    return a.min_lr + 0.5 * (a.lr - a.min_lr) * (1 + math.cos(math.pi * min(1.0, t)))


def batch_at(a, data, step):
    # Each step's batch depends only on (seed, step), so a resumed run sees exactly the batches the
    # uninterrupted run would have, without saving any sampler state.
    g = torch.Generator().manual_seed(a.seed * 1_000_003 + step)
    starts = torch.randint(0, len(data) - a.seq_len - 1, (a.batch,), generator=g).tolist()
    x = np.stack([data[s:s + a.seq_len + 1] for s in starts]).astype(np.int64)
    return torch.from_numpy(x)


@torch.no_grad()
def evaluate(a, model, data, max_seqs=None):
    """Mean next-token loss over consecutive, non-overlapping windows of `data`."""
    model.eval()
    n = (len(data) - 1) // a.seq_len
    if max_seqs:
        n = min(n, max_seqs)
    total, count = 0.0, 0
    for i in range(0, n, a.batch):
        rows = [data[j * a.seq_len: j * a.seq_len + a.seq_len + 1] for j in range(i, min(n, i + a.batch))]
        x = torch.from_numpy(np.stack(rows).astype(np.int64))
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=not a.no_bf16):
            logits = model(input_ids=x[:, :-1]).logits
        loss = torch.nn.functional.cross_entropy(logits.float().reshape(-1, logits.size(-1)),
                                                 x[:, 1:].reshape(-1), reduction="sum")
        total += loss.item()
        count += x[:, 1:].numel()
    model.train()
    return total / count


def save_checkpoint(path, state):
    torch.save(state, path + ".tmp")
    os.replace(path + ".tmp", path)  # atomic: a kill mid-save leaves the previous checkpoint intact


def fmt_time(s):
    s = int(s)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


def train(a, train_ids, valid_ids):
    from transformers import LlamaForCausalLM
    ckpt_path = os.path.join(a.work_dir, "checkpoint.pt")
    torch.manual_seed(a.seed)
    model = LlamaForCausalLM(model_config(a))
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]  # norms: decaying them only hurts
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": a.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=a.lr, betas=(0.9, 0.95), eps=1e-8)
    hparams = {k: getattr(a, k) for k in ("vocab_size", "hidden", "layers", "heads", "kv_heads", "intermediate",
                                          "seq_len", "batch", "steps", "lr", "min_lr", "warmup", "decay_frac",
                                          "seed")}
    state = {"step": 0, "elapsed": 0.0, "history": [], "hparams": hparams}
    if os.path.exists(ckpt_path):
        state = torch.load(ckpt_path, weights_only=False)
        old = dict(state["hparams"])
        if old["steps"] != a.steps and state["step"] <= min(decay_start(a), old["steps"] - int(a.decay_frac * old["steps"])):
            log(f"steps changed from {old['steps']} to {a.steps} before the decay began: continuing")
            old["steps"] = state["hparams"]["steps"] = a.steps
        if old != hparams:
            sys.exit(f"checkpoint {ckpt_path} was made with other settings:\n  {state['hparams']}\n"
                     f"now:\n  {hparams}\nuse another --work-dir or delete it")
        model.load_state_dict(state.pop("model"))
        opt.load_state_dict(state.pop("optim"))
        log(f"resumed from {ckpt_path} at step {state['step']} ({fmt_time(state['elapsed'])} trained so far)")
    n_params = sum(p.numel() for p in model.parameters())
    log(f"model: {n_params:,} parameters; {a.steps} steps x {a.batch} x {a.seq_len} tokens"
        f" = {a.steps * a.batch * a.seq_len / 1e6:.1f}M tokens ({len(train_ids) / 1e6:.1f}M in the corpus)")

    def checkpoint():
        save_checkpoint(ckpt_path, dict(state, model=model.state_dict(), optim=opt.state_dict()))

    model.train()
    last_ckpt = time.time()
    window_t, window_tokens, ema = time.time(), 0, None
    while state["step"] < a.steps:
        step = state["step"]
        t0 = time.time()
        for group in opt.param_groups:
            group["lr"] = lr_at(a, step)
        x = batch_at(a, train_ids, step)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=not a.no_bf16):
            logits = model(input_ids=x[:, :-1]).logits
        loss = torch.nn.functional.cross_entropy(logits.float().reshape(-1, logits.size(-1)), x[:, 1:].reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        state["step"] = step + 1
        state["elapsed"] += time.time() - t0
        window_tokens += x[:, :-1].numel()
        ema = loss.item() if ema is None else 0.95 * ema + 0.05 * loss.item()

        done = state["step"]
        if done % a.log_every == 0 or done == a.steps:
            rate = window_tokens / max(1e-9, time.time() - window_t)
            eta = (a.steps - done) * a.batch * a.seq_len / max(rate, 1e-9)
            log(f"step {done:5d}/{a.steps}  loss {loss.item():.3f} (avg {ema:.3f})  lr {lr_at(a, step):.2e}"
                f"  {rate:6.0f} tok/s  trained {fmt_time(state['elapsed'])}  ETA {fmt_time(eta)}")
            window_t, window_tokens = time.time(), 0
        if done % a.eval_every == 0 or done == a.steps:
            vl = evaluate(a, model, valid_ids, max_seqs=64)
            state["history"].append({"step": done, "train_loss": round(ema, 4), "valid_loss": round(vl, 4)})
            log(f"  eval at step {done}: valid loss {vl:.3f} (perplexity {math.exp(vl):.2f})")
            window_t, window_tokens = time.time(), 0  # don't count eval time against throughput
        if time.time() - last_ckpt > a.ckpt_minutes * 60 or done == a.steps:
            checkpoint()
            last_ckpt = time.time()
            log(f"  checkpoint saved at step {done}")
    return model, state


# ---------------------------------------------------------------------------------------------------
# 5. export


def export(a, model, state, tok, train_ids, valid_ids, first_stories):
    from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig, PreTrainedTokenizerFast
    os.makedirs(a.out, exist_ok=True)
    log("final evaluation on the whole validation split ...")
    valid_loss = evaluate(a, model, valid_ids)
    train_loss = evaluate(a, model, train_ids, max_seqs=len(valid_ids) // a.seq_len)  # same amount of text
    log(f"  train loss {train_loss:.4f} (ppl {math.exp(train_loss):.3f}), "
        f"valid loss {valid_loss:.4f} (ppl {math.exp(valid_loss):.3f})")

    model = model.to(torch.float16)
    model.generation_config = GenerationConfig(bos_token_id=BOS, eos_token_id=EOS, do_sample=True,
                                               temperature=0.8, top_p=0.9)
    model.save_pretrained(a.out, safe_serialization=True)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>",
                                   model_max_length=a.max_pos, clean_up_tokenization_spaces=False)
    fast.save_pretrained(a.out)
    # transformers 5 writes "dtype" and "rope_parameters"; most checkpoints on the Hub (and older
    # readers) use the 4.x keys, so state both. transformers 5 reads either form.
    cfg_path = os.path.join(a.out, "config.json")
    with open(cfg_path) as f:
        mcfg = json.load(f)
    mcfg["torch_dtype"] = mcfg.get("dtype", "float16")
    mcfg["rope_theta"] = mcfg.get("rope_parameters", {}).get("rope_theta", 10000.0)
    with open(cfg_path, "w") as f:
        json.dump(mcfg, f, indent=2, sort_keys=True)
        f.write("\n")
    # add_bos_token documents what the post-processor already does (prepend <s>, never append </s>).
    cfg_path = os.path.join(a.out, "tokenizer_config.json")
    with open(cfg_path) as f:
        tcfg = json.load(f)
    tcfg.update({"add_bos_token": True, "add_eos_token": False,
                 # transformers 5 writes its own class name here; PreTrainedTokenizerFast loads
                 # tokenizer.json verbatim in both 4.x and 5.x ("LlamaTokenizer" would make 5.x rebuild
                 # the pipeline from vocab and merges, dropping our normalizer).
                 "tokenizer_class": "PreTrainedTokenizerFast"})
    with open(cfg_path, "w") as f:
        json.dump(tcfg, f, indent=2)
        f.write("\n")

    # Reload exactly as a user would, in float32, and check the tokenizer survived the round trip.
    rt = AutoTokenizer.from_pretrained(a.out)
    m = AutoModelForCausalLM.from_pretrained(a.out, dtype=torch.float32)
    m.eval()
    for p in PROMPTS + ["Hello, world! Zoë"]:
        assert rt(p)["input_ids"] == tok.encode(p).ids, p
    samples = []
    for i, prompt in enumerate(PROMPTS):
        ids = rt(prompt, return_tensors="pt")["input_ids"]
        with torch.no_grad():
            greedy = m.generate(ids, max_new_tokens=90, do_sample=False)
            torch.manual_seed(i)
            sampled = m.generate(ids, max_new_tokens=90, do_sample=True, temperature=0.8, top_p=0.9)
        samples.append((prompt, rt.decode(greedy[0], skip_special_tokens=True),
                        rt.decode(sampled[0], skip_special_tokens=True)))
        log(f"\n[{prompt}]\n  greedy : {samples[-1][1]}\n  sampled: {samples[-1][2]}")
    with open(os.path.join(a.out, "sample.txt"), "w") as f:
        f.write("\n\n".join(first_stories) + "\n")  # what the training text looks like
    write_card(a, state, m, train_loss, valid_loss, samples, len(train_ids), len(valid_ids))
    sizes = {f: os.path.getsize(os.path.join(a.out, f)) for f in sorted(os.listdir(a.out))}
    log("\n" + "\n".join(f"  {f:28s} {s:>10,} bytes" for f, s in sizes.items()))


def write_card(a, state, m, train_loss, valid_loss, samples, n_train, n_valid):
    n_params = sum(p.numel() for p in m.parameters())
    c = m.config
    hist = "\n".join(f"| {h['step']} | {h['train_loss']:.3f} | {h['valid_loss']:.3f} |" for h in state["history"])
    shown = "\n\n".join(f"**{p}**\n\n- greedy: {g}\n- sampled (T=0.8, top-p 0.9, seed {i}): {s}"
                        for i, (p, g, s) in enumerate(samples))
    tokens = a.steps * a.batch * a.seq_len
    card = f"""# Origami default model

A {n_params / 1e6:.2f}M-parameter Llama, trained from scratch on CPU so that `origami generate "prompt"`
works on a fresh clone with no download. It writes short, simple children's stories. It knows nothing
about the world beyond its training stories; it exists to exercise the engine, not to be useful.

## Architecture

`LlamaForCausalLM`, stored in float16 (`model.safetensors`).

| | |
|---|---|
| parameters | {n_params:,} |
| layers | {c.num_hidden_layers} |
| hidden size | {c.hidden_size} |
| attention heads | {c.num_attention_heads} (head dim {c.hidden_size // c.num_attention_heads}) |
| key/value heads | {c.num_key_value_heads} (grouped-query attention) |
| MLP intermediate size | {c.intermediate_size} (SiLU, gated) |
| vocabulary | {c.vocab_size} (byte-fallback BPE, Llama-2 layout) |
| max positions | {c.max_position_embeddings} (RoPE, theta 10000) |
| RMSNorm eps | {c.rms_norm_eps} |
| tied embeddings | no |

Tokenizer: Llama-2 style. Normalizer `Prepend("▁")` + `Replace(" ", "▁")`, no pre-tokenizer, BPE with
byte fallback; ids 0/1/2 are `<unk>`/`<s>`/`</s>`, ids 3-258 are the byte tokens `<0x00>`..`<0xFF>`,
the rest are {c.vocab_size - 259} learned pieces. The post-processor prepends `<s>`; `</s>` ends a story.

## Data

Every byte of training text comes from `Scripts/default_model/make_corpus.py`, a seeded procedural
story generator: a dozen story arcs (a lost toy, sharing, a fear overcome, a new friend, helping an
animal, a treasure map, baking, a rainy day, not listening, saving up, a race, a picnic), each told
with several phrasings per beat, with named children and animals, places, objects, feelings, dialogue
and cause and effect. Training split: seed {make_corpus.TRAIN_SEED}, {make_corpus.TRAIN_MB:g} MB, {n_train:,} tokens.
Validation split: seed {make_corpus.VALID_SEED} (stories the model never saw), {make_corpus.VALID_MB:g} MB,
{n_valid:,} tokens. `sample.txt` here holds the first stories of the training split. Documents are fed as `<s> story </s>`,
packed into {a.seq_len}-token windows.

## Training

AdamW (betas 0.9/0.95, weight decay {a.weight_decay} on matrices), learning rate {a.lr} after {a.warmup} warmup
steps, held until step {decay_start(a)}, then cosine decay to {a.min_lr}, gradient clipping 1.0, batch {a.batch} x {a.seq_len} tokens,
{a.steps} steps ({tokens / 1e6:.1f}M tokens, {tokens / n_train:.1f} passes over the training split),
bfloat16 autocast with float32 master weights, seed {a.seed}. Trained for {fmt_time(state['elapsed'])}
(h:mm:ss) on 2 shared CPU threads.

| step | train loss (running avg) | validation loss (first 64 windows) |
|---|---|---|
{hist}

Final, measured on the float32 model before conversion to float16:

| split | loss (nats/token) | perplexity |
|---|---|---|
| train (first {n_valid // a.seq_len} windows) | {train_loss:.4f} | {math.exp(train_loss):.3f} |
| validation (all of it) | {valid_loss:.4f} | {math.exp(valid_loss):.3f} |

The generator's text is repetitive by design, so low perplexity here means "has learned the
generator's grammar and plots", nothing more.

## Samples

Reloaded from this folder with transformers in float32, at most 90 new tokens:

{shown}

## Re-creating it

```sh
pip install -r Scripts/requirements.txt
python3 Scripts/default_model/make_corpus.py        # -> /tmp/origami-default-model/corpus (optional)
python3 Scripts/default_model/train.py              # -> Models/default; resumable, rerun after a kill
```

`train.py` keeps its tokenizer, token files and checkpoints in `/tmp/origami-default-model/work`
(`--work-dir`); rerunning it after it finished only redoes the export. The corpus, tokenizer and batch
order are deterministic; bit-identical weights also need the same torch version and CPU kernels.

## License

The generator, the text it produces and these weights were made for Origami and are released under
the same license as the rest of the repository. No third-party text or model was used.
"""
    with open(os.path.join(a.out, "README.md"), "w") as f:
        f.write(card)


def main():
    a = parse_args()
    torch.set_num_threads(a.threads)
    os.makedirs(a.work_dir, exist_ok=True)
    train_path, valid_path = ensure_corpus(a)
    train_stories, valid_stories = read_stories(train_path), read_stories(valid_path)
    tok = ensure_tokenizer(a, train_stories)
    train_ids = ensure_tokens(a, tok, "train", train_stories)
    valid_ids = ensure_tokens(a, tok, "valid", valid_stories)
    model, state = train(a, train_ids, valid_ids)
    export(a, model, state, tok, train_ids, valid_ids, train_stories[:20])


if __name__ == "__main__":
    main()
