// llama.cpp's side of bench/compare.sh. node-llama-cpp ships llama.cpp prebuilt but no llama-bench
// binary, so this drives its API the way `retort bench` measures: prompt processing is one batch of
// p random token ids into a cleared context, generation is n single-token decodes from a cleared
// context (no sampling), tokens/s as mean ± sd over the repetitions after one warm-up.
// Usage: node llama-bench.mjs PEER_DIR MODEL.gguf P N THREADS REPS  -> one JSON object on stdout
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [peerDir, modelPath, pArg, nArg, tArg, rArg] = process.argv.slice(2);
if (!rArg) {
    console.error("usage: node llama-bench.mjs PEER_DIR MODEL.gguf P N THREADS REPS");
    process.exit(2);
}
const [p, n, threads, reps] = [pArg, nArg, tArg, rArg].map(Number);
const entry = path.join(peerDir, "node_modules", "node-llama-cpp", "dist", "index.js");
const { getLlama, LlamaLogLevel } = await import(pathToFileURL(entry).href);

// A fixed-seed generator (mulberry32) so runs are repeatable.
let state = 1;
function random() {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

function stats(xs) {
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (xs.length - 1)) : 0;
    return { mean, sd, samples: xs };
}

function peakRss() {
    const line = fs.readFileSync("/proc/self/status", "utf8").split("\n").find(l => l.startsWith("VmHWM:"));
    return line ? Number(line.split(/\s+/)[1]) * 1024 : process.resourceUsage().maxRSS * 1024;
}

const llama = await getLlama({ gpu: false, build: "never", maxThreads: threads, logLevel: LlamaLogLevel.error });
const loadStart = performance.now();
const model = await llama.loadModel({ modelPath, gpuLayers: 0 });
const loadSeconds = (performance.now() - loadStart) / 1000;
const vocab = model.fileInsights.metadata?.tokenizer?.ggml?.tokens?.length ?? 32000;
const context = await model.createContext({
    contextSize: Math.max(p, n) + 16, batchSize: Math.max(p, 1), threads, sequences: 1,
});
const sequence = context.getSequence();
const randomIds = count => Array.from({ length: count }, () => Math.floor(random() * vocab));

async function runPrompt() {
    await sequence.clearHistory();
    const ids = randomIds(p);
    const start = performance.now();
    await sequence.evaluateWithoutGeneratingNewTokens(ids);
    return p / ((performance.now() - start) / 1000);
}

async function runGeneration(steps) {
    await sequence.clearHistory();
    const ids = randomIds(steps);
    const start = performance.now();
    for (let i = 0; i < steps; i++) await sequence.evaluateWithoutGeneratingNewTokens([ids[i]]);
    return steps / ((performance.now() - start) / 1000);
}

if (p > 0) await runPrompt();
if (n > 0) await runGeneration(Math.min(n, 4));
const pp = [], tg = [];
for (let i = 0; i < reps; i++) {
    if (p > 0) pp.push(await runPrompt());
    if (n > 0) tg.push(await runGeneration(n));
}
const report = {
    model: modelPath,
    llama_cpp_build: llama.buildType + " " + (llama.llamaCppRelease?.release ?? ""),
    cpu_backend: llama.gpu === false ? "cpu" : String(llama.gpu),
    threads,
    n_prompt: p,
    n_gen: n,
    repetitions: reps,
    load_seconds: loadSeconds,
    pp_tokens_per_second: p > 0 ? stats(pp) : null,
    tg_tokens_per_second: n > 0 ? stats(tg) : null,
    peak_rss_bytes: peakRss(),
};
await context.dispose();
await model.dispose();
console.log(JSON.stringify(report));
