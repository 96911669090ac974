#!/usr/bin/env python3
"""Load benchmark for `origami serve`: throughput and latency as the number of concurrent clients grows.

    python3 Scripts/bench_serve.py --origami .build/release/origami --model scratch/bench/tinyllama-f16 \\
        [--clients 1,4,16] [--requests-per-client 4] [--max-tokens 64] [--prompt-tokens 32] [--parallel 16] \\
        [--threads N] [--json PATH] [-- extra serve args...]
    python3 Scripts/bench_serve.py --base-url http://127.0.0.1:8080/v1 [--api-key KEY] ...   # a running server

For each client count C, C concurrent workers (asyncio + openai.AsyncOpenAI) each send R streaming completions
(temperature 0, ignore_eos, so every request generates exactly --max-tokens tokens). Per request it records the time
to the first token chunk (TTFT) and to the end; per C it reports requests/s, total generated tokens/s, p50/p99
TTFT, the median per-stream decode rate, and the total tokens/s relative to the smallest C (the batching speed-up).
Not run by CI.
"""

import argparse
import asyncio
import json
import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import openai

WORDS = ("the quick brown fox jumps over a lazy dog while small birds sing in tall green trees near an old stone "
         "bridge and children play by the river on a warm summer day").split()


def parse_args():
    argv = sys.argv[1:]
    extra = []
    if "--" in argv:  # everything after `--` goes to `origami serve` unchanged
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1:]
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--origami", help="origami binary (starts a server)")
    ap.add_argument("--model", help="model directory for the started server")
    ap.add_argument("--base-url", help="use a running server, e.g. http://127.0.0.1:8080/v1")
    ap.add_argument("--api-key", help="API key the client sends (and a started server requires)")
    ap.add_argument("--clients", default="1,4,16", help="comma-separated concurrent client counts")
    ap.add_argument("--requests-per-client", type=int, default=4)
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--prompt-tokens", type=int, default=32, help="prompt length in words (about tokens)")
    ap.add_argument("--parallel", type=int, default=0, help="server --parallel (default: the largest client count)")
    ap.add_argument("--threads", type=int, help="server --threads")
    ap.add_argument("--port", type=int, default=0, help="port for the started server (default: a free one)")
    ap.add_argument("--startup-timeout", type=float, default=600, help="seconds to wait for /health")
    ap.add_argument("--json", help="also write the results as JSON here")
    args = ap.parse_args(argv)
    args.extra = extra
    args.clients = [int(c) for c in args.clients.split(",") if c.strip()]
    if not args.base_url and not (args.origami and args.model):
        ap.error("give --origami and --model, or --base-url")
    return args


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(args):
    """Start `origami serve`; returns (process, base_url, log file)."""
    port = args.port or free_port()
    parallel = args.parallel or max(args.clients)
    cmd = [os.path.abspath(args.origami), "serve", "--model", args.model, "--host", "127.0.0.1", "--port", str(port),
           "--parallel", str(parallel), "--max-queue", "64"]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    if args.api_key:
        cmd += ["--api-key", args.api_key]
    cmd += args.extra
    print("starting:", " ".join(cmd), file=sys.stderr)
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log)
    root = f"http://127.0.0.1:{port}"
    deadline = time.time() + args.startup_timeout
    while True:
        if proc.poll() is not None:
            log.seek(0)
            sys.exit(f"server exited with code {proc.returncode}:\n{log.read().decode(errors='replace')[-8000:]}")
        try:
            with urllib.request.urlopen(root + "/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if time.time() > deadline:
            proc.kill()
            sys.exit(f"server not healthy after {args.startup_timeout:.0f} s")
        time.sleep(0.25)
    return proc, root + "/v1", log


def peak_rss(pid):
    """VmHWM (peak resident set) of a process in bytes, or None."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def prompt_for(index, words):
    """About `words` words, different for each request (no two prompts share a long prefix)."""
    return " ".join(WORDS[(index * 7 + i) % len(WORDS)] for i in range(words))


def percentile(values, p):
    """Nearest-rank percentile (p in 0…100) of a non-empty list."""
    s = sorted(values)
    return s[min(len(s) - 1, max(0, math.ceil(p / 100 * len(s)) - 1))]


async def one_request(client, model, prompt, max_tokens):
    """One streaming completion; returns its timings and token count."""
    t0 = time.perf_counter()
    ttft, chunks, tokens = None, 0, None
    # logprobs=0 makes the server send one chunk per token, even for tokens whose text is empty or held back
    # (random bench models decode to little text), so the first chunk marks the first token.
    stream = await client.completions.create(
        model=model, prompt=prompt, max_tokens=max_tokens, temperature=0, stream=True, logprobs=0,
        stream_options={"include_usage": True}, extra_body={"ignore_eos": True})
    async for chunk in stream:
        if chunk.choices and (chunk.choices[0].text or chunk.choices[0].logprobs):
            chunks += 1
            if ttft is None:
                ttft = time.perf_counter() - t0
        if chunk.usage is not None:
            tokens = chunk.usage.completion_tokens
    end = time.perf_counter() - t0
    if ttft is None:
        ttft = end
    return {"ttft": ttft, "latency": end, "tokens": tokens if tokens is not None else chunks}


async def run_level(client, model, clients, args):
    """C concurrent workers, R sequential requests each; returns the level's summary."""
    results, errors = [], []

    async def worker(w):
        for r in range(args.requests_per_client):
            try:
                prompt = prompt_for(w * args.requests_per_client + r, args.prompt_tokens)
                results.append(await one_request(client, model, prompt, args.max_tokens))
            except openai.APIError as e:
                errors.append(f"{type(e).__name__}: {e}")

    t0 = time.perf_counter()
    await asyncio.gather(*(worker(w) for w in range(clients)))
    wall = time.perf_counter() - t0
    if not results:
        return {"clients": clients, "requests": 0, "errors": len(errors), "first_error": errors[0] if errors else None}
    total_tokens = sum(r["tokens"] for r in results)
    decode = [(r["tokens"] - 1) / (r["latency"] - r["ttft"]) for r in results
              if r["tokens"] > 1 and r["latency"] > r["ttft"]]
    return {
        "clients": clients,
        "requests": len(results),
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
        "wall_s": wall,
        "requests_per_s": len(results) / wall,
        "tokens": total_tokens,
        "tokens_per_s": total_tokens / wall,
        "ttft_p50_s": percentile([r["ttft"] for r in results], 50),
        "ttft_p99_s": percentile([r["ttft"] for r in results], 99),
        "latency_p50_s": percentile([r["latency"] for r in results], 50),
        "stream_tokens_per_s_p50": percentile(decode, 50) if decode else None,
    }


async def bench(args, base_url):
    client = openai.AsyncOpenAI(base_url=base_url, api_key=args.api_key or "none", max_retries=0, timeout=3600)
    try:
        model = (await client.models.list()).data[0].id
        print(f"model {model}; warming up", file=sys.stderr)
        await client.completions.create(model=model, prompt=prompt_for(0, args.prompt_tokens), max_tokens=8,
                                        temperature=0)
        levels = []
        for c in args.clients:
            print(f"{c} client(s) x {args.requests_per_client} requests ...", file=sys.stderr)
            level = await run_level(client, model, c, args)
            if level["errors"]:
                print(f"  {level['errors']} failed request(s), first: {level['first_error']}", file=sys.stderr)
            levels.append(level)
        return model, levels
    finally:
        await client.close()


def fmt(x, spec):
    return "-" if x is None else format(x, spec)


def report(model, levels, args, rss):
    base = next((lv for lv in levels if lv.get("tokens_per_s")), None)
    for lv in levels:
        lv["speedup"] = lv["tokens_per_s"] / base["tokens_per_s"] if base and lv.get("tokens_per_s") else None
    print(f"\n`origami serve` {model}: prompt ~{args.prompt_tokens} words, {args.max_tokens} tokens per request, "
          f"{args.requests_per_client} requests per client\n")
    print("| clients | requests | errors | req/s | tokens/s | vs first | TTFT p50 (ms) | TTFT p99 (ms) "
          "| per-stream tok/s |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for lv in levels:
        ms = lambda k: None if lv.get(k) is None else lv[k] * 1000  # noqa: E731
        print(f"| {lv['clients']} | {lv['requests']} | {lv['errors']} | {fmt(lv.get('requests_per_s'), '.2f')} "
              f"| {fmt(lv.get('tokens_per_s'), '.1f')} | {fmt(lv.get('speedup'), '.2f')}x "
              f"| {fmt(ms('ttft_p50_s'), '.0f')} | {fmt(ms('ttft_p99_s'), '.0f')} "
              f"| {fmt(lv.get('stream_tokens_per_s_p50'), '.1f')} |")
    if rss is not None:
        print(f"\nserver peak RSS (VmHWM): {rss / 2**20:.0f} MiB")
    if args.json:
        out = {"model": model, "max_tokens": args.max_tokens, "prompt_words": args.prompt_tokens,
               "requests_per_client": args.requests_per_client, "server_peak_rss_bytes": rss, "levels": levels}
        with open(args.json, "w") as f:
            json.dump(out, f, indent=2)
        print(f"wrote {args.json}", file=sys.stderr)


def main():
    args = parse_args()
    proc = log = None
    base_url = args.base_url
    if not base_url:
        proc, base_url, log = start_server(args)
    rss = None
    try:
        model, levels = asyncio.run(bench(args, base_url))
        if proc is not None:
            rss = peak_rss(proc.pid)
    except BaseException:
        if log is not None:
            log.seek(0)
            print(f"server log (tail):\n{log.read().decode(errors='replace')[-4000:]}", file=sys.stderr)
        raise
    finally:
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    report(model, levels, args, rss)


if __name__ == "__main__":
    main()
