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
PROMPTS = ["Once upon a time", "The little dog", "One day, Mia", "Tom and his mom", "Lily and her friend"]


def log(msg):
    print(msg, flush=True)


def parse_cycles(text):
    out = []
    for part in text.split(","):
        steps, lr, warmup = part.split(":")
        out.append([int(steps), float(lr), int(warmup)])
    return out


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
    p.add_argument("--min-lr", type=float, default=1e-4)
    p.add_argument("--decay-frac", type=float, default=0.3,
                   help="fraction of each cycle's steps, at its end, over which the learning rate decays")
    p.add_argument("--cycles", type=parse_cycles, default="670:2e-3:60,250:1e-3:20,400:1.5e-3:20",
                   help="learning-rate cycles, run one after the other, as STEPS:PEAK_LR:WARMUP_STEPS,...")
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
    before each "▁" and around every punctuation mark, as SentencePiece does (split_by_whitespace,
    split_by_unicode_script), so that no merge crosses a word boundary or glues punctuation to a word;
    with such merges, BPE over the unsplit text yields the same pieces (checked below).

    Keeping punctuation apart matters for prompts: if "▁time," were one piece, the prompt "Once upon a
    time" would end in a "▁time" the model never saw after "Once upon a" and it would derail.
    """
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from tokenizers import trainers

    def llama_normalizer():
        return normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])

    learner = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True))
    learner.normalizer = llama_normalizer()
    learner.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex("▁"), behavior="merged_with_next"),
        pre_tokenizers.Split(Regex("[^A-Za-z0-9▁]"), behavior="isolated"),
    ])
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


def total_steps(a):
    return sum(c[0] for c in a.cycles)


def cycles(a):
    """(first step, end step, peak lr, warmup steps) of each learning-rate cycle."""
    out, start = [], 0
    for steps, lr, warmup in a.cycles:
        out.append((start, start + steps, lr, warmup))
        start += steps
    return out


def decay_start(a, cycle=0):
    s0, s1, _, _ = cycles(a)[cycle]
    return s1 - int(a.decay_frac * (s1 - s0))


def lr_at(a, step):
    """Each cycle: linear warmup, then constant, then a cosine decay to min_lr over its last decay_frac.

    Unlike a cosine over the whole run, the learning rate before a decay does not depend on where the
    run ends, so the length can be changed when resuming (see `train`) and the result is the same as
    if the run had been started with the new value. On a CPU shared with other jobs the throughput is
    hard to predict, and this lets a run be fitted to the time. A later cycle re-warms and continues
    training from where the previous one decayed (used when a run turned out to be too short)."""
    cyc = cycles(a)
    k = next((i for i, c in enumerate(cyc) if step < c[1]), len(cyc) - 1)
    s0, s1, peak, warmup = cyc[k]
    i = step - s0
    if i < warmup:
        return peak * (i + 1) / warmup
    d0 = decay_start(a, k) - s0
    if i < d0:
        return peak
    t = (i - d0) / max(1, (s1 - s0) - d0)
    return a.min_lr + 0.5 * (peak - a.min_lr) * (1 + math.cos(math.pi * min(1.0, t)))


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
                             {"params": no_decay, "weight_decay": 0.0}], lr=a.cycles[0][1], betas=(0.9, 0.95), eps=1e-8)
    hparams = {k: getattr(a, k) for k in ("vocab_size", "hidden", "layers", "heads", "kv_heads", "intermediate",
                                          "seq_len", "batch", "cycles", "min_lr", "decay_frac", "seed")}
    state = {"step": 0, "elapsed": 0.0, "history": [], "hparams": hparams}
    if os.path.exists(ckpt_path):
        state = torch.load(ckpt_path, weights_only=False)
        old = dict(state["hparams"])
        if "cycles" not in old:  # checkpoints written before --cycles existed
            old["cycles"] = [[old.pop("steps"), old.pop("lr"), old.pop("warmup")]]
            extra = [old.pop("extra_steps", 0), old.pop("extra_lr", 0.0), old.pop("extra_warmup", 0)]
            if extra[0]:
                old["cycles"].append(extra)
        # The schedule may change if every step taken so far had the learning rate the new settings
        # give it: then this run is exactly the run the new settings would have made.
        length_keys = ("cycles",)
        if all(old[k] == hparams[k] for k in hparams if k not in length_keys):
            then = argparse.Namespace(**dict(vars(a), **old))
            if all(lr_at(then, i) == lr_at(a, i) for i in range(state["step"])) and old != hparams:
                log(f"schedule length changed from {[old[k] for k in length_keys]} to "
                    f"{[hparams[k] for k in length_keys]}; the {state['step']} steps so far are unaffected")
                old = hparams
        state["hparams"] = old
        if old != hparams:
            sys.exit(f"checkpoint {ckpt_path} was made with other settings:\n  {state['hparams']}\n"
                     f"now:\n  {hparams}\nuse another --work-dir or delete it")
        model.load_state_dict(state.pop("model"))
        opt.load_state_dict(state.pop("optim"))
        log(f"resumed from {ckpt_path} at step {state['step']} ({fmt_time(state['elapsed'])} trained so far)")
    n_params = sum(p.numel() for p in model.parameters())
    log(f"model: {n_params:,} parameters; {total_steps(a)} steps x {a.batch} x {a.seq_len} tokens"
        f" = {total_steps(a) * a.batch * a.seq_len / 1e6:.1f}M tokens ({len(train_ids) / 1e6:.1f}M in the corpus)")

    def checkpoint():
        save_checkpoint(ckpt_path, dict(state, model=model.state_dict(), optim=opt.state_dict()))

    model.train()
    last_ckpt = time.time()
    window_t, window_tokens, ema = time.time(), 0, None
    end = total_steps(a)
    while state["step"] < end:
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
        if done % a.log_every == 0 or done == end:
            rate = window_tokens / max(1e-9, time.time() - window_t)
            eta = (end - done) * a.batch * a.seq_len / max(rate, 1e-9)
            log(f"step {done:5d}/{end}  loss {loss.item():.3f} (avg {ema:.3f})  lr {lr_at(a, step):.2e}"
                f"  {rate:6.0f} tok/s  trained {fmt_time(state['elapsed'])}  ETA {fmt_time(eta)}")
            window_t, window_tokens = time.time(), 0
        if done % a.eval_every == 0 or done == end:
            vl = evaluate(a, model, valid_ids, max_seqs=64)
            state["history"].append({"step": done, "train_loss": round(ema, 4), "valid_loss": round(vl, 4)})
            log(f"  eval at step {done}: valid loss {vl:.3f} (perplexity {math.exp(vl):.2f})")
            window_t, window_tokens = time.time(), 0  # don't count eval time against throughput
        if time.time() - last_ckpt > a.ckpt_minutes * 60 or done == end:
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
    chars_per_token = os.path.getsize(os.path.join(a.corpus, "train.txt")) / len(train_ids)
    write_card(a, state, m, train_loss, valid_loss, samples, len(train_ids), len(valid_ids), chars_per_token)
    sizes = {f: os.path.getsize(os.path.join(a.out, f)) for f in sorted(os.listdir(a.out))}
    log("\n" + "\n".join(f"  {f:28s} {s:>10,} bytes" for f, s in sizes.items()))


def write_card(a, state, m, train_loss, valid_loss, samples, n_train, n_valid, chars_per_token):
    n_params = sum(p.numel() for p in m.parameters())
    c = m.config
    hist = "\n".join(f"| {h['step']} | {h['train_loss']:.3f} | {h['valid_loss']:.3f} |" for h in state["history"])
    shown = "\n\n".join(f"**{p}**\n\n- greedy: {g}\n- sampled (T=0.8, top-p 0.9, seed {i}): {s}"
                        for i, (p, g, s) in enumerate(samples))
    tokens = total_steps(a) * a.batch * a.seq_len
    cyc = "\n".join(f"| {k + 1} | {s0}-{s1} | {lr} | {warm} | {decay_start(a, k)} |"
                    for k, (s0, s1, lr, warm) in enumerate(cycles(a)))
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

Tokenizer (`tokenizer.json`): Llama-2 style. Normalizer `Prepend("▁")` + `Replace(" ", "▁")`, no
pre-tokenizer, BPE with byte fallback; ids 0/1/2 are `<unk>`/`<s>`/`</s>`, ids 3-258 are the byte
tokens `<0x00>`..`<0xFF>`, the rest are {c.vocab_size - 259} learned pieces (merges were learned on text split at
word starts and around punctuation, so no piece glues a word to a comma). The post-processor prepends
`<s>` (`add_bos_token: true`); the model ends a story with `</s>`. About {chars_per_token:.2f} characters per token
on this text.

## Data

Every byte of training text comes from `Scripts/default_model/make_corpus.py`, a seeded procedural
story generator: a dozen story arcs (a lost toy, sharing, a fear overcome, a new friend, helping an
animal, a treasure map, baking, a rainy day, not listening, saving up, a race, a picnic), each told
with several phrasings per beat, with named children and animals, places, objects, feelings, dialogue
and cause and effect. `sample.txt` here holds the first stories of the training split.

- training split: seed {make_corpus.TRAIN_SEED}, {make_corpus.TRAIN_MB:g} MB, {n_train:,} tokens
- validation split: seed {make_corpus.VALID_SEED} (stories the model never saw), {make_corpus.VALID_MB:g} MB, {n_valid:,} tokens

Stories are fed as `<s> story </s>`, packed back to back into {a.seq_len}-token windows.

## Training

AdamW (betas 0.9/0.95, weight decay {a.weight_decay} on matrices), gradient clipping 1.0, batch {a.batch} x
{a.seq_len} tokens, {total_steps(a)} steps ({tokens / 1e6:.1f}M tokens, {tokens / n_train:.1f} passes over the training split),
bfloat16 autocast with float32 master weights, seed {a.seed}. Trained for {fmt_time(state['elapsed'])}
(h:mm:ss) on 2 CPU threads shared with other jobs (`--cycles {",".join(f"{c[0]}:{c[1]:g}:{c[2]}" for c in a.cycles)}`).

The learning rate runs in cycles: in each, a linear warmup to the peak, a constant stretch, and a
cosine decay to {a.min_lr} over the cycle's last {a.decay_frac:.0%}. The cycles after the first re-warm and
continue from where the previous one ended: the first was cut short to fit the shared CPU, and the
model had not yet learned to keep a story's names straight.

| cycle | steps | peak lr | warmup | decay from step |
|---|---|---|---|---|
{cyc}

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

Limitations: it only knows the generator's ~1,200 words and twelve plots. Sentences are almost always
grammatical, but it can lose track of who is who (give a new character a name already used, swap
names, or call a dog "the cat"), greedy decoding tends to repeat a sentence, and prompts unlike the
training stories get story-shaped but odd answers.

## Samples

Reloaded from this folder with transformers in float32 (`AutoModelForCausalLM`, `AutoTokenizer`),
at most 90 new tokens, so most stop mid-story:

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
