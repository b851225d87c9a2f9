"""Reference data made with Hugging Face transformers, for the tests in tests/*/Reference.

    python3 make_reference.py FIXTURES_DIR OUT_DIR

- f32 logits: the fixtures' reference logits turned out to match the bf16-rounded weights (computed in
  float32), not the f32 weights; this makes the f32 models' own logits and greedy continuations.
- r1 tokenizer: tokenizations and chat renders of the real DeepSeek-R1-Distill-Qwen tokenizer on
  strings chosen to stress the Qwen2 pre-tokenizer.
"""
import json
import os
import sys

import torch
from safetensors.torch import load_file, save_file
from transformers import AutoModelForCausalLM, AutoTokenizer

STRINGS = [
    "Hello world", "  Hello   world  ", "\n\n\nfoo\n\n", "\t\tindented\n\tline", "a\r\nb\rc\n",
    "1234567890", "3.14159e-10", "x=12345+67890", "Version 2.0.1-beta (build 20241231)",
    "甲乙两人轮流掷骰子，谁先掷出6谁赢，甲先掷，求甲获胜的概率。",
    "写一个 Python 函数判断回文字符串。",
    "如果所有猫都会飞，而咪咪是一只猫，那么咪咪会飞吗？",
    "鸡兔同笼，共有35个头，94条腿。", "日本語のテキストとカタカナ、ひらがな。", "한국어 문장입니다.",
    "Привет, мир! Как дела?", "Γειά σου Κόσμε", "مرحبا بالعالم", "שלום עולם", "नमस्ते दुनिया",
    "emoji 👍🏽 family 👨‍👩‍👧‍👦 flags 🇺🇸🇨🇳 ❤️", "🦙🦙🦙", "e\u0301 vs \u00e9, A\u030a vs \u00c5",
    "def fib(n):\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n",
    "for (int i = 0; i < n; ++i) { sum += a[i] * b[i]; }",
    "<think>\nLet me think.\n</think>\n\nThe answer is \\boxed{42}.",
    "<｜User｜>hi<｜Assistant｜><think>\n", "<｜begin▁of▁sentence｜><｜end▁of▁sentence｜>",
    "I'm, you're, he's, we'll, they'd, I've, DON'T, It'S", "   ", " ", "\u00a0non-breaking\u00a0space",
    "tab\tseparated\tvalues\t1\t2", "https://example.com/path?query=1&x=y#frag", "email@example.org",
    "$$$ %%% ^^^ &&& *** ((( )))", "😀😃😄😁😆😅😂🤣", "ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３", "ℌ𝔢𝔩𝔩𝔬 𝕎𝕠𝕣𝕝𝕕",
    "a" * 200, "ab " * 50, "\u200bzero\u200bwidth", "The quick brown fox jumps over the lazy dog.",
    "∫₀¹ x² dx = ⅓, ∑_{i=1}^n i = n(n+1)/2", "Ünïcödé 🦙.cpp — très cher!", "mixed中文and English混合",
    "𠀀𠀁 CJK extension B 𪚥", "Ǆǅǆ ﬁ ﬀ ẞß", "    def indented():\n\t\treturn  42  \n", "1,000,000.00 $ 99.9%",
]

CONVERSATIONS = [
    [{"role": "user", "content": "甲乙两人轮流掷骰子，谁先掷出6谁赢，甲先掷，求甲获胜的概率。"}],
    [{"role": "system", "content": "You are helpful."}, {"role": "user", "content": "What is 2+3?"}],
    [{"role": "user", "content": "What is 2+3?"},
     {"role": "assistant", "content": "<think>\n2 plus 3 is 5.\n</think>\n\nThe answer is 5."},
     {"role": "user", "content": "And times 4?"}],
]


def model_reference(fixtures, model, out_dir):
    gen = json.load(open(os.path.join(fixtures, model, "reference", "generation.json")))
    ref = load_file(os.path.join(fixtures, model, "reference", "logits.safetensors"))
    result = {"prompts": []}
    tensors = {}
    for variant in ("hf", "hf-bf16"):
        m = AutoModelForCausalLM.from_pretrained(os.path.join(fixtures, model, variant), torch_dtype=torch.float32,
                                                 attn_implementation="eager").eval()
        for i, p in enumerate(gen["prompts"]):
            ids = torch.tensor([p["ids"]])
            with torch.no_grad():
                logits = m(ids).logits[0].float()
            diff = (logits - ref[f"logits.{i}"]).abs().max().item()
            print(f"{model} {variant} prompt {i}: max |logits - fixture reference| = {diff:.3e}")
            if variant == "hf":
                tensors[f"logits.{i}"] = logits.contiguous()
                seq = list(p["ids"])
                for _ in range(24):
                    with torch.no_grad():
                        seq.append(int(m(torch.tensor([seq])).logits[0, -1].argmax()))
                result["prompts"].append({"ids": p["ids"], "greedy_24": seq[len(p["ids"]):]})
    save_file(tensors, os.path.join(out_dir, f"{model}-f32-logits.safetensors"))
    json.dump(result, open(os.path.join(out_dir, f"{model}-f32-generation.json"), "w"), indent=1)


def tokenizer_reference(fixtures, out_dir):
    tok = AutoTokenizer.from_pretrained(os.path.join(fixtures, "r1-qwen-tokenizer"))
    out = {"tokenization": [], "chat": []}
    for s in STRINGS:
        ids = tok.encode(s, add_special_tokens=False)
        out["tokenization"].append({"text": s, "ids": ids, "decoded": tok.decode(ids),
                                    "ids_with_special": tok.encode(s, add_special_tokens=True)})
    for conv in CONVERSATIONS:
        for agp in (True, False):
            text = tok.apply_chat_template(conv, tokenize=False, add_generation_prompt=agp)
            out["chat"].append({"messages": conv, "add_generation_prompt": agp, "text": text,
                                "ids": tok.encode(text, add_special_tokens=False)})
    json.dump(out, open(os.path.join(out_dir, "r1-tokenizer-reference.json"), "w", encoding="utf-8"),
              ensure_ascii=False, indent=1)


if __name__ == "__main__":
    fixtures, out_dir = sys.argv[1], sys.argv[2]
    for model in ("qwen2-micro", "qwen2-tiny"):
        model_reference(fixtures, model, out_dir)
    tokenizer_reference(fixtures, out_dir)
