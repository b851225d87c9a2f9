// Concurrent streaming clients against a running `retort serve`: aggregate generation tokens/s.
// Usage: node bench/serve-load.mjs BASE_URL CLIENTS MAX_TOKENS
// Each client streams /v1/chat/completions with a prompt of its own, greedy, ignore_eos (fixed length).
const [base, clientsArg, maxArg] = process.argv.slice(2);
if (!base) throw new Error("usage: node bench/serve-load.mjs BASE_URL CLIENTS MAX_TOKENS");
const clients = Number(clientsArg ?? 1), maxTokens = Number(maxArg ?? 64);

async function stream(i) {
  const started = performance.now();
  const response = await fetch(new URL("/v1/chat/completions", base), {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({
      messages: [{ role: "user", content: `client ${i}: 甲乙两人轮流掷骰子，谁先掷出6谁赢，甲先掷，求甲获胜的概率。` }],
      stream: true, max_tokens: maxTokens, ignore_eos: true, temperature: 0,
    }),
  });
  if (!response.ok) throw new Error(`client ${i}: ${response.status} ${await response.text()}`);
  const decoder = new TextDecoder();
  let text = "", tokens = 0;
  for await (const part of response.body) text += decoder.decode(part, { stream: true });
  for (const line of text.split("\n\n")) {
    if (!line.startsWith("data: {")) continue;
    const usage = JSON.parse(line.slice(6)).usage;
    if (usage) tokens = usage.completion_tokens;
  }
  if (tokens !== maxTokens) throw new Error(`client ${i}: ${tokens} tokens, expected ${maxTokens}`);
  return { tokens, seconds: (performance.now() - started) / 1000 };
}

const started = performance.now();
const results = await Promise.all(Array.from({ length: clients }, (_, i) => stream(i)));
const wall = (performance.now() - started) / 1000;
const total = results.reduce((s, r) => s + r.tokens, 0);
const mean = xs => xs.reduce((s, x) => s + x, 0) / xs.length;
console.log(JSON.stringify({
  clients, maxTokens, totalTokens: total, wallSeconds: +wall.toFixed(2),
  aggregateTokensPerSecond: +(total / wall).toFixed(2),
  perClientTokensPerSecond: +mean(results.map(r => r.tokens / r.seconds)).toFixed(2),
}));
