// llama.cpp's side of bench/compare.sh. node-llama-cpp ships llama.cpp prebuilt but no llama-bench
// binary, so this drives its API the way `retort bench` measures, llama-bench's tests at depth:
// for each KV cache setting and depth d, one context of d + the longest test's tokens is filled with
// d random token ids (not timed); then pp (one batch of p random ids) and tg (n single-token
// decodes, no sampling) each get one warm-up and the measured repetitions, every run starting from
// the context cut back to its first d tokens. Tokens/s as mean ± sd.
//
// Usage: node llama-bench.mjs PEER_DIR MODEL.gguf [-p LIST] [-n LIST] [-d LIST] [-t THREADS] [-r REPS]
//            [--cache-type LIST]                                       -> one JSON object on stdout
// LIST is comma-separated. --cache-type items: `default` (what llama.cpp does with no options: its
// default KV type, f16, and flash attention "auto") or f32, f16, bf16, q8_0, q4_0 (keys and values of
// that type, flash attention on, which llama.cpp needs for a quantized V cache). Each result says
// which flash attention setting and KV types llama.cpp reported using (from its own log).
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const usage = "usage: node llama-bench.mjs PEER_DIR MODEL.gguf [-p LIST] [-n LIST] [-d LIST] [-t N] [-r N] [--cache-type LIST]";
const kvTypes = { f32: "F32", f16: "F16", bf16: "BF16", q8_0: "Q8_0", q4_0: "Q4_0" };

function fail(message) {
    console.error(`llama-bench.mjs: ${message}`);
    process.exit(2);
}

function counts(option, text) {
    return text.split(",").map((item, i) => {
        const trimmed = item.trim();
        if (!/^\d+$/.test(trimmed)) fail(`${option}: '${trimmed}' (item ${i + 1} of '${text}') is not a token count (a whole number, 0 or more)`);
        return Number(trimmed);
    });
}

function cacheTypes(text) {
    return text.split(",").map((item, i) => {
        const name = item.trim().toLowerCase();
        if (name !== "default" && !(name in kvTypes))
            fail(`--cache-type: '${item.trim()}' (item ${i + 1} of '${text}') is not one of default, ${Object.keys(kvTypes).join(", ")}`);
        return name;
    });
}

const [peerDir, modelPath, ...rest] = process.argv.slice(2);
if (!modelPath) fail(usage);
const settings = { p: "512", n: "128", d: "0", t: "0", r: "5", cacheType: "default" };
const flags = { "-p": "p", "-n": "n", "-d": "d", "-t": "t", "-r": "r", "--cache-type": "cacheType" };
for (let i = 0; i < rest.length; i += 2) {
    const key = flags[rest[i]];
    if (!key) fail(`unknown argument '${rest[i]}'; ${usage}`);
    if (rest[i + 1] === undefined) fail(`${rest[i]} needs a value`);
    settings[key] = rest[i + 1];
}
const prompts = counts("-p", settings.p), gens = counts("-n", settings.n), depths = counts("-d", settings.d);
const [threads] = counts("-t", settings.t), [reps] = counts("-r", settings.r);
const labels = cacheTypes(settings.cacheType);
if (reps < 1) fail(`-r must be at least 1, found ${reps}`);
if (prompts.every(p => p === 0) && gens.every(n => n === 0)) fail("nothing to measure: -p and -n are all 0");

const entry = path.join(peerDir, "node_modules", "node-llama-cpp", "dist", "index.js");
const { getLlama, LlamaLogLevel } = await import(pathToFileURL(path.resolve(entry)).href);

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

// llama.cpp's log is the only place that says what "auto" resolved to and which types the cache got;
// it is kept (info level) and read, and only warnings and errors are shown.
const log = [];
const llama = await getLlama({
    gpu: false, build: "never", maxThreads: threads, logLevel: LlamaLogLevel.info,
    logger: (level, message) => {
        log.push(message);
        if (level === LlamaLogLevel.error || level === LlamaLogLevel.fatal) process.stderr.write(`llama.cpp: ${message}\n`);
    },
});
const loadStart = performance.now();
const model = await llama.loadModel({ modelPath, gpuLayers: 0 });
const loadSeconds = (performance.now() - loadStart) / 1000;
// The token embedding's rows (the tokenizer's token list is not read with the file's metadata).
const embedding = (model.fileInfo.fullTensorInfo ?? model.fileInfo.tensorInfo ?? []).find(t => t.name === "token_embd.weight");
const vocab = Number(embedding?.dimensions?.[1] ?? 32000);
const trainContext = model.trainContextSize;
const randomIds = count => Array.from({ length: count }, () => Math.floor(random() * vocab));
const tests = depths.flatMap(d => [
    ...prompts.filter(p => p > 0).map(p => ({ test: "pp", n_prompt: p, n_gen: 0, n_depth: d, tokens: p })),
    ...gens.filter(n => n > 0).map(n => ({ test: "tg", n_prompt: 0, n_gen: n, n_depth: d, tokens: n })),
]);
const longest = Math.max(...tests.map(t => t.n_depth + t.tokens));
if (trainContext && longest > trainContext) fail(`a test needs ${longest} positions, more than the model's context of ${trainContext}`);

