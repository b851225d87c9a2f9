#!/usr/bin/env python3
"""Trains a small byte-level BPE tokenizer for the tiny demo models (models/retort-tiny-tokenizer).

R1's tokenizer has 151k entries; for models with a hidden size of 128-256 its embedding would be
most of the parameters, so the demo uses 256 byte tokens plus a few hundred merges learned from the
synthetic task text, and R1's special tokens and chat template (opening <think> after the assistant
tag). The pre-tokenizer is Qwen2's split with single digits (numbers stay digit by digit, which
helps arithmetic). Deterministic: ties in pair counts are broken by the pair itself.

usage: train-bpe.py --data tasks.jsonl [--data more.jsonl] --merges 500 --out DIR
"""
import argparse
import json
import os
import unicodedata
from collections import Counter

import regex

SPLIT = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
BOS, EOS, USER, ASSISTANT = "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", "<｜User｜>", "<｜Assistant｜>"
SPECIAL = [(EOS, True), (USER, False), (ASSISTANT, False), (BOS, True), ("<think>", False), ("</think>", False)]
TEMPLATE = (
    "{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}"
    "{% set ns = namespace(system_prompt='') %}"
    "{%- for message in messages %}{%- if message['role'] == 'system' %}{% set ns.system_prompt = message['content'] %}{%- endif %}{%- endfor %}"
    "{{bos_token}}{{ns.system_prompt}}"
    "{%- for message in messages %}"
    "{%- if message['role'] == 'user' %}{{'<｜User｜>' + message['content']}}{%- endif %}"
    "{%- if message['role'] == 'assistant' %}{% set content = message['content'] %}"
    "{% if '</think>' in content %}{% set content = content.split('</think>')[-1] %}{% endif %}"
    "{{'<｜Assistant｜>' + content + '<｜end▁of▁sentence｜>'}}{%- endif %}"
    "{%- endfor -%}"
    "{% if add_generation_prompt %}{{'<｜Assistant｜><think>\\n'}}{% endif %}"
)


def byte_alphabet():
    """GPT-2's reversible map from bytes to printable characters (the ByteLevel pre-tokenizer)."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    chars, extra = {}, 0
    for b in range(256):
        if b in printable:
            chars[b] = chr(b)
        else:
            chars[b] = chr(256 + extra)
            extra += 1
    return chars


def texts(paths):
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for line in f:
                item = json.loads(line)
                for key in ("prompt", "reasoning", "answer"):
                    if item.get(key):
                        yield item[key]


def train(paths, merges_wanted):
    alphabet = byte_alphabet()
    words = Counter()
    for text in texts(paths):
        for piece in regex.findall(SPLIT, unicodedata.normalize("NFC", text)):
            words[tuple(alphabet[b] for b in piece.encode("utf-8"))] += 1
    words = [(list(w), n) for w, n in words.items()]
    merges = []
    for _ in range(merges_wanted):
        pairs = Counter()
        for symbols, n in words:
            for a, b in zip(symbols, symbols[1:]):
                pairs[(a, b)] += n
        if not pairs:
            break
        best = min(pairs.items(), key=lambda kv: (-kv[1], kv[0]))[0]
        if pairs[best] < 2:
            break
        merges.append(best)
        joined = best[0] + best[1]
        for symbols, _ in words:
            i = 0
            while i < len(symbols) - 1:
                if symbols[i] == best[0] and symbols[i + 1] == best[1]:
                    symbols[i:i + 2] = [joined]
                i += 1
    vocab = {alphabet[b]: b for b in range(256)}
    for a, b in merges:
        vocab.setdefault(a + b, len(vocab))
    return vocab, merges


def write(out, vocab, merges):
    os.makedirs(out, exist_ok=True)
    added = [{"id": len(vocab) + i, "content": c, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": s} for i, (c, s) in enumerate(SPECIAL)]
    bos_id = next(a["id"] for a in added if a["content"] == BOS)
    tokenizer = {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
        "normalizer": {"type": "NFC"},
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": SPLIT}, "behavior": "Isolated", "invert": False},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}]},
        "post_processor": {"type": "TemplateProcessing",
                           "single": [{"SpecialToken": {"id": BOS, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
                           "pair": [{"SpecialToken": {"id": BOS, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                                    {"SpecialToken": {"id": BOS, "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
                           "special_tokens": {BOS: {"id": BOS, "ids": [bos_id], "tokens": [BOS]}}},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": vocab, "merges": [[a, b] for a, b in merges]},
    }
    config = {"backend": "tokenizers", "bos_token": BOS, "eos_token": EOS, "pad_token": EOS,
              "clean_up_tokenization_spaces": False, "model_max_length": 4096,
              "tokenizer_class": "TokenizersBackend", "chat_template": TEMPLATE}
    for name, obj in (("tokenizer.json", tokenizer), ("tokenizer_config.json", config)):
        with open(os.path.join(out, name), "w", encoding="utf-8") as f:
            json.dump(obj, f, ensure_ascii=False, indent=1)
            f.write("\n")
    with open(os.path.join(out, "chat_template.jinja"), "w", encoding="utf-8") as f:
        f.write(TEMPLATE)
    print(f"{out}: {len(vocab)} tokens ({len(merges)} merges) + {len(SPECIAL)} special, total {len(vocab) + len(SPECIAL)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", action="append", required=True)
    parser.add_argument("--merges", type=int, default=500)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    write(args.out, *train(args.data, args.merges))