/** What llama.cpp logged while the context was made: flash attention as used, and the K and V types. */
async function contextFacts(first) {
    // Log lines cross from llama.cpp's thread asynchronously: wait (briefly) for the cache's line.
    for (let i = 0; i < 100 && !log.slice(first).some(l => /K \(\w+\):.*V \(\w+\):/.test(l)); i++)
        await new Promise(resolve => setTimeout(resolve, 10));
    const lines = log.slice(first);
    const find = re => lines.map(l => l.match(re)).find(m => m)?.[1];
    const asked = find(/flash_attn\s*=\s*(\w+)/);
    const resolved = find(/Flash Attention (?:was auto, set to )?(enabled|disabled)/i)?.toLowerCase();
    const kv = lines.map(l => l.match(/K \((\w+)\):.*V \((\w+)\):/)).find(m => m);
    return {
        flash_attention: resolved ?? (asked === "enabled" || asked === "disabled" ? asked : "unknown"),
        type_k: kv?.[1] ?? "unknown",
        type_v: kv?.[2] ?? "unknown",
    };
}

const fillBatch = 512;
async function fill(sequence, depth, label) {
    const start = performance.now();
    let lastReport = 0, reported = false;
    const what = `filling the context to depth ${depth} (${label})`;
    while (sequence.nextTokenIndex < depth) {
        await sequence.evaluateWithoutGeneratingNewTokens(randomIds(Math.min(fillBatch, depth - sequence.nextTokenIndex)));
        const elapsed = (performance.now() - start) / 1000;
        if (elapsed > 2 && elapsed - lastReport >= 5 && sequence.nextTokenIndex < depth) {
            console.error(`${what}: ${sequence.nextTokenIndex}/${depth} tokens, ${elapsed.toFixed(0)} s`);
            lastReport = elapsed;
            reported = true;
        }
    }
    if (reported) console.error(`${what}: done in ${((performance.now() - start) / 1000).toFixed(0)} s`);
}

/** One run on top of the first `depth` tokens; tokens per second. */
async function measure(sequence, test, depth) {
    if (sequence.nextTokenIndex > depth) await sequence.eraseContextTokenRanges([{ start: depth, end: sequence.nextTokenIndex }]);
    if (sequence.nextTokenIndex !== depth) throw new Error(`the context holds ${sequence.nextTokenIndex} tokens after cutting it back to ${depth}`);
    const ids = randomIds(test.tokens);
    const start = performance.now();
    if (test.test === "pp") await sequence.evaluateWithoutGeneratingNewTokens(ids);
    else for (const id of ids) await sequence.evaluateWithoutGeneratingNewTokens([id]);
    const seconds = (performance.now() - start) / 1000;
    if (sequence.nextTokenIndex !== depth + test.tokens) throw new Error(`expected ${depth + test.tokens} tokens in the context after ${test.test}, found ${sequence.nextTokenIndex}`);
    return test.tokens / seconds;
}

const results = [];
for (const label of labels) {
    const options = label === "default" ? {}
        : { flashAttention: true, experimentalKvCacheKeyType: kvTypes[label], experimentalKvCacheValueType: kvTypes[label] };
    for (const depth of depths) {
        const group = tests.filter(t => t.n_depth === depth);
        if (group.length === 0) continue;
        const longestTest = Math.max(...group.map(t => t.tokens));
        const first = log.length;
        const context = await model.createContext({
            contextSize: depth + longestTest,
            batchSize: Math.max(fillBatch, ...group.filter(t => t.test === "pp").map(t => t.tokens)),
            threads, sequences: 1, ...options,
        });
        const facts = await contextFacts(first);
        const sequence = context.getSequence();
        await fill(sequence, depth, label);
        for (const test of group) {
            // The warm-up: the whole prompt, or a few generation steps, as before depths existed.
            await measure(sequence, test.test === "pp" ? test : { ...test, tokens: Math.min(test.tokens, 4) }, depth);
            const samples = [];
            for (let i = 0; i < reps; i++) samples.push(await measure(sequence, test, depth));
            const { tokens, ...shape } = test;
            results.push({
                cache_type: label,
                flash_attention_requested: options.flashAttention ?? "auto",
                ...facts, ...shape,
                tokens_per_second: stats(samples),
            });
        }
        await context.dispose();
    }
}

const report = {
    model: modelPath,
    llama_cpp_build: llama.buildType + " " + (llama.llamaCppRelease?.release ?? ""),
    cpu_backend: llama.gpu === false ? "cpu" : String(llama.gpu),
    threads,
    repetitions: reps,
    load_seconds: loadSeconds,
    peak_rss_bytes: peakRss(),
    results,
};
await model.dispose();
console.log(JSON.stringify(report));
